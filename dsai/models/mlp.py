"""A model whose weights are one flat vector: what a parameter server stores and shards.

`MLP` stacks `Linear` and activation layers (see `dsai.models.layers`) and
keeps every weight and bias as a view into ONE contiguous float64 vector,
`model.params`, in layer order (W1, b1, W2, b2, ...). So a parameter server
can own the whole vector, k server shards can each own a contiguous key range
of it, and a gradient is a vector of the same length. `model.layers` gives
the layers one by one for model parallelism (split the list across devices).

    model = MLP([64, 32, 10], seed=0)
    loss, grad = model.loss_and_grad(x, y)   # grad: flat, len(model.params)
    model.params -= 0.1 * grad               # one SGD step, in place
    dsai.sim.compute(flops=model.flops_step(len(x)))  # declare its cost

Initialisation is seeded (same seed, same weights, byte for byte).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from dsai.models.layers import Layer, Linear, ReLU, Tanh, softmax_cross_entropy

__all__ = ["MLP", "SoftmaxRegression", "ParamRange"]

_ACTIVATIONS = {"relu": ReLU, "tanh": Tanh}


class ParamRange:
    """Where one parameter array lives in the flat vector: params[start:stop].reshape(shape)."""

    __slots__ = ("name", "layer", "start", "stop", "shape")

    def __init__(self, name: str, layer: int, start: int, stop: int, shape: tuple[int, ...]) -> None:
        self.name, self.layer, self.start, self.stop, self.shape = name, layer, start, stop, shape

    def __repr__(self) -> str:
        return f"ParamRange({self.name!r}, layer={self.layer}, [{self.start}:{self.stop}], shape={self.shape})"


class MLP:
    """A multi-layer perceptron (Linear, activation, ..., Linear) trained with softmax cross-entropy."""

    def __init__(self, sizes: Sequence[int] = (64, 32, 10), *, seed: int = 0,
                 activation: str = "relu") -> None:
        sizes = list(sizes)
        if len(sizes) < 2 or any(not isinstance(s, (int, np.integer)) or s < 1 for s in sizes):
            raise ValueError(f"sizes must list at least 2 positive integers (inputs, ..., classes), "
                             f"got {sizes!r}: e.g. [64, 32, 10] for digits")
        if activation not in _ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}: use one of {sorted(_ACTIVATIONS)}")
        self.sizes = [int(s) for s in sizes]
        self.activation = activation
        self.seed = seed
        rng = np.random.default_rng(seed)
        layers: list[Layer] = []
        for i, (a, b) in enumerate(zip(self.sizes[:-1], self.sizes[1:])):
            last = i == len(self.sizes) - 2
            layers.append(Linear(a, b, rng, gain=1.0 if last or activation == "tanh" else 2.0))
            if not last:
                layers.append(_ACTIVATIONS[activation]())
        self.layers = layers
        # One buffer; each layer's W and b become views into it (layer order).
        self.params = np.empty(sum(layer.num_params for layer in layers))
        self.ranges: list[ParamRange] = []
        offset = 0
        for li, layer in enumerate(layers):
            if isinstance(layer, Linear):
                w_stop = offset + layer.W.size
                b_stop = w_stop + layer.b.size
                k = len([r for r in self.ranges if r.name.startswith("W")]) + 1
                self.ranges.append(ParamRange(f"W{k}", li, offset, w_stop, layer.W.shape))
                self.ranges.append(ParamRange(f"b{k}", li, w_stop, b_stop, layer.b.shape))
                layer.bind(self.params[offset:w_stop].reshape(layer.W.shape), self.params[w_stop:b_stop])
                offset = b_stop

    # --- the flat vector -------------------------------------------------
    @property
    def num_params(self) -> int:
        return int(self.params.size)

    def get_params(self) -> np.ndarray:
        """A copy of the flat parameter vector."""
        return self.params.copy()

    def set_params(self, flat: np.ndarray) -> None:
        """Overwrite every weight from a flat vector (e.g. the one a server sent)."""
        flat = np.asarray(flat)
        if flat.shape != self.params.shape:
            raise ValueError(f"parameter vector has shape {flat.shape}, this model needs "
                             f"({self.num_params},): was it made for another model size?")
        self.params[...] = flat

    def layer_range(self, layer: int) -> tuple[int, int]:
        """The [start, stop) of layer `layer`'s parameters in the flat vector (empty for activations)."""
        own = [r for r in self.ranges if r.layer == layer]
        if not own:
            return (0, 0)
        return own[0].start, own[-1].stop

    # --- compute ---------------------------------------------------------
    def forward(self, x: np.ndarray) -> tuple[np.ndarray, list[Any]]:
        """Logits (batch, classes) and the per-layer caches backward needs."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.sizes[0]:
            raise ValueError(f"{self!r} expects inputs of shape (batch, {self.sizes[0]}), got {x.shape}")
        caches = []
        for layer in self.layers:
            x, cache = layer.forward(x)
            caches.append(cache)
        return x, caches

    def backward(self, dlogits: np.ndarray, caches: list[Any]) -> np.ndarray:
        """The flat gradient vector, from the logits' gradient and forward's caches."""
        grad = np.empty_like(self.params)
        dy = dlogits
        ranges = {r.layer: [] for r in self.ranges}
        for r in self.ranges:
            ranges[r.layer].append(r)
        for li in range(len(self.layers) - 1, -1, -1):
            dy, grads = self.layers[li].backward(dy, caches[li])
            for r, g in zip(ranges.get(li, []), grads):
                grad[r.start:r.stop] = g.ravel()
        return grad

    def loss_and_grad(self, x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        """Mean softmax cross-entropy on (x, y) and its gradient as a flat vector."""
        logits, caches = self.forward(x)
        loss, dlogits = softmax_cross_entropy(logits, y)
        return loss, self.backward(dlogits, caches)

    def loss(self, x: np.ndarray, y: np.ndarray) -> float:
        return softmax_cross_entropy(self.forward(x)[0], y)[0]

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The most likely class of each row of x."""
        return self.forward(x)[0].argmax(axis=1)

    def accuracy(self, x: np.ndarray, y: np.ndarray) -> float:
        """The fraction of rows of x classified as their label."""
        return float((self.predict(x) == np.asarray(y)).mean())

    # --- cost ------------------------------------------------------------
    def flops_forward(self, batch: int) -> float:
        """FLOPs of a forward pass on `batch` samples: sum of 2 * in * out * batch over Linear layers."""
        return float(sum(layer.flops_forward(batch) for layer in self.layers))

    def flops_backward(self, batch: int) -> float:
        """FLOPs of a backward pass: twice the forward (dx and dW each cost a matmul)."""
        return float(sum(layer.flops_backward(batch) for layer in self.layers))

    def flops_step(self, batch: int) -> float:
        """FLOPs of forward + backward on `batch` samples (about 6 x weights x batch)."""
        return self.flops_forward(batch) + self.flops_backward(batch)

    # Pickling (Ray ships models to actors) would copy each array on its own and
    # break the views into the flat vector: rebuild the layers and reload the vector.
    def __getstate__(self) -> dict[str, Any]:
        return {"sizes": self.sizes, "activation": self.activation, "seed": self.seed,
                "params": self.params}

    def __setstate__(self, state: dict[str, Any]) -> None:
        MLP.__init__(self, state["sizes"], seed=state["seed"], activation=state["activation"])
        self.params[...] = state["params"]

    def __repr__(self) -> str:
        shape = "-".join(str(s) for s in self.sizes)
        return f"MLP({shape}, {self.activation}, {self.num_params:,} params, seed={self.seed})"


class SoftmaxRegression(MLP):
    """Multinomial logistic regression: one Linear layer and a softmax (an MLP with no hidden layer)."""

    def __init__(self, n_in: int = 64, n_classes: int = 10, *, seed: int = 0) -> None:
        super().__init__([n_in, n_classes], seed=seed)

    def __repr__(self) -> str:
        return f"SoftmaxRegression({self.sizes[0]} -> {self.sizes[1]}, {self.num_params:,} params, seed={self.seed})"
