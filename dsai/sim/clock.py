"""Virtual time: a clock that only the event loop moves, and never backwards.

Design notes (after trio's MockClock): simulated work never reads the wall
clock. Time advances only when the event loop pops the next event, so a run's
timings depend on the program and the seed, never on the machine.
"""

from __future__ import annotations

from dsai.errors import SimulationError

__all__ = ["VirtualClock"]


class VirtualClock:
    """Seconds of simulated time since the simulation started."""

    __slots__ = ("_now",)

    def __init__(self, start: float = 0.0) -> None:
        self._now = float(start)

    def now(self) -> float:
        return self._now

    def advance_to(self, when: float) -> None:
        if when < self._now:
            raise SimulationError(
                f"the virtual clock cannot go backwards (now {self._now:.6f} s, asked {when:.6f} s)"
            )
        self._now = when

    def __repr__(self) -> str:
        return f"VirtualClock(now={self._now:.6f})"
