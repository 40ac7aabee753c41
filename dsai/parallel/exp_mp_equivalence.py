"""Experiment: split models compute what the unsplit model computes (data, pipeline, tensor parallelism).

Extends the `equivalence` section (data parallelism, `exp_equivalence`) with
the largest difference between the unsplit model and: the digits MLP
(64-32-32-10) pipelined over 3 devices with 1F1B and 4 micro-batches (its
flat gradient and loss), and the Megatron MLP block split over 4 devices
(output, input gradient and weight gradients). The course's bound is 1e-10.
"""

from __future__ import annotations

import numpy as np

from dsai.models import MLP, load_digits
from dsai.parallel import exp_equivalence, exp_tensor
from dsai.parallel.device import start_devices
from dsai.parallel.pipeline import run_pipeline
from dsai.parallel.report import Column, Progress, Section

__all__ = ["pipeline_max_abs_diff", "tensor_parallel_max_abs_diff", "run"]


def pipeline_max_abs_diff(stages: int = 3, microbatches: int = 4, schedule: str = "1f1b") -> float:
    digits = load_digits()
    model = MLP([64, 32, 32, 10], seed=0)
    x, y = digits.x_train[:120], digits.y_train[:120]
    loss, grad = model.loss_and_grad(x, y)
    start_devices(stages)
    r = run_pipeline(model, x, y, stages=stages, microbatches=microbatches, schedule=schedule)
    return max(float(np.abs(r.grad - grad).max()), abs(r.loss - loss))


def tensor_parallel_max_abs_diff(degree: int = 4) -> float:
    return exp_tensor.measure(degree)[1]


def run(progress: Progress) -> Section:
    section = exp_equivalence.run(progress)
    pipe, tensor = pipeline_max_abs_diff(), tensor_parallel_max_abs_diff()
    progress(f"[equivalence] pipeline (3 stages, 1F1B): {pipe:.2e}; tensor parallel (t=4): {tensor:.2e}")
    section.data.update({"pipeline_max_abs_diff": pipe, "tensor_parallel_max_abs_diff": tensor})
    section.notes.append("pipeline: digits MLP 64-32-32-10 over 3 stages, 1F1B, 4 micro-batches; tensor: "
                         "Megatron MLP block (h=1024, f=4096) over 4 devices; max |split - unsplit|")
    at = next(i for i, c in enumerate(section.columns) if c.key == "bound")
    section.columns[at:at] = [Column("pipeline_max_abs_diff", "pipeline", "{:.2e}"),
                              Column("tensor_parallel_max_abs_diff", "tensor", "{:.2e}")]
    return section
