"""Tensor parallelism (Megatron-LM): one layer's weight matrices cut across devices, joined by all-reduce.

An MLP block Z = ReLU(X A + a) B + b (A: h x f, B: f x h) is split over t
devices the way Shoeybi et al. (2019) split a transformer's MLP: A by
columns and B by rows. Device i computes Y_i = ReLU(X A_i + a_i) from the
whole input (no communication: the columns are independent, and so is the
element-wise ReLU), then its partial output Z_i = Y_i B_i; the block's
output is the sum over devices, one all-reduce. Backward mirrors it: each
device gets the whole dZ, computes its own dB_i, dA_i and a partial dX_i,
and one all-reduce sums the dX_i. So a block costs two all-reduces of
batch x h elements per step; a ring moves 2(t-1)/t of that per device.

Each shard is an actor on its own device (`DeviceMemory` counts its slice of
the weights, their gradients and its stored activations); the all-reduces
are `dsai.parallel.collectives`' ring over a `CollectiveGroup` whose ranks
sit on the shards' nodes, so the bytes are read from the network counters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from dsai import ray
from dsai.errors import ParallelConfigError
from dsai.models.layers import Linear, ReLU
from dsai.parallel.collectives import AllReduceRun, allreduce
from dsai.parallel.device import DeviceMemory, DeviceSpec, current_spec
from dsai.parallel.group import CollectiveGroup
from dsai.parallel.placement import device_nodes, pin

__all__ = ["TensorShard", "TensorParallelRun", "check_block", "split_columns", "split_rows",
           "run_tensor_parallel", "theory_allreduce_bytes"]


def theory_allreduce_bytes(degree: int, batch: int, hidden: int, itemsize: int = 8) -> float:
    """Bytes one device sends in one ring all-reduce of a batch x hidden activation: 2(t-1)/t x B x h x bytes."""
    return 2 * (degree - 1) / degree * batch * hidden * itemsize


def check_block(layers: Sequence) -> tuple[Linear, Linear]:
    """The block's two Linear layers, if `layers` is Linear(h, f), ReLU, Linear(f, h)."""
    layers = list(getattr(layers, "layers", layers))
    if (len(layers) != 3 or not isinstance(layers[0], Linear) or not isinstance(layers[1], ReLU)
            or not isinstance(layers[2], Linear)):
        raise ParallelConfigError(f"a tensor-parallel block is Linear(h, f), ReLU, Linear(f, h); got "
                                  f"{layers!r}")
    first, second = layers[0], layers[2]
    if first.n_out != second.n_in:
        raise ParallelConfigError(f"the block's inner widths differ ({first!r} then {second!r})")
    return first, second


def split_columns(W: np.ndarray, degree: int) -> list[np.ndarray]:
    """W (in, out) cut into `degree` equal blocks of columns (out / degree each)."""
    _check_degree(W.shape[1], degree)
    return [c.copy() for c in np.split(W, degree, axis=1)]


def split_rows(W: np.ndarray, degree: int) -> list[np.ndarray]:
    """W (in, out) cut into `degree` equal blocks of rows (in / degree each)."""
    _check_degree(W.shape[0], degree)
    return [r.copy() for r in np.split(W, degree, axis=0)]


def _check_degree(width: int, degree: int) -> None:
    if isinstance(degree, bool) or not isinstance(degree, int) or degree < 1:
        raise ParallelConfigError(f"the tensor-parallel degree must be a whole number >= 1, got {degree!r}")
    if width % degree:
        raise ParallelConfigError(f"a tensor-parallel degree of {degree} does not divide the hidden "
                                  f"width {width}: pick a degree that divides {width}")


class TensorShard:
    """Device i's slice of the block: A's columns i, a's entries i, B's rows i (and b on device 0)."""

    def __init__(self, rank: int, spec: DeviceSpec) -> None:
        self.rank, self.spec = rank, spec
        self.memory = DeviceMemory(f"GPU {rank}", spec.memory)

    def load(self, A: np.ndarray, a: np.ndarray, B: np.ndarray, b: np.ndarray | None) -> None:
        # b is added by one device only, so the all-reduce's sum contains it once.
        self.params = [np.array(A), np.array(a), np.array(B)] + ([np.array(b)] if b is not None else [])
        self.memory.hold("parameters", "block", self.params)
        self.grads = [np.zeros_like(p) for p in self.params]
        self.memory.hold("gradients", "block", self.grads)

    def forward(self, x: np.ndarray) -> np.ndarray:
        A, a, B = self.params[:3]
        self.spec.compute(2.0 * len(x) * (A.size + B.size))
        h = x @ A + a                  # (batch, f / t): this device's columns
        mask = h > 0
        y = h * mask
        self.saved = (x, mask, y)
        self.memory.hold("activations", "block", self.saved)
        z = y @ B                      # (batch, hidden): a partial sum over the f / t rows
        return z + self.params[3] if len(self.params) == 4 else z

    def backward(self, dz: np.ndarray) -> np.ndarray:
        A, _, B = self.params[:3]
        x, mask, y = self.saved
        self.spec.compute(4.0 * len(x) * (A.size + B.size))
        dB = y.T @ dz
        dh = (dz @ B.T) * mask
        grads = [x.T @ dh, dh.sum(axis=0), dB] + ([dz.sum(axis=0)] if len(self.params) == 4 else [])
        for acc, g in zip(self.grads, grads):
            acc += g
        self.memory.drop("activations", "block")
        return dh @ A.T                # (batch, hidden): a partial sum of dX

    def gradients(self) -> list[np.ndarray]:
        return self.grads

    def memory_summary(self) -> dict[str, Any]:
        return self.memory.summary()



