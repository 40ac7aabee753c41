"""Simulated processes: Python code that runs on the virtual clock and can block.

Exactly one piece of code runs at a time: the event loop (the "hub", whoever
called `run_until`) or one process. A process blocks by switching back to the
hub and is resumed by an event the hub runs, so the interleaving is fixed by
the event order, never by the OS scheduler.

A process runs on a pooled greenlet (a *runner*): creating a greenlet costs
~15 us, switching to one ~0.5 us, so runners are reused the way Ray reuses
worker processes. A process that never blocks costs two switches.

`time.sleep`, the `time` module's clocks and `datetime.now` are patched
once, process-wide, by clocks.py (one clock). Inside a process
asyncio runs on real event loops on virtual time (aio.py); `asyncio.sleep`
and `asyncio.gather` are patched here only for a coroutine stepped by hand
in a process with no loop: the sleep takes virtual seconds and gather awaits
in order. Anywhere else they are the real ones.
"""

from __future__ import annotations

import asyncio
from asyncio.events import _get_running_loop, _set_running_loop
from typing import Any, Callable

import greenlet

from dsai.sim import clocks

__all__ = ["Process", "current_process", "Killed"]


class Killed(greenlet.GreenletExit):
    """Raised inside a process whose worker or node was killed."""


class Process:
    """A simulated thread of control (a task, an actor method, a client)."""

    __slots__ = ("sim", "fn", "fn_args", "name", "node", "result", "error", "killed", "done",
                 "blocked_on", "context", "on_exit", "runner")

    def __init__(self, sim: Any, fn: Callable[..., Any], args: tuple, name: str, node: Any = None) -> None:
        self.sim = sim
        self.fn = fn
        self.fn_args = args
        self.name = name
        self.node = node
        self.result: Any = None
        self.error: BaseException | None = None
        self.killed = False
        self.done = False
        self.blocked_on: Any = None  # what it waits for, for deadlock reports
        self.context: Any = None  # the owner's data (e.g. the task being run)
        self.on_exit: Callable[["Process"], Any] | None = None
        self.runner: _Runner | None = None

    @property
    def started(self) -> bool:
        return self.runner is not None or self.done

    def __repr__(self) -> str:
        if self.done:
            state = "killed" if self.killed else ("failed" if self.error is not None else "done")
        elif self.blocked_on is not None:
            state = f"blocked on {self.blocked_on!r}"
        else:
            state = "running" if self.runner is not None else "new"
        where = f" on {self.node.name}" if self.node is not None else ""
        return f"Process({self.name!r}{where}, {state})"


class _Runner(greenlet.greenlet):
    """A reusable stack that runs one process after another."""

    def __init__(self, pool: list["_Runner"]) -> None:
        super().__init__()
        self.pool = pool
        self.proc: Process | None = None

    def run(self, proc: Process) -> None:  # first switch passes the first process
        while True:
            self.proc = proc
            try:
                proc.result = proc.fn(*proc.fn_args)
            except Killed:
                proc.killed = True
            except BaseException as e:  # the owner decides what an error means
                proc.error = e
            proc.done = True
            proc.runner = None
            self.proc = None
            self.pool.append(self)
            proc = self.parent.switch()
            if proc is None:  # retired by Simulation.close
                return


def new_runner(pool: list[_Runner]) -> _Runner:
    """A fresh runner that returns itself to `pool` between processes."""
    return _Runner(pool)


def throw_into(proc: Process, exc: BaseException) -> None:
    """Raise `exc` inside a blocked `proc` (from the hub) and let it unwind."""
    runner = proc.runner
    if runner is None:
        proc.done = proc.killed = True
        return
    runner.parent = greenlet.getcurrent()
    # The caller's asyncio loop (Jupyter's, the driver's) must survive the unwinding
    # process setting its own on resume (suspend): the loop slot is per OS thread.
    outer = _get_running_loop()
    try:
        runner.throw(exc)
    finally:
        _set_running_loop(outer)


def current_process() -> Process | None:
    try:
        return getattr(greenlet.getcurrent(), "proc", None)
    except RuntimeError:  # a greenlet being finalized (a gc callback runs then): not simulated work
        return None


def suspend(reason: Any) -> Any:
    """Block the current process; returns the value it is woken with."""
    g = greenlet.getcurrent()
    g.proc.blocked_on = reason
    loop = _get_running_loop()
    if loop is None:
        return g.parent.switch()
    # asyncio's running-loop slot is per OS thread, shared by every process:
    # this process's loop must not be seen by others while it is away (see aio.py).
    _set_running_loop(None)
    try:
        return g.parent.switch()
    finally:
        _set_running_loop(loop)


# --- virtual sleep -----------------------------------------------------------

_real_asyncio_sleep = asyncio.sleep


async def _asyncio_sleep(delay: float, result: Any = None) -> Any:
    proc = current_process()
    if proc is None or _get_running_loop() is not None:  # (a loop on virtual time: aio.py)
        return await _real_asyncio_sleep(delay, result)
    proc.sim.sleep(max(delay, 0))  # asyncio treats a negative delay as 0
    return result


_real_gather = asyncio.gather


def _gather(*aws: Any, return_exceptions: bool = False) -> Any:
    """asyncio.gather inside simulated work: no event loop exists there, so the
    awaitables are awaited one by one; their virtual waits still overlap,
    because refs were submitted before and sleeps end at absolute times."""
    if current_process() is None or _get_running_loop() is not None:
        return _real_gather(*aws, return_exceptions=return_exceptions)

    async def gather_in_order() -> list:
        out = []
        for aw in aws:
            try:
                out.append(await aw)
            except Exception as e:
                if not return_exceptions:
                    raise
                out.append(e)
        return out

    return gather_in_order()


def _install_virtual_sleep() -> None:
    clocks.install()  # time.sleep, and every clock a program reads
    if asyncio.sleep is not _asyncio_sleep:
        asyncio.sleep = _asyncio_sleep
        asyncio.tasks.sleep = _asyncio_sleep
    if asyncio.gather is not _gather:
        asyncio.gather = _gather
        asyncio.tasks.gather = _gather


_install_virtual_sleep()
