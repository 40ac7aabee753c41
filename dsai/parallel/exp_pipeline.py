"""Experiment: pipeline schedules on stage actors, the measured bubble beside its formula.

An MLP of 8 equal linear layers (128 wide, so every stage does the same
work) trains one step on a batch of 1,024, pipelined over p simulated
devices. For each schedule and (p, m[, v]) the row gives the bubble measured
from `ray.timeline()` (idle stage-time / (stages x makespan)) beside GPipe's
(p-1)/(m+p-1) (naive: (p-1)/p; interleaved: ((p-1)/v)/(m+(p-1)/v)) and
Megatron's (p-1)/m, (1/v)(p-1)/m; the most micro-batch activation sets each
stage stored (GPipe: m; 1F1B: p - d on stage d); and the bytes that crossed
between stages (each micro-batch's activation forward and gradient back
over each of the p x v - 1 cuts, plus a pickle header per transfer).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dsai.models import MLP
from dsai.parallel import schedule as sched
from dsai.parallel.device import DeviceSpec, start_devices
from dsai.parallel.pipeline import PipelineRun, run_pipeline
from dsai.parallel.report import Column, Progress, Section

__all__ = ["WIDTH", "LAYERS", "BATCH", "SPEC", "CASES", "model_and_batch", "measure", "row", "run"]

WIDTH, LAYERS, BATCH = 128, 8, 1024  # micro-batches of 128+ rows x 128 float64 >= 128 KiB: transfers
SPEC = DeviceSpec(memory=32 * 2**20, flops=2.5e8)  # a small device: a layer's step 17 ms, a hop 0.2 ms
# (schedule, stages p, micro-batches m, chunks v): two or more (p, m) pairs per schedule.
CASES = [("naive", 2, 1, 1), ("naive", 4, 1, 1),
         ("gpipe", 2, 4, 1), ("gpipe", 4, 4, 1), ("gpipe", 4, 8, 1),
         ("1f1b", 2, 4, 1), ("1f1b", 4, 4, 1), ("1f1b", 4, 8, 1),
         ("interleaved", 2, 4, 2), ("interleaved", 4, 4, 2), ("interleaved", 4, 8, 2)]


def model_and_batch(seed: int = 0) -> tuple[MLP, np.ndarray, np.ndarray]:
    model = MLP([WIDTH] * (LAYERS + 1), seed=seed)
    rng = np.random.default_rng(seed)
    return model, rng.normal(size=(BATCH, WIDTH)), rng.integers(0, WIDTH, size=BATCH)


def measure(schedule: str, stages: int, microbatches: int, chunks: int = 1, seed: int = 0) -> PipelineRun:
    """One pipelined step on a fresh cluster of `stages` devices."""
    model, x, y = model_and_batch(seed)
    start_devices(stages, SPEC, seed=seed)
    return run_pipeline(model, x, y, stages=stages, microbatches=microbatches, schedule=schedule,
                        chunks=chunks, spec=SPEC)


def row(r: PipelineRun) -> dict[str, Any]:
    return {
        "schedule": r.schedule, "stages": r.stages, "microbatches": r.microbatches, "chunks": r.chunks,
        "bubble_fraction": r.bubble_fraction, "theory_bubble_fraction": r.theory_bubble_fraction,
        "megatron_bubble_fraction": r.megatron_bubble,
        "peak_activations": r.peak_activations,
        "theory_peak_activations": sched.theory_peak_activations(r.schedule, r.stages, r.microbatches,
                                                                 r.chunks),
        "bytes_between_stages": r.bytes_between_stages,
        "theory_payload_bytes": (r.stages * r.chunks - 1) * r.microbatches * 2
        * (BATCH // r.microbatches) * WIDTH * 8,
        "makespan_s": r.makespan,
    }


def run(progress: Progress) -> Section:
    rows = []
    for case in CASES:
        rows.append(row(measure(*case)))
        r = rows[-1]
        progress(f"[pipeline] {r['schedule']} p={r['stages']} m={r['microbatches']} v={r['chunks']}: "
                 f"bubble {r['bubble_fraction']:.4f} (theory {r['theory_bubble_fraction']:.4f})")
    lst = lambda v: " ".join(map(str, v))  # noqa: E731
    return Section("pipeline", "Pipeline schedules: bubble and stored activations (8 x 128 MLP, batch 1,024)",
                   rows, [Column("schedule", "schedule"), Column("stages", "p"),
                          Column("microbatches", "m"), Column("chunks", "v"),
                          Column("bubble_fraction", "bubble", "{:.4f}"),
                          Column("theory_bubble_fraction", "theory", "{:.4f}"),
                          Column("megatron_bubble_fraction", "(p-1)/(vm)", "{:.3f}"),
                          Column("peak_activations", "peak act. / stage", lst),
                          Column("theory_peak_activations", "theory", lst),
                          Column("bytes_between_stages", "bytes between stages", "{:,}"),
                          Column("theory_payload_bytes", "payload theory", "{:,}")],
                   ["bubble: idle stage-time / (stages x makespan) from ray.timeline(); theory: (p-1)/(m+p-1) "
                    "(naive (p-1)/p, interleaved ((p-1)/v)/(m+(p-1)/v)); the gap is the 0.2 ms links"])
