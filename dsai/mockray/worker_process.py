"""Process isolation: every Ray worker is a process of its own, so its exit or a signal sent to it ends that worker only.

In Ray a task or an actor runs in a worker process apart from the driver. A
program that calls `os._exit`, `sys.exit` or `os.kill(pid, SIGKILL)` kills
*that* process: the driver goes on and hears of it through Ray's errors
(`WorkerCrashedError` once a task's retries are spent, `ActorDiedError` once
an actor's restarts are). Here every worker is a simulated process inside the
driver's Python process, so this module gives each one what a process has:

* `os.getpid()` inside simulated work returns the worker's simulated pid (the
  one Ray's error messages show, `NodeState.pid`); in the driver, the real one.
* `os._exit(code)` inside simulated work ends that worker: an actor crashes
  (restarts apply), a task's worker dies (a system failure: retries apply).
* `SystemExit` out of an actor method or task (`sys.exit`, `exit()`), as Ray's
  worker treats it: code 0 or None is an intentional exit (an actor does not
  restart), any other code an unexpected one (restarts and retries apply).
* `os.kill(pid, SIGKILL or SIGTERM)` aimed at a simulated worker's pid, from
  the driver or from another worker, kills that worker only; signal 0 checks
  that it exists. Any other pid reaches the real `os.kill`.

The patches are installed once, when `dsai.mockray` is imported, and do
nothing different outside simulated work or for pids that are not simulated.
"""

from __future__ import annotations

import os
import signal
from typing import Any

from dsai.mockray.exceptions import WorkerCrashedError
from dsai.mockray.session import runtime_or_none
from dsai.sim.hard_kill import end_process
from dsai.sim.process import current_process, suspend

__all__ = ["worker_pid", "exit_worker", "find_worker", "install"]

_real_getpid, _real_exit, _real_kill = os.getpid, os._exit, os.kill
_DEATH_SIGNALS = (signal.SIGKILL, signal.SIGTERM)


def _current_task() -> Any:
    """The Task (task.py) the running simulated worker executes, or None (the driver)."""
    proc = current_process()
    if proc is None or proc.node is None:
        return None
    return proc.context


def worker_pid(task: Any) -> int:
    """The simulated pid of the worker that runs `task` (an actor's calls share its worker)."""
    actor = task.actor
    ns = actor.node if actor is not None and actor.node is not None else task.node
    return ns.pid(actor.worker if actor is not None else task.worker)


# How Ray 2.60 words a restarting actor's in-flight call after its worker ended itself.
_LOST_CONNECTION = "RpcError: RPC error: recvmsg:Connection reset by peer rpc_code: 14"


def exit_worker(task: Any, how: str, intentional: bool = False, ray_words: str = _LOST_CONNECTION) -> None:
    """The worker running `task` (the current process) ends, by `how` (words for the error):
    it stops here, and the runtime learns of it as an event, as a raylet learns that a
    worker process died. An `intentional` exit does not restart an actor."""
    proc = current_process()
    reason = (f"The actor's worker process exited: {how}"
              + (" (an intentional exit: the actor is not restarted)." if intentional else "."))
    proc.sim.loop.call_soon(_crash, task, proc, reason, intentional, ray_words)
    suspend(("exit", how))  # never resumed: the crash kills this process


def _crash(task: Any, proc: Any, reason: str, intentional: bool, ray_words: str) -> None:
    if proc.done:
        return  # killed already (its node died meanwhile): whoever killed it dealt with it
    actor = task.actor
    if actor is not None:
        actor.crash(reason, allow_restart=not intentional, unavailable=ray_words)
    elif task.proc is proc and task.state == "running":
        task.rt.crash_task(task, WorkerCrashedError())
    else:
        end_process(proc)  # (no handler runs after os._exit: hard_kill.py)


def find_worker(rt: Any, pid: int) -> tuple[Any, Any] | None:
    """What simulated worker `pid` names in runtime `rt`: (actor state, None) for an
    actor's worker, (None, task) for a worker running a task, (None, None) for an idle
    worker, or None if `pid` is not a simulated worker's."""
    if not isinstance(pid, int) or pid < 10000:
        return None
    node, worker = divmod(pid - 10000, 1000)
    if node >= len(rt.nodes):
        return None
    ns = rt.nodes[node]
    if ns.pid(worker) != pid or not ns.alive or worker >= ns._next_worker:
        return None
    for actor in ns.actors.values():
        if actor.worker == worker:
            return actor, None
    for task in ns.running.values():
        if task.worker == worker and task.state == "running" and task.actor is None:
            return None, task
    return None, None


def _getpid() -> int:
    task = _current_task()
    if task is None or getattr(task, "rt", None) is None:
        return _real_getpid()
    return worker_pid(task)


def _exit(code: int) -> None:
    task = _current_task()
    if task is None or getattr(task, "rt", None) is None:
        _real_exit(code)
    exit_worker(task, f"os._exit({code!r})")


def _kill(pid: int, sig: int) -> None:
    rt = runtime_or_none()
    target = None if rt is None or pid == _real_getpid() else find_worker(rt, pid)
    if target is None:
        return _real_kill(pid, sig)
    if sig == 0:
        return None  # it exists
    if sig not in _DEATH_SIGNALS:
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        raise NotImplementedError(
            f"os.kill({pid}, {name}): the simulator delivers SIGKILL and SIGTERM to a simulated "
            "worker (it dies) and signal 0 (does it exist?); other signals are not simulated")
    actor, task = target
    me = _current_task()
    name = signal.Signals(sig).name
    if (actor is not None and me is not None and me.actor is actor) or (task is not None and task is me):
        exit_worker(me, f"os.kill({pid}, {name}) sent to itself")
    # Ray's worker turns SIGTERM into SystemExit (its handlers run: measured on 2.60); a
    # SIGKILL ends it where it is (none run: dsai/sim/hard_kill.py).
    unwind = sig == signal.SIGTERM
    if actor is not None:
        actor.crash(f"The actor's worker process was killed by {name} (os.kill({pid}, {name})).",
                    allow_restart=True, unwind=unwind)
    elif task is not None:
        rt.crash_task(task, WorkerCrashedError(), unwind=unwind)
    return None


def install() -> None:
    """Route os.getpid, os._exit and os.kill through the simulated workers (idempotent)."""
    os.getpid, os._exit, os.kill = _getpid, _exit, _kill


install()
