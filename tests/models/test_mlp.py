"""The MLP: flat parameter vector, numerical gradient check, FLOP rule, determinism."""

import pickle

import numpy as np
import pytest

from dsai.models import MLP, Linear, SoftmaxRegression, load_digits


@pytest.mark.parametrize("model", [MLP([5, 4, 3], seed=1), MLP([5, 4, 4, 3], seed=2, activation="tanh"),
                                   SoftmaxRegression(5, 3, seed=3)], ids=repr)
def test_flat_gradient_matches_numerical_gradient(model, numerical_grad):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(7, 5))
    y = rng.integers(0, 3, size=7)
    loss, grad = model.loss_and_grad(x, y)
    assert grad.shape == model.params.shape
    num = numerical_grad(lambda: model.loss(x, y), model.params)
    assert np.allclose(grad, num, atol=1e-7), np.abs(grad - num).max()


def test_params_are_one_flat_vector_viewed_by_the_layers():
    m = MLP([64, 32, 10], seed=0)
    assert m.num_params == 64 * 32 + 32 + 32 * 10 + 10 == 2410
    assert [(r.name, r.start, r.stop) for r in m.ranges] == [
        ("W1", 0, 2048), ("b1", 2048, 2080), ("W2", 2080, 2400), ("b2", 2400, 2410)]
    m.params[0] = 123.0  # writing the flat vector writes the layer's weight
    assert m.layers[0].W[0, 0] == 123.0
    assert m.layer_range(0) == (0, 2080) and m.layer_range(1) == (0, 0)
    v = np.arange(m.num_params, dtype=float)
    m.set_params(v)
    assert m.layers[2].b[-1] == 2409.0
    assert m.get_params() is not m.params


def test_layerwise_forward_backward_equals_the_model():
    """Model parallelism splits model.layers: chaining them by hand gives the same gradient."""
    m = MLP([8, 6, 5, 3], seed=4)
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(4, 8)), np.array([0, 1, 2, 1])
    h, caches = x, []
    for layer in m.layers:
        h, c = layer.forward(h)
        caches.append(c)
    from dsai.models import softmax_cross_entropy
    _, d = softmax_cross_entropy(h, y)
    grads = {}
    for i in reversed(range(len(m.layers))):
        d, grads[i] = m.layers[i].backward(d, caches[i])
    flat = np.concatenate([g.ravel() for i in sorted(grads) for g in grads[i]])
    assert np.array_equal(flat, m.loss_and_grad(x, y)[1])


def test_set_params_rejects_wrong_length():
    with pytest.raises(ValueError, match=r"shape \(3,\).*\(2410,\)"):
        MLP([64, 32, 10]).set_params(np.zeros(3))


@pytest.mark.parametrize("sizes", [[64], [64, 0, 10], [64, 2.5, 10]])
def test_bad_sizes_are_rejected(sizes):
    with pytest.raises(ValueError, match="sizes must list"):
        MLP(sizes)


def test_unknown_activation():
    with pytest.raises(ValueError, match="unknown activation 'gelu'"):
        MLP([4, 2], activation="gelu")


def test_seeded_initialisation_is_byte_identical():
    assert MLP([64, 32, 10], seed=7).params.tobytes() == MLP([64, 32, 10], seed=7).params.tobytes()
    assert not np.array_equal(MLP([64, 32, 10], seed=7).params, MLP([64, 32, 10], seed=8).params)


def test_pickled_model_keeps_its_views():
    m = MLP([6, 4, 3], seed=1)
    m2 = pickle.loads(pickle.dumps(m))
    assert np.array_equal(m2.params, m.params)
    m2.params[:] = 0.0
    assert not m2.layers[0].W.any()  # still views of the flat vector


def test_flops_rule_is_six_times_weights_times_batch():
    m = MLP([64, 32, 10])
    weights = 64 * 32 + 32 * 10
    assert m.flops_forward(8) == 2 * weights * 8
    assert m.flops_backward(8) == 4 * weights * 8
    assert m.flops_step(8) == 6 * weights * 8


def test_plain_sgd_learns_digits():
    data = load_digits()
    m = MLP([64, 32, 10], seed=0)
    rng = np.random.default_rng(1)
    for _ in range(300):
        idx = rng.integers(0, len(data.y_train), 64)
        _, g = m.loss_and_grad(data.x_train[idx], data.y_train[idx])
        m.params -= 0.5 * g
    assert m.accuracy(data.x_test, data.y_test) >= 0.95


def test_repr():
    assert repr(MLP([64, 32, 10], seed=3)) == "MLP(64-32-10, relu, 2,410 params, seed=3)"
    assert repr(SoftmaxRegression()) == "SoftmaxRegression(64 -> 10, 650 params, seed=0)"
    assert repr(Linear(3, 2)) == "Linear(3, 2)"
