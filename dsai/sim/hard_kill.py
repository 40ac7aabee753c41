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
picks), so the greenlet is kept in `_graveyard` until the interpreter exits;
at exit, greenlet frees it without running it. The cost is the memory the
killed stack holds (its frames and what they reference), once per hard kill.
"""

from __future__ import annotations

from typing import Any

from dsai.errors import SimulationError
from dsai.sim.process import Process, current_process

__all__ = ["hard_kill", "graveyard_size"]

# Stacks of hard-killed processes: never resumed, never freed (see the module docstring).
_graveyard: list[Any] = []


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
    if proc.on_exit is not None:
        cb, proc.on_exit = proc.on_exit, None
        cb(proc)


def graveyard_size() -> int:
    """How many hard-killed stacks are kept (for tests and memory reports)."""
    return len(_graveyard)
