"""A process killed as SIGKILL kills one: it stops where it is and none of its own code runs again.

`Simulation.kill` ends a process by raising `Killed` where it blocked, so the
process unwinds and its `except BaseException:` and `finally:` blocks run.
That is how a crash the program can observe looks, but not how a killed OS
process ends: `ray.cancel(ref, force=True)` kills the task's worker process,
and on Ray 2.60 the task's handlers never run (measured: neither its
`except` nor its `finally` block).

Python cannot unwind a stack without running its handlers, so `hard_kill`
never unwinds it: the process is marked done and its greenlet is never
switched to again. Freeing a suspended greenlet would throw `GreenletExit`
into it (running those same handlers, at a time the garbage collector
picks), so the greenlet is kept in `_graveyard` for good. The same holds for
a killed async actor's coroutines (`bury`): a coroutine freed while suspended
is closed, which runs its `finally`. The graveyard itself is never freed, not
even as the interpreter exits (see `_never_freed`). The cost is the memory the
killed stack holds (its frames and what they reference), once per kill that
interrupts the program's own code: 13.4 KB a stack plus what its frames hold
(`benchmarks/kill_memory.py`: 800 stacks, 10.7 MB, growing linearly with the
kills), and a session with such a stack stays in memory after its shutdown.

`end_process` is how a worker's death ends its processes (`ray.kill`, a
node's death, `dsai.sim.kill_worker`, `os._exit`, `os.kill(pid, SIGKILL)`;
`ray.cancel(force=True)` calls `hard_kill` itself): measured on Ray 2.60, none
of these runs the dead process's handlers (tests/conformance/test_kill_stack.py).
A stack with none of the program's code on it (a worker waiting for its next
call, an event loop waiting for a timer) is unwound instead: only the
simulator's own handlers run, and its memory is freed. A SIGTERM and
`ray.shutdown()` are not SIGKILLs (Ray's worker raises SystemExit, so sync
work runs its handlers): their callers unwind with `Simulation.kill`.
"""

from __future__ import annotations

import ctypes
from typing import Any, Callable

from dsai.errors import SimulationError
from dsai.sim import locks
from dsai.sim.process import Process, current_process

__all__ = ["hard_kill", "end_process", "bury", "on_hard_kill", "graveyard_size"]

# Stacks of hard-killed processes: never resumed, never freed (see the module docstring).
_graveyard: list[Any] = []


def _never_freed(obj: Any) -> None:
    # At exit the interpreter clears module globals, and a list freed then frees its
    # stacks and coroutines, running their handlers. One reference nobody owns keeps it.
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(obj))


_never_freed(_graveyard)

# What the layers above forget of a process that dies without unwinding (their own
# `finally` blocks in its stack would have): e.g. mockray's record of a worker blocked in get.
_forgetters: list[Callable[[Process], Any]] = []


def on_hard_kill(fn: Callable[[Process], Any]) -> None:
    """Call `fn(proc)` for every hard-killed process, before its exit hook."""
    if fn not in _forgetters:
        _forgetters.append(fn)


# Frames of these packages are the simulator's own (or the standard library's under it): a
# stack made only of them holds none of the program's handlers, and may be unwound.
_OWN = ("dsai.sim", "dsai.mockray", "greenlet", "asyncio", "selectors", "threading", "queue")
_OWN_PREFIXES = tuple(p + "." for p in _OWN)


def hard_kill(proc: Process) -> None:
    """End `proc` now without running any more of its code; then its exit hook runs (from the hub)."""
    if proc.done:
        return
    if current_process() is proc:
        raise SimulationError("a process cannot hard-kill itself; schedule the kill as an event")
    runner, proc.runner = proc.runner, None
    if runner is not None:
        runner.proc = None  # (what it ran is over; the stack is only kept, see _graveyard)
        _graveyard.append(runner)
    proc.done = proc.killed = True
    proc.blocked_on = None  # (any event that would have resumed it finds it done: Simulation.resume)
    locks.forget(proc)  # it waits on nothing now; a lock it held goes to its next waiter
    for fn in _forgetters:
        fn(proc)
    if proc.on_exit is not None:
        cb, proc.on_exit = proc.on_exit, None
        cb(proc)


def end_process(proc: Process) -> None:
    """`proc`'s worker process died: none of the program's code in it runs again. A stack
    with only the simulator's frames is unwound (and freed); any other is hard-killed.
    A process that kills itself (its own node, say) unwinds: it raises `Killed` here."""
    if proc.done:
        return
    if current_process() is proc or _only_own_frames(proc):
        proc.sim.kill(proc)
        return
    hard_kill(proc)


def _only_own_frames(proc: Process) -> bool:
    runner = proc.runner
    if runner is None:
        return True  # never started: there is no stack
    frame = runner.gr_frame
    while frame is not None:
        name = frame.f_globals.get("__name__", "")
        if name not in _OWN and not name.startswith(_OWN_PREFIXES):
            return False
        frame = frame.f_back
    return True


def bury(objs: Any) -> None:
    """Keep `objs` (a killed event loop's coroutines, say) for good: never resumed, never
    closed (closing one runs its handlers)."""
    _graveyard.extend(objs)


def graveyard_size() -> int:
    """How many hard-killed stacks (and buried coroutines' tasks) are kept (for tests and
    memory reports)."""
    return len(_graveyard)
