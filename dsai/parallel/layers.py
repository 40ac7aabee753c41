"""Layers a model-parallel run can cut between: each one's forward and backward stand alone.

Pipeline parallelism puts consecutive layers on different devices, and
tensor parallelism cuts one linear layer's weight matrix into pieces; both
need layers that run one at a time, keep exactly what their backward pass
needs (the *stored activations*) and count their own work. A layer here is
a small object with `forward(x) -> (y, saved)`, `backward(dy, saved) ->
(dx, grads)`, its `params` and `flops(batch)`; `Sequential` chains them and
`softmax_cross_entropy` ends a model. Matrix multiply FLOPs follow the usual
convention (2·batch·in·out forward, twice that backward); element-wise work
is not counted.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from dsai.errors import ParallelConfigError

__all__ = ["Linear", "ReLU", "mlp", "linear_count", "softmax_cross_entropy", "forward_backward"]


class Linear:
    """y = x @ W + b, with W of shape (fan_in, fan_out)."""

    def __init__(self, W: np.ndarray, b: np.ndarray) -> None:
        self.W = np.array(W, dtype=np.float64)
        self.b = np.array(b, dtype=np.float64)

    @property
    def params(self) -> list[np.ndarray]:
        return [self.W, self.b]

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, tuple]:
        return x @ self.W + self.b, (x,)  # (batch, fan_out); keeps its input for dW

    def backward(self, dy: np.ndarray, saved: tuple) -> tuple[np.ndarray, list[np.ndarray]]:
        (x,) = saved
        return dy @ self.W.T, [x.T @ dy, dy.sum(axis=0)]

    def flops(self, batch: int, backward: bool = False) -> float:
        fan_in, fan_out = self.W.shape
        return (4.0 if backward else 2.0) * batch * fan_in * fan_out

    def __repr__(self) -> str:
        return f"Linear({self.W.shape[0]} -> {self.W.shape[1]})"


class ReLU:
    """y = max(x, 0); keeps the boolean mask of where x > 0."""

    params: list[np.ndarray] = []

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, tuple]:
        mask = x > 0
        return x * mask, (mask,)

    def backward(self, dy: np.ndarray, saved: tuple) -> tuple[np.ndarray, list[np.ndarray]]:
        (mask,) = saved
        return dy * mask, []

    def flops(self, batch: int, backward: bool = False) -> float:
        return 0.0

    def __repr__(self) -> str:
        return "ReLU()"


def mlp(sizes: Sequence[int], seed: int = 0) -> list:
    """Linear, ReLU, Linear, ..., Linear for layer widths `sizes` (He initialisation, seeded)."""
    sizes = [int(s) for s in sizes]
    if len(sizes) < 2 or min(sizes) < 1:
        raise ParallelConfigError(f"an MLP needs at least two positive widths (input, output), got {sizes!r}")
    rng = np.random.default_rng(seed)
    layers: list = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        W = rng.normal(0.0, np.sqrt(2.0 / fan_in), size=(fan_in, fan_out))
        layers.append(Linear(W, np.zeros(fan_out)))
        if i < len(sizes) - 2:
            layers.append(ReLU())
    return layers


def linear_count(layers: Sequence) -> int:
    return sum(isinstance(layer, Linear) for layer in layers)


def softmax_cross_entropy(logits: np.ndarray, labels: np.ndarray, scale: float = 1.0
                          ) -> tuple[float, np.ndarray]:
    """Summed cross-entropy times `scale`, and its gradient with respect to the logits.

    A micro-batch of a batch of B uses scale 1/B, so the micro-batches' gradients
    add up to the whole batch's mean-loss gradient.
    """
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    rows = np.arange(len(labels))
    loss = -log_p[rows, labels].sum() * scale
    grad = np.exp(log_p)
    grad[rows, labels] -= 1.0
    return float(loss), grad * scale


def forward_backward(layers: Sequence, x: np.ndarray, labels: np.ndarray
                     ) -> tuple[float, list[list[np.ndarray]]]:
    """The unsplit reference: mean loss over the batch and every layer's parameter gradients."""
    saved = []
    for layer in layers:
        x, s = layer.forward(x)
        saved.append(s)
    loss, dy = softmax_cross_entropy(x, labels, 1.0 / len(labels))
    grads: list[list[np.ndarray]] = [[] for _ in layers]
    for i in range(len(layers) - 1, -1, -1):
        dy, grads[i] = layers[i].backward(dy, saved[i])
    return loss, grads
