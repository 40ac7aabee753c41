"""Memory per device under data parallelism and ZeRO: what each device must hold, by formula.

Data parallelism keeps a full copy of the model state on every device. With
mixed-precision Adam (Rajbhandari et al., ZeRO, 2020) that is 2 bytes per
parameter of fp16 weights, 2 of fp16 gradients and K = 12 of optimizer state
(fp32 master weights, momentum and variance): 16 bytes per parameter. ZeRO
shards that state over the N data-parallel devices, one more part per stage:

    stage 0 (plain DP)      (2 + 2 + K) P
    stage 1 (optimizer)     2P + 2P + K P / N
    stage 2 (+ gradients)   2P + (2 + K) P / N
    stage 3 (+ parameters)  (2 + 2 + K) P / N

The paper's Figure 1: 7.5B parameters on 64 devices need 120 GB, 31.4 GB,
16.6 GB and 1.9 GB. Activations are not part of the model state and not
counted. Communication per step, in bytes each device sends with ring
collectives: stages 0-2 move 2(N-1)/N x gradient bytes (a reduce-scatter
and an all-gather make an all-reduce), stage 3 adds a second all-gather of
the parameters, 3(N-1)/N, 1.5 times as much.
"""

from __future__ import annotations

from dataclasses import dataclass

from dsai.errors import ParallelConfigError

__all__ = ["ZERO_STAGES", "Precision", "MIXED_ADAM", "zero_bytes", "zero_total", "zero_comm_bytes"]

ZERO_STAGES = (0, 1, 2, 3)


@dataclass(frozen=True)
class Precision:
    """Bytes per parameter of each kind of model state."""

    parameters: float = 2  # fp16 weights
    gradients: float = 2  # fp16 gradients
    optimizer: float = 12  # Adam in mixed precision: fp32 master weights, momentum, variance

    @property
    def total(self) -> float:
        return self.parameters + self.gradients + self.optimizer


MIXED_ADAM = Precision()


def _check(parameters: float, devices: int, stage: int) -> None:
    if stage not in ZERO_STAGES:
        raise ParallelConfigError(f"ZeRO stage must be 0 (plain data parallelism), 1, 2 or 3, got {stage!r}")
    if isinstance(devices, bool) or not isinstance(devices, int) or devices < 1:
        raise ParallelConfigError(f"devices must be a whole number >= 1, got {devices!r}")
    if parameters < 0:
        raise ParallelConfigError(f"the parameter count must be >= 0, got {parameters!r}")


def zero_bytes(parameters: float, devices: int, stage: int,
               precision: Precision = MIXED_ADAM) -> dict[str, float]:
    """Bytes of parameters, gradients and optimizer state one device holds at ZeRO `stage`."""
    _check(parameters, devices, stage)
    P, N, b = parameters, devices, precision
    return {"parameters": b.parameters * P / (N if stage >= 3 else 1),
            "gradients": b.gradients * P / (N if stage >= 2 else 1),
            "optimizer": b.optimizer * P / (N if stage >= 1 else 1)}


def zero_total(parameters: float, devices: int, stage: int, precision: Precision = MIXED_ADAM) -> float:
    """Model-state bytes per device: 16P, 4P + 12P/N, 2P + 14P/N, 16P/N with mixed-precision Adam."""
    return sum(zero_bytes(parameters, devices, stage, precision).values())


def zero_comm_bytes(parameters: float, devices: int, stage: int, itemsize: float = 2) -> float:
    """Bytes one device sends per step with ring collectives: 2(N-1)/N x P x itemsize, x1.5 at stage 3."""
    _check(parameters, devices, stage)
    passes = 3 if stage == 3 else 2  # (reduce-scatter + all-gather) [+ one more all-gather]
    return passes * (devices - 1) / devices * parameters * itemsize