@dataclass
class TensorParallelRun:
    """One forward and backward of the block over `degree` devices, and what its all-reduces cost."""

    degree: int
    batch: int
    hidden: int
    output: np.ndarray = field(repr=False)  # Z, (batch, hidden)
    input_grad: np.ndarray = field(repr=False)  # dX, (batch, hidden)
    grads: list[np.ndarray] = field(repr=False)  # dW1, db1, dW2, db2 of the unsplit block
    allreduces: list[AllReduceRun] = field(repr=False)  # [forward, backward]
    memory: list[dict[str, Any]] = field(repr=False)

    @property
    def theory_bytes(self) -> float:
        return theory_allreduce_bytes(self.degree, self.batch, self.hidden)

    @property
    def allreduce_bytes_per_device(self) -> list[int]:
        """Array bytes the busiest device sent in each all-reduce (the collective's ledger)."""
        return [r.payload_sent_max for r in self.allreduces]

    @property
    def wire_bytes_per_device(self) -> list[int | None]:
        """Bytes the busiest device sent in each all-reduce, from the network's counters."""
        return [r.wire_sent_max for r in self.allreduces]

    def __repr__(self) -> str:
        return (f"TensorParallelRun(t={self.degree}, batch {self.batch} x hidden {self.hidden}: "
                f"{len(self.allreduces)} all-reduces of {self.allreduce_bytes_per_device} bytes per "
                f"device, theory {self.theory_bytes:,.0f})")


def run_tensor_parallel(block: Sequence, x: np.ndarray, dz: np.ndarray, degree: int, *,
                        spec: DeviceSpec | None = None, num_gpus: float = 1) -> TensorParallelRun:
    """Forward `x` and backward `dz` through `block` (Linear, ReLU, Linear) split over `degree` devices.

    Start the devices first (`dsai.parallel.device.start_devices(degree)`).
    Returns the output, the input's gradient and the unsplit block's parameter
    gradients assembled from the shards, with the two all-reduces measured.
    """

    first, second = check_block(block)
    _check_degree(first.n_out, degree)
    x, dz = np.asarray(x, dtype=np.float64), np.asarray(dz, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != first.n_in or dz.shape != (len(x), second.n_out):
        raise ParallelConfigError(f"x must be (batch, {first.n_in}) and dz (batch, {second.n_out}); "
                                  f"got {x.shape} and {dz.shape}")
    spec = spec or current_spec()  # the spec start_devices gave the cluster
    nodes = device_nodes(degree, num_gpus)  # one node per device, while the nodes' GPUs last
    # One options call: real Ray's options() result has no .options() of its own.
    shards = [ray.remote(TensorShard).options(num_gpus=num_gpus, **pin(n)).remote(i, spec)
              for i, n in enumerate(nodes)]
    group = CollectiveGroup(degree, nodes=nodes)
    try:
        A, a, B = split_columns(first.W, degree), np.split(first.b, degree), split_rows(second.W, degree)
        ray.get([s.load.remote(A[i], a[i], B[i], second.b if i == 0 else None)
                 for i, s in enumerate(shards)])
        # Forward: no communication until the partial outputs are summed (one all-reduce).
        group.load([s.forward.remote(x) for s in shards])
        forward = allreduce(group, "ring")
        z = group.values()[0]
        # Backward: every device gets the whole dz; one all-reduce sums the partial dX.
        group.load([s.backward.remote(dz) for s in shards])
        backward = allreduce(group, "ring")
        dx = group.values()[0]

        parts = ray.get([s.gradients.remote() for s in shards])
        grads = [np.concatenate([p[0] for p in parts], axis=1), np.concatenate([p[1] for p in parts]),
                 np.concatenate([p[2] for p in parts], axis=0), parts[0][3]]
        memory = ray.get([s.memory_summary.remote() for s in shards])
    finally:  # a failed step (out of memory) must not leave the devices held
        for actor in shards + group.ranks:
            ray.kill(actor)
    return TensorParallelRun(degree, len(x), second.n_out, z, dx, grads, [forward, backward], memory)
