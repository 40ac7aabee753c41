"""Virtual time: a clock that only the event loop moves, and never backwards.

Design notes (after trio's MockClock): simulated work never reads the wall
clock. Time advances only when the event loop pops the next event, so a run's
timings depend on the program and the seed, never on the machine.

`time` is a plain attribute, read directly (every task's start and end reads
it). Only the event loop writes it: `advance_to` checks the order; the loop's
own hot path assigns the time of the event it pops, which is never earlier,
because `call_at` refuses times in the past and the heap pops in order.
"""

from __future__ import annotations

from dsai.errors import SimulationError

__all__ = ["VirtualClock"]


class VirtualClock:
    """Seconds of simulated time since the simulation started."""

    __slots__ = ("time",)

    def __init__(self, start: float = 0.0) -> None:
        self.time = float(start)  # now, in virtual seconds

    def now(self) -> float:
        return self.time

    def advance_to(self, when: float) -> None:
        if when < self.time:
            raise SimulationError(
                f"the virtual clock cannot go backwards (now {self.time:.6f} s, asked {when:.6f} s)"
            )
        self.time = when

    def __repr__(self) -> str:
        return f"VirtualClock(now={self.time:.6f})"
