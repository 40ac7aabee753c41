"""Experiment: Megatron tensor parallelism of an MLP block, the all-reduce bytes beside 2(t-1)/t x B x h x 8.

One block Z = ReLU(X A) B (h = 1024, f = 4096, batch 64, float64) split over
t devices; one forward and one backward step. Each row: the payload one
device sent per all-reduce (from the collective's ledger), the bytes the
network counted (payload plus a pickle header per ring piece), the formula,
how many all-reduces the block needed, and the largest difference of the
output and gradients from the unsplit block.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dsai.models.layers import Linear, ReLU
from dsai.parallel.device import start_devices
from dsai.parallel.report import Column, Progress, Section
from dsai.parallel.tensor import TensorParallelRun, run_tensor_parallel

__all__ = ["HIDDEN", "INNER", "BATCH", "DEGREES", "block_and_batch", "reference", "measure", "run"]

HIDDEN, INNER, BATCH = 1024, 4096, 64  # ring pieces of 64 x 1024 x 8 / t >= 128 KiB: transfers
DEGREES = (1, 2, 4)


def block_and_batch(seed: int = 0) -> tuple[list, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    block = [Linear(HIDDEN, INNER, rng), ReLU(), Linear(INNER, HIDDEN, rng)]
    block[0].b[:] = rng.normal(size=INNER)
    block[2].b[:] = rng.normal(size=HIDDEN)
    return block, rng.normal(size=(BATCH, HIDDEN)), rng.normal(size=(BATCH, HIDDEN))


def reference(block: list, x: np.ndarray, dz: np.ndarray) -> tuple[np.ndarray, np.ndarray, list]:
    """The unsplit block's output, input gradient and parameter gradients."""
    caches, y = [], x
    for layer in block:
        y, c = layer.forward(y)
        caches.append(c)
    g, grads = dz, []
    for layer, c in zip(block[::-1], caches[::-1]):
        g, gs = layer.backward(g, c)
        grads = gs + grads
    return y, g, grads


def max_abs_diff(run: TensorParallelRun, ref: tuple) -> float:
    y, dx, grads = ref
    return max([float(np.abs(run.output - y).max()), float(np.abs(run.input_grad - dx).max())]
               + [float(np.abs(a - b).max()) for a, b in zip(run.grads, grads)])


def measure(degree: int, seed: int = 0) -> tuple[TensorParallelRun, float]:
    block, x, dz = block_and_batch(seed)
    start_devices(degree, seed=seed)
    r = run_tensor_parallel(block, x, dz, degree)
    return r, max_abs_diff(r, reference(block, x, dz))


def row(r: TensorParallelRun, diff: float) -> dict[str, Any]:
    return {"degree": r.degree, "batch": r.batch, "hidden": r.hidden,
            "allreduces_per_block": len(r.allreduces),
            "allreduce_bytes_per_device": r.allreduce_bytes_per_device[0],
            "wire_bytes_per_device": r.wire_bytes_per_device[0],
            "theory_bytes": r.theory_bytes, "max_abs_diff": diff}


def run(progress: Progress) -> Section:
    rows = []
    for t in DEGREES:
        rows.append(row(*measure(t)))
        progress(f"[tensor] t={t}: {rows[-1]['allreduce_bytes_per_device']:,} bytes per device per "
                 f"all-reduce (theory {rows[-1]['theory_bytes']:,.0f})")
    return Section("tensor", "Tensor parallelism (Megatron MLP block, h=1024, f=4096, batch 64)", rows,
                   [Column("degree", "t"), Column("allreduces_per_block", "all-reduces"),
                    Column("allreduce_bytes_per_device", "bytes/device/all-reduce", "{:,}"),
                    Column("theory_bytes", "2(t-1)/t·B·h·8", "{:,.0f}"),
                    Column("wire_bytes_per_device", "wire bytes", "{:,}"),
                    Column("max_abs_diff", "max |split - unsplit|", "{:.1e}")],
                   ["wire bytes come from the network's counters: the payload plus a pickle header per ring piece"])
