"""Work submitted and never waited for still runs: a driver's exit lets the cluster work a little longer.

Ray's workers are other processes: a task submitted just before the driver
ends runs while the driver shuts down, and its output still reaches the
driver's terminal. Measured on Ray 2.60 (this 2-core machine, a script that
ends right after `f.remote()`): a task that prints at once was printed in 2
runs of 2, one that first sleeps 0.2 s in 1 of 2, 0.5 s or longer in 0 of 5;
an actor's first call made at the end printed in 1 run of 2 (its worker must
start first). An explicit `ray.shutdown()` right after `f.remote()` printed
nothing (0 of 2): it stops the workers at once.

So when the interpreter exits with a simulated cluster still connected,
`at_exit` runs the cluster for EXIT_GRACE more virtual seconds (less if it has
nothing left to do: events end sooner) before the process goes; what is
still running then is abandoned, as Ray's killed workers are (its code does
not run again: no `finally` block). `ray.shutdown()` stops at once, as on
Ray. The bound is virtual time: a task in an endless loop that never waits
still never ends (it would hang the driver's next `ray.get` as well).
"""

from __future__ import annotations

import atexit
from typing import Any

from dsai.mockray import session
from dsai.sim.process import current_process

__all__ = ["EXIT_GRACE", "drain", "at_exit", "register"]

EXIT_GRACE = 0.1  # virtual seconds the cluster keeps working after the driver's last line


def drain(rt: Any, grace: float = EXIT_GRACE) -> None:
    """Run `rt`'s cluster for up to `grace` virtual seconds (from the driver, never inside work)."""
    loop = rt.sim.loop
    if loop.running or current_process() is not None:
        return  # (exiting from inside the simulation, e.g. an interrupt mid-run: nothing to drive)
    loop.run_until(lambda: False, loop.clock.time + grace)


def at_exit() -> None:
    """The interpreter exits: let a connected simulated cluster finish what it was given."""
    rt = session.runtime_or_none()
    if rt is not None:
        drain(rt)


_registered = [False]


def register() -> None:
    """Run `at_exit` when the interpreter exits (once, however often it is called)."""
    if not _registered[0]:
        _registered[0] = True
        atexit.register(at_exit)
