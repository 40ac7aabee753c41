"""Real asyncio on virtual time: an event loop whose clock is the simulation's, whose idle wait suspends its process.

Design notes (after the `looptime` pytest plugin and aiotools'
`VirtualClock.patch_loop()`): asyncio's loop does all its waiting in one
place, `selector.select(timeout)`, and reads time in one place,
`loop.time()`. `SimEventLoop` is a stock `asyncio.BaseEventLoop` with those
two replaced: `time()` is the virtual clock, and `select(timeout)` suspends
the simulated process the loop runs in until someone wakes it (a callback
scheduled from outside, e.g. an object a coroutine awaits became ready) or
the virtual deadline passes. Everything else (tasks, timers, `wait_for`,
`timeout`, `shield`, locks, events, queues, `call_later`) is asyncio's own
code, so it behaves as asyncio does, in virtual seconds.

The loop has no file descriptors: sockets, pipes and subprocesses are not
simulated (`add_reader` and friends raise). `run_in_executor` and
`asyncio.to_thread` use asyncio's own default `ThreadPoolExecutor`, made
inside simulated work, so its workers are simulated threads (threads.py):
the function runs beside the loop, in virtual time, and hands its result
back with `call_soon_threadsafe`, which wakes the loop's process.

Every greenlet on one OS thread shares asyncio's "running loop" slot, so
the simulation keeps it per process: `process.suspend` puts back the
slot's value a process had, and the driver's event loop run clears it (the
driver's or Jupyter's loop is not the one simulated work runs on). Inside a
process, `asyncio.new_event_loop()` (and so `asyncio.run`) makes a
`SimEventLoop`: two tasks can each run their own loop at once.
"""

from __future__ import annotations

import asyncio
import heapq
from asyncio import events
from typing import Any, Callable

from dsai.sim.process import current_process, suspend

__all__ = ["SimEventLoop", "LoopKilled", "install"]


class LoopKilled(SystemExit):
    """Unwinds a simulated event loop whose process was killed: asyncio lets
    SystemExit out of tasks and callbacks, where it keeps other errors."""


class _Waker:
    """The loop's selector: `select(timeout)` suspends the loop's process."""

    def __init__(self, loop: "SimEventLoop") -> None:
        self.loop = loop
        self.proc: Any = None  # the process suspended in select, if any
        self.woken = False

    def select(self, timeout: float | None) -> list:
        if timeout is not None and timeout <= 0:
            self._due()
            return []
        proc = current_process()
        if proc is None:
            raise RuntimeError("a SimEventLoop runs only inside simulated work (a task or an actor)")
        sim = self.loop.sim
        timer = None
        if timeout is not None:
            # Wake at the next timer's own time: now + (when - now) can miss it by a rounding.
            scheduled = self.loop._scheduled
            now = sim.loop.clock.time
            when = scheduled[0]._when if scheduled else now + timeout
            timer = sim.loop.call_at(max(when, now), self.wake)
        self.proc, self.woken = proc, False
        try:
            suspend(("asyncio", self.loop))
        finally:
            self.proc = None
            if timer is not None:
                timer.cancel()
        if self.loop.dead:
            raise LoopKilled()
        self._due()
        return []

    def _due(self) -> None:
        """Timers due now go to the ready queue here: the loop's clock resolution is 0
        (a timer never fires before its virtual time), so asyncio itself would only
        take timers strictly before now."""
        loop = self.loop
        scheduled, now = loop._scheduled, loop.time()
        while scheduled and scheduled[0]._when <= now:
            handle = heapq.heappop(scheduled)
            if handle._cancelled:
                loop._timer_cancelled_count -= 1
                continue
            handle._scheduled = False
            loop._ready.append(handle)

    def wake(self) -> None:
        """Resume the loop if it waits in select (once: a timer and a callback may both ask)."""
        proc = self.proc
        if proc is not None and not self.woken:
            self.woken = True
            self.loop.sim.wake(proc)

    def close(self) -> None:
        pass


class SimEventLoop(asyncio.BaseEventLoop):
    """An asyncio event loop on a simulation's virtual clock, run inside one of its processes."""

    def __init__(self, sim: Any) -> None:
        super().__init__()
        self.sim = sim
        self.dead = False
        self._selector = _Waker(self)
        self._clock_resolution = 0.0  # exact virtual times: see _Waker._due

    def time(self) -> float:
        return self.sim.loop.clock.time

    def call_soon_from_outside(self, fn: Callable[..., Any], *args: Any) -> None:
        """Schedule `fn(*args)` on this loop from the hub or another process, and wake it."""
        if self.is_closed():
            return
        self.call_soon(fn, *args)
        self._selector.wake()

    def kill(self) -> None:
        """Its process is being killed: run nothing more."""
        self.dead = True

    def _run_once(self) -> None:
        if self.dead:
            raise LoopKilled()
        super()._run_once()

    def _process_events(self, event_list: list) -> None:
        pass  # no file descriptors

    def _write_to_self(self) -> None:
        self._selector.wake()

    def _add_reader(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError("sockets and pipes are not simulated: a SimEventLoop has no file descriptors")

    add_reader = add_writer = _add_writer = _add_reader

    def __repr__(self) -> str:
        state = "dead" if self.dead else ("running" if self.is_running() else "idle")
        return f"SimEventLoop({state}, now={self.time():.6f}, ready={len(self._ready)}, timers={len(self._scheduled)})"


# --- asyncio.new_event_loop inside simulated work ----------------------------------------------

_real_new_event_loop = events.new_event_loop


def _new_event_loop() -> asyncio.AbstractEventLoop:
    proc = current_process()
    if proc is None:
        return _real_new_event_loop()
    return SimEventLoop(proc.sim)


def install() -> None:
    """Make `asyncio.new_event_loop()` (and `asyncio.run`) give a SimEventLoop inside simulated work."""
    if events.new_event_loop is not _new_event_loop:
        events.new_event_loop = _new_event_loop
        asyncio.new_event_loop = _new_event_loop
