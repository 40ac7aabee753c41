"""An interrupt reaches a process between two of its bytecodes, so a blocking sleep finishes first.

Ray cancels a running task (`ray.cancel(ref)` without `force`) by setting
Python's interrupt flag in the task's worker, as Ctrl-C does
(`PyErr_SetInterrupt`). No signal is sent, so a `time.sleep` in progress is
not woken: the `KeyboardInterrupt` is raised when the sleep returns, before
the task's next line (measured on Ray 2.60: a task cancelled 0.3 s into
`time.sleep(5)` raised at 5.0 s, and the line after the sleep never ran).
A call that polls for signals while it waits (Ray's `ray.get` and
`ray.wait`) is interrupted at once.

`interrupt` does the same to a simulated process: one blocked in
`Simulation.sleep` gets the exception when its sleep ends, in virtual time;
one blocked anywhere else gets it now.
"""

from __future__ import annotations

from dsai.sim.process import Process, throw_into

__all__ = ["interrupt"]


def interrupt(proc: Process, exc: BaseException) -> None:
    """Raise `exc` in `proc` where Python would check its interrupt flag (from the hub)."""
    if proc.done:
        return
    sim = proc.sim
    pending = sim.deferred_interrupts
    for p in [p for p in pending if p.done]:  # (killed before their sleep ended)
        del pending[p]
    reason = proc.blocked_on
    if type(reason) is tuple and reason and reason[0] == "sleep":
        pending.setdefault(proc, exc)  # (Simulation.sleep raises it on waking)
        return
    throw_into(proc, exc)
    if proc.done and proc.on_exit is not None:
        cb, proc.on_exit = proc.on_exit, None
        cb(proc)
