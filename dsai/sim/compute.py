"""Declared compute cost: pure computation takes virtual time only when declared.

Python code that computes (numpy, loops) takes *no* virtual time on its own:
that keeps every run reproducible on any machine. Work that should cost time
declares it, either as `time.sleep(seconds)` (the lessons' stand-in for work)
or with `compute(seconds=..., flops=...)`. On a node slowed down by a factor
k, both take k times as long. Outside the simulator (real Ray, or the driver)
`compute` does nothing, so library code can declare its cost unconditionally.
"""

from __future__ import annotations

from dsai.errors import SimulationError
from dsai.sim.process import current_process

__all__ = ["compute", "DEFAULT_FLOPS"]

DEFAULT_FLOPS = 1e10  # floating-point operations per second of one simulated CPU


def compute(seconds: float = 0.0, *, flops: float = 0.0, rate: float = DEFAULT_FLOPS) -> float:
    """Book `seconds` plus `flops / rate` of virtual compute on the calling
    worker; returns the virtual seconds booked (0.0 outside the simulator)."""
    if seconds < 0 or flops < 0:
        raise SimulationError(f"compute cost must be >= 0, got seconds={seconds!r}, flops={flops!r}")
    if rate <= 0:
        raise SimulationError(f"rate must be > 0 FLOP/s, got {rate!r}")
    proc = current_process()
    if proc is None:
        return 0.0
    cost = seconds + flops / rate
    if cost:
        proc.sim.sleep(cost)
    return cost * (proc.node.slowdown if proc.node is not None else 1.0)
