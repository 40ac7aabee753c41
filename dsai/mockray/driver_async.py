"""The driver waits on futures its own way: while its asyncio loop or a concurrent.futures wait would sleep, the cluster runs.

Real Ray delivers results to the driver from other processes, so a driver
may wait on them however it likes. Here the cluster runs only when the
driver lets it, so each way of waiting is made to run the simulation:

- `await ref` in the driver's asyncio loop (`asyncio.run`, a notebook's
  top-level await) parks a future for the ref and marks the loop as waiting
  on the cluster. `_LoopPump` wraps that loop's selector: while something
  waits on the cluster, `select(timeout)` first takes real I/O without
  blocking, then runs the simulation until a result arrives (a callback
  becomes ready) or `timeout` virtual seconds have passed. The driver's
  clock (clocks.py) includes those virtual seconds, so the loop's timers
  (`wait_for`, `timeout`, `sleep`) fall due in virtual time, and other
  coroutines keep running meanwhile, as on Ray.
- `ref.future()` (a `concurrent.futures.Future`): `result()` runs the
  simulation; `concurrent.futures.wait` and `as_completed` block on an
  event the waiter installs in the future, which is swapped for one whose
  `wait` runs the simulation until it is set; `asyncio.wrap_future` and
  done-callbacks added from inside the driver's loop mark that loop as
  waiting, as an awaited ref does.

A wait that can never end raises `SimulationDeadlockError` (into the
awaiting coroutines, or from the blocking wait), never hangs.
"""

from __future__ import annotations

import threading
from asyncio.events import _get_running_loop
from typing import Any

from dsai.mockray import session
from dsai.mockray.exceptions import SimulationDeadlockError
from dsai.sim import clocks
from dsai.sim.aio import SimEventLoop
from dsai.sim.process import current_process

__all__ = ["await_in_driver", "driver_loop", "watch_future", "DrivingEvent", "on_driver_thread", "pump_for"]


# `ray.wait` from a thread other than the driver's main one: set by driver_hooks.py (which
# imports this module's users' layer), for a ref future's result() on such a thread.
wait_from_thread: Any = None


def on_driver_thread() -> bool:
    return threading.get_ident() == clocks.driver_thread() and current_process() is None


def driver_loop() -> Any:
    """The driver's running asyncio loop, if the caller is the driver inside one."""
    loop = _get_running_loop()
    if loop is None or isinstance(loop, SimEventLoop) or not on_driver_thread():
        return None
    return loop


class _UntilReady:
    """A waiter for `Blocking.wait_until`: until the loop has a callback to run."""

    __slots__ = ("loop",)

    def __init__(self, loop: Any) -> None:
        self.loop = loop

    def poll(self) -> bool:
        return bool(self.loop._ready)


class _LoopPump:
    """Runs the simulation where the driver's asyncio loop would wait for I/O."""

    def __init__(self, loop: Any) -> None:
        self.loop = loop
        self.waiting: set = set()  # asyncio futures that wait on the cluster
        self.selector = loop._selector
        self.real_select = self.selector.select
        self.selector.select = self.select

    def select(self, timeout: float | None = None) -> list:
        waiting = self.waiting
        rt = session.runtime_or_none()
        out = rt.outside if rt is not None else None
        if out is not None and out.busy() and not rt.sim.loop.running and on_driver_thread():
            return self._serve(out, timeout)  # another thread waits on the cluster (asyncio.to_thread)
        if not waiting or rt is None or rt.sim.loop.running or not on_driver_thread():
            return self.real_select(timeout)
        events = self.real_select(0)  # real I/O first (a notebook's kernel messages)
        if events or self.loop._ready:
            return events
        try:
            rt.wait_until(_UntilReady(self.loop), timeout)
        except SimulationDeadlockError as e:  # nothing can ever settle them: say so in each
            for fut in list(waiting):
                if not fut.done():
                    fut.set_exception(SimulationDeadlockError(str(e)))
            waiting.clear()
        return self.real_select(0)


    def _serve(self, out: Any, timeout: float | None) -> list:
        """Serve the driver's other threads (driver_threads.py) until this loop has work: a
        callback ready (e.g. a thread's result), real I/O, or its next timer's time."""
        events = self.real_select(0)
        if events or self.loop._ready:
            return events
        bell = _LoopBell(self)
        try:
            out.serve(lambda: bool(bell.events or self.loop._ready), timeout, bell, False)
        except SimulationDeadlockError as e:  # (the coroutines awaiting refs hear of it)
            for fut in list(self.waiting):
                if not fut.done():
                    fut.set_exception(SimulationDeadlockError(str(e)))
            self.waiting.clear()
        return bell.events


class _LoopBell:
    """A bell for `Outside.serve` in the driver's asyncio loop: sleeping is the loop's real
    select (so I/O and call_soon_threadsafe wake it), ringing writes to its self-pipe."""

    patient = False  # (Outside.serve: stop waiting for other threads when the loop has work)

    def __init__(self, pump: _LoopPump) -> None:
        self.pump = pump
        self.events: list = []
        self.notified = False

    def ring(self) -> None:
        self.pump.loop._write_to_self()

    def sleep(self, timeout: float) -> None:
        self.events.extend(self.pump.real_select(timeout))


def pump_for(loop: Any, out: Any) -> None:
    """The driver's loop `loop` wakes when another thread posts a request to `out`."""
    pump = _pump(loop)
    if getattr(pump, "bell", None) is None:
        pump.bell = _LoopBell(pump)
        out.bells.append(pump.bell)


def _pump(loop: Any) -> _LoopPump:
    pump = getattr(loop, "_dsai_pump", None)
    if pump is None:
        pump = _LoopPump(loop)
        loop._dsai_pump = pump
    return pump


def watch(loop: Any, fut: Any) -> None:
    """`fut` (of `loop`) settles when the cluster makes progress: run it while the loop waits."""
    waiting = _pump(loop).waiting
    waiting.add(fut)
    fut.add_done_callback(waiting.discard)


async def await_in_driver(ref: Any, loop: Any) -> Any:
    """`await ref` in the driver's asyncio loop: other coroutines run while the cluster works."""
    rt = session.runtime()
    e = ref._entry or rt.entry(ref)
    if not e.done:
        fut = loop.create_future()

        def settle(entry: Any) -> None:
            if not fut.done():
                fut.set_result(None)

        e.on_done(settle)
        watch(loop, fut)
        await fut
    return rt.get_one(ref, None)  # done: its value (fetched if big and remote), or its error


def watch_future(cf: Any) -> None:
    """A done-callback was added to `cf` (a ref's concurrent future) from inside the driver's
    loop (e.g. `asyncio.wrap_future`): the loop waits on the cluster until it is done."""
    loop = driver_loop()
    if loop is None or cf.done():
        return
    marker = loop.create_future()
    cf._dsai_markers.append(marker)
    watch(loop, marker)


class DrivingEvent(threading.Event):
    """The event a `concurrent.futures.wait`/`as_completed` waiter blocks on: on the driver's
    thread, `wait` runs the simulation until it is set (or `timeout` virtual seconds)."""

    def wait(self, timeout: float | None = None) -> bool:
        if self.is_set() or not on_driver_thread():
            return super().wait(timeout)
        rt = session.runtime()
        rt.wait_until(self._waiter(), timeout)
        return self.is_set()

    def _waiter(self) -> Any:
        event = self

        class _Until:
            proc = None

            def poll(self) -> bool:
                return event.is_set()

        return _Until()
