"""Discrete-event simulation: one heap of timed callbacks, run in (time, seq) order.

Events at the same virtual instant run in the order they were scheduled (the
sequence number breaks ties), so a program and a seed fix the whole order of
events. Cancelling an event blanks its callback; the heap entry is skipped.
"""

from __future__ import annotations

import heapq
import itertools
from asyncio.events import _get_running_loop, _set_running_loop
from typing import Any, Callable

from dsai.errors import SimulationError
from dsai.sim.clock import VirtualClock

__all__ = ["EventLoop", "Timer"]


class Timer:
    """A scheduled callback that can be cancelled before it runs."""

    __slots__ = ("_entry",)

    def __init__(self, entry: list) -> None:
        self._entry = entry

    @property
    def when(self) -> float:
        return self._entry[0]

    def cancel(self) -> None:
        self._entry[2] = None

    @property
    def cancelled(self) -> bool:
        return self._entry[2] is None

    def __repr__(self) -> str:
        state = "cancelled" if self.cancelled else "pending"
        return f"Timer(when={self.when:.6f}, {state})"


class EventLoop:
    """The simulation's event queue and the virtual clock it drives."""

    def __init__(self, clock: VirtualClock | None = None) -> None:
        self.clock = clock or VirtualClock()
        # Entries are lists [when, seq, fn, args]: seq is unique, so lists never
        # compare their callbacks, and a list can be blanked in place to cancel.
        self._heap: list[list] = []
        self._seq = itertools.count()
        self.events_run = 0
        self.running = 0  # > 0 while run_until is on the stack

    def now(self) -> float:
        return self.clock.time

    def call_at(self, when: float, fn: Callable[..., Any], *args: Any) -> Timer:
        if when < self.clock.time:
            raise SimulationError(
                f"cannot schedule an event in the past ({when:.6f} s < now {self.clock.time:.6f} s)"
            )
        entry = [when, next(self._seq), fn, args]
        heapq.heappush(self._heap, entry)
        return Timer(entry)

    def call_later(self, delay: float, fn: Callable[..., Any], *args: Any) -> Timer:
        if delay < 0:
            raise SimulationError(f"delay must be non-negative, got {delay!r}")
        return self.call_at(self.clock.time + delay, fn, *args)

    def call_soon(self, fn: Callable[..., Any], *args: Any) -> None:
        # Hot path: no Timer object, no checks.
        heapq.heappush(self._heap, [self.clock.time, next(self._seq), fn, args])

    def pending(self) -> int:
        return sum(1 for e in self._heap if e[2] is not None)

    def next_time(self) -> float | None:
        heap = self._heap
        while heap and heap[0][2] is None:
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def run_until(self, done: Callable[[], bool], deadline: float | None = None) -> bool:
        """Run events until `done()` is true (True), or until no event is left or
        the next one lies beyond `deadline` (False). The clock stays at the last
        event run: what an idle stretch means is the caller's decision."""
        heap, clock, pop = self._heap, self.clock, heapq.heappop
        self.running += 1
        outer = _get_running_loop()  # the driver's asyncio loop is not the simulated work's (aio.py)
        if outer is not None:
            _set_running_loop(None)
        try:
            while not done():
                while heap and heap[0][2] is None:
                    pop(heap)
                if not heap or (deadline is not None and heap[0][0] > deadline):
                    return False
                when, _, fn, args = pop(heap)
                clock.time = when
                self.events_run += 1
                fn(*args)
            return True
        finally:
            self.running -= 1
            if outer is not None:
                _set_running_loop(outer)

    def run_while(self, obj: Any, attr: str, value: Any) -> None:
        """Run events while `getattr(obj, attr) is value` (and events are left):
        `run_until` for the commonest condition, without a Python call per event."""
        heap, clock, pop = self._heap, self.clock, heapq.heappop
        self.running += 1
        outer = _get_running_loop()
        if outer is not None:
            _set_running_loop(None)
        try:
            while getattr(obj, attr) is value:
                while heap and heap[0][2] is None:
                    pop(heap)
                if not heap:
                    return
                when, _, fn, args = pop(heap)
                clock.time = when
                self.events_run += 1
                fn(*args)
        finally:
            self.running -= 1
            if outer is not None:
                _set_running_loop(outer)

    def run(self, until: float | None = None) -> None:
        """Run every event (up to virtual time `until`, where the clock then stands)."""
        self.run_until(lambda: False, until)
        if until is not None and until > self.clock.time:
            self.clock.advance_to(until)

    def __repr__(self) -> str:
        return f"EventLoop(now={self.clock.time:.6f}, pending={self.pending()})"
