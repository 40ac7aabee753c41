"""Each layer's hand-written backward agrees with a numerical gradient."""

import numpy as np
import pytest

from dsai.models import Linear, ReLU, Tanh, softmax_cross_entropy


@pytest.mark.parametrize("layer", [Linear(5, 3, np.random.default_rng(1)), ReLU(), Tanh()],
                         ids=repr)
def test_layer_backward_matches_numerical_gradient(layer, numerical_grad):
    rng = np.random.default_rng(2)
    n_in = layer.n_in if isinstance(layer, Linear) else 3
    x = rng.normal(size=(4, n_in)) + 0.05  # away from ReLU's kink at 0
    w = rng.normal(size=layer.forward(x)[0].shape)  # loss = sum(w * y): dy = w

    def loss() -> float:
        return float((w * layer.forward(x)[0]).sum())

    y, cache = layer.forward(x)
    dx, grads = layer.backward(w, cache)
    assert np.allclose(dx, numerical_grad(loss, x), atol=1e-7)
    assert len(grads) == len(layer.params)
    for p, g in zip(layer.params, grads):
        assert g.shape == p.shape
        assert np.allclose(g, numerical_grad(loss, p), atol=1e-7)


def test_softmax_cross_entropy_gradient_and_value(numerical_grad):
    rng = np.random.default_rng(3)
    logits = rng.normal(size=(6, 4))
    labels = np.array([0, 1, 2, 3, 0, 1])
    loss, d = softmax_cross_entropy(logits.copy(), labels)
    num = numerical_grad(lambda: softmax_cross_entropy(logits.copy(), labels)[0], logits)
    assert np.allclose(d, num, atol=1e-8)
    # uniform logits: loss is log(classes)
    assert softmax_cross_entropy(np.zeros((2, 4)), np.array([1, 2]))[0] == pytest.approx(np.log(4))


def test_softmax_cross_entropy_rejects_bad_labels():
    with pytest.raises(ValueError, match=r"class numbers 0..3"):
        softmax_cross_entropy(np.zeros((2, 4)), np.array([0, 4]))
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        softmax_cross_entropy(np.zeros((2, 4)), np.array([0, 1, 2]))


def test_linear_flops_rule():
    layer = Linear(64, 32)
    assert layer.flops_forward(10) == 2 * 64 * 32 * 10
    assert layer.flops_backward(10) == 4 * 64 * 32 * 10
    assert ReLU().flops_forward(10) == 0.0


def test_linear_rejects_mismatched_input():
    with pytest.raises(ValueError, match=r"\(batch, 64\), got \(2, 63\)"):
        Linear(64, 32).forward(np.zeros((2, 63)))
