"""Experiment: data-parallel SGD gives the weights of one worker on the whole batch.

Four workers on their own nodes, each on a quarter of the digits training
set, ring all-reduce their share of the gradient for 10 full-batch steps;
one worker takes the same 10 steps on the whole set. The largest weight
difference is floating-point rounding (the additions happen in another
order), and the course's bound is 1e-10.
"""

from __future__ import annotations

from dsai.parallel.data_parallel import equivalence
from dsai.parallel.placement import start_cluster
from dsai.parallel.report import Column, Progress, Section

__all__ = ["WORKERS", "STEPS", "BOUND", "run"]

WORKERS, STEPS, LR, BOUND = 4, 10, 0.5, 1e-10


def run(progress: Progress) -> Section:
    start_cluster(WORKERS)
    diff = equivalence(WORKERS, STEPS, LR, algorithm="ring")
    progress(f"[equivalence] {WORKERS} workers x {STEPS} steps: max |w_dp - w_single| = {diff:.2e}")
    data = {"data_parallel_max_abs_diff": diff, "workers": WORKERS, "steps": STEPS,
            "learning_rate": LR, "algorithm": "ring", "bound": BOUND}
    return Section("equivalence", "Data parallelism = one worker on the whole batch (digits MLP)", data,
                   [Column("workers", "N"), Column("steps", "steps"), Column("algorithm", "all-reduce"),
                    Column("data_parallel_max_abs_diff", "max |w_dp - w_1|", "{:.2e}"),
                    Column("bound", "bound", "{:g}")])
