"""Livelock in zero virtual time: blocking round trips are free, until they are all that happens.

Calls and tasks take no virtual time here unless they sleep or compute (a
documented simplification: on Ray a call's round trip costs about a
millisecond, which would blur every figure the course shows). Two actors
that call each other in a loop, one of them as

    while True:
        ray.get(other.next.remote())

would then run forever at one virtual instant, and a driver's
`ray.get(ref, timeout=5)` would never see its 5 s pass, where Ray raises
`GetTimeoutError` after 5 s.

The rule: a task's blocking `get`/`wait` that is answered at the very
instant it blocked is a zero-time round trip. Once one task has made
`FREE_TRIPS` of them in a row, with the clock standing still between them,
each further one costs `ROUND_TRIP` virtual seconds, about what it costs on
Ray, so the livelock moves the clock and every timeout comes true. A task
whose clock moves between two round trips (it slept, computed, or waited
for something that took time) starts counting again, so ordinary programs
never pay: only a task that made 10,000 blocking calls without time moving
does, and on Ray those would have taken 10 s.
"""

from __future__ import annotations

from typing import Any

__all__ = ["FREE_TRIPS", "ROUND_TRIP", "RoundTrips"]

FREE_TRIPS = 10_000  # zero-time round trips in a row that cost nothing
ROUND_TRIP = 0.001  # virtual seconds each further one costs (a call's round trip on Ray: ~1 ms)


class RoundTrips:
    """One task's zero-time round trips in a row, and what the next one costs."""

    __slots__ = ("count", "end")

    def __init__(self) -> None:
        self.count = 0
        self.end: float | None = None  # the virtual time the last one ended

    def cost(self, began: float, now: float) -> float:
        """A round trip that began at `began` was answered at `now`: the virtual
        seconds it must still cost (0 unless the task is in a zero-time livelock).
        The caller pays them, then sets `end` to the clock."""
        if now != began or self.end != began:  # time moved: not a livelock (any more)
            self.count = 0
        if now != began:
            return 0.0
        self.count += 1
        return ROUND_TRIP if self.count > FREE_TRIPS else 0.0

    def __repr__(self) -> str:
        return f"RoundTrips({self.count} in a row at zero time, last ended at {self.end})"


def trips_of(task: Any) -> RoundTrips:
    """The task's counter (made on its first blocking round trip)."""
    trips = task.__dict__.get("round_trips")
    if trips is None:
        trips = task.__dict__["round_trips"] = RoundTrips()
    return trips
