"""Layers with hand-written backprop: the unit of work a device owns when a model is split.

Every layer follows one pattern (micrograd's lesson: learn it once):

    y, cache = layer.forward(x)          # cache: what backward needs
    dx, grads = layer.backward(dy, cache)  # grads: one array per layer.params, same shapes

Layers keep no activations between calls (everything backward needs is in
the cache), so several micro-batches can be in flight at once, as in a
pipeline. All arithmetic is float64.

FLOP rule (the cost callers declare with `dsai.sim.compute(flops=...)`):
only the matrix multiplications are counted, one multiply-add = 2 FLOPs.
A Linear layer's forward costs 2 * in * out per sample; its backward costs
twice that, 4 * in * out per sample (one matmul for dx, one for dW). Bias
adds, activations and the softmax are O(in + out) per sample and counted as
zero, which is the usual "6 x parameters x samples" rule for one training
step (Kaplan et al. 2020).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np

__all__ = ["Layer", "Linear", "ReLU", "Tanh", "softmax_cross_entropy"]


class Layer(ABC):
    """A differentiable function with (possibly no) parameters."""

    params: list[np.ndarray] = []
    param_names: tuple[str, ...] = ()

    @abstractmethod
    def forward(self, x: np.ndarray) -> tuple[np.ndarray, Any]:
        """(y, cache): the output and what backward needs."""

    @abstractmethod
    def backward(self, dy: np.ndarray, cache: Any) -> tuple[np.ndarray, list[np.ndarray]]:
        """(dx, grads): the input's gradient and one gradient per array in `params`."""

    @property
    def num_params(self) -> int:
        return int(sum(p.size for p in self.params))

    def flops_forward(self, batch: int) -> float:
        """FLOPs of one forward pass over `batch` samples (see the module's rule)."""
        return 0.0

    def flops_backward(self, batch: int) -> float:
        """FLOPs of one backward pass over `batch` samples (twice the forward for a matmul)."""
        return 2.0 * self.flops_forward(batch)


class Linear(Layer):
    """y = x @ W + b, with W of shape (in, out): a fully connected layer."""

    param_names = ("W", "b")

    def __init__(self, n_in: int, n_out: int, rng: np.random.Generator | None = None,
                 gain: float = 2.0) -> None:
        if int(n_in) < 1 or int(n_out) < 1:
            raise ValueError(f"a Linear layer needs n_in >= 1 and n_out >= 1, got ({n_in!r}, {n_out!r})")
        self.n_in, self.n_out = int(n_in), int(n_out)
        rng = rng if rng is not None else np.random.default_rng(0)
        # He initialisation (gain 2 for ReLU): keeps activations' variance ~1 layer to layer.
        self.W = rng.normal(0.0, np.sqrt(gain / self.n_in), size=(self.n_in, self.n_out))
        self.b = np.zeros(self.n_out)
        self.params = [self.W, self.b]

    def bind(self, W: np.ndarray, b: np.ndarray) -> None:
        """Make the layer's parameters views of given arrays (e.g. slices of a flat vector)."""
        W[...] = self.W
        b[...] = self.b
        self.W, self.b = W, b
        self.params = [W, b]

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if x.ndim != 2 or x.shape[1] != self.n_in:
            raise ValueError(f"Linear({self.n_in}, {self.n_out}) expects input of shape (batch, "
                             f"{self.n_in}), got {x.shape}: reshape the batch or fix the layer sizes")
        return x @ self.W + self.b, x  # (B, out); cache the input for dW

    def backward(self, dy: np.ndarray, cache: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        x = cache
        dW = x.T @ dy          # (in, out)
        db = dy.sum(axis=0)    # (out,)
        dx = dy @ self.W.T     # (B, in)
        return dx, [dW, db]

    def flops_forward(self, batch: int) -> float:
        return 2.0 * self.n_in * self.n_out * batch

    def __repr__(self) -> str:
        return f"Linear({self.n_in}, {self.n_out})"


class ReLU(Layer):
    """y = max(x, 0), elementwise."""

    def __init__(self) -> None:
        self.params = []

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mask = x > 0
        return x * mask, mask

    def backward(self, dy: np.ndarray, cache: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        return dy * cache, []

    def __repr__(self) -> str:
        return "ReLU()"


class Tanh(Layer):
    """y = tanh(x), elementwise."""

    def __init__(self) -> None:
        self.params = []

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        y = np.tanh(x)
        return y, y

    def backward(self, dy: np.ndarray, cache: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        return dy * (1.0 - cache * cache), []

    def __repr__(self) -> str:
        return "Tanh()"


def softmax_cross_entropy(logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of softmax(logits) against integer labels, and its gradient.

    Returns (loss, dlogits), dlogits of the same shape as logits: (softmax - onehot) / batch.
    """
    if logits.ndim != 2:
        raise ValueError(f"logits must have shape (batch, classes), got {logits.shape}")
    labels = np.asarray(labels)
    if labels.shape != (logits.shape[0],):
        raise ValueError(f"labels must have shape ({logits.shape[0]},) to match the batch of logits, "
                         f"got {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= logits.shape[1]):
        raise ValueError(f"labels must be class numbers 0..{logits.shape[1] - 1}, got values "
                         f"{labels.min()}..{labels.max()}: the model's output size must match the classes")
    shifted = logits - logits.max(axis=1, keepdims=True)  # for exp's range; softmax is shift-invariant
    exp = np.exp(shifted)
    total = exp.sum(axis=1, keepdims=True)
    probs = exp / total
    n = logits.shape[0]
    rows = np.arange(n)
    # -log softmax[label] = log(sum exp) - shifted[label]: finite even when softmax underflows to 0
    loss = float((np.log(total[:, 0]) - shifted[rows, labels]).mean())
    dlogits = probs
    dlogits[rows, labels] -= 1.0
    return loss, dlogits / n
