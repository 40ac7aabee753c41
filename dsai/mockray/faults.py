"""Faults as Ray answers them: a node's death loses its objects, retries its tasks, restarts or kills its actors.

`dsai.sim.kill_node` and `restart_node` call `_on_node_death` and
`_on_node_restart`; `dsai.sim.kill_worker` calls `kill_worker`. A task that
was running or about to run on a dead node is retried elsewhere if its
retries allow (`NodeDiedError` otherwise); a large object whose every copy
was there is LOST (rebuilt from lineage when someone needs it, see
object_store.py); an actor restarts or dies (actor_state.py).

Part of `Runtime` (runtime.py): this mixin reads `nodes` and `objects`, and
calls `retry` and `fail` (completion.py) and `dispatch` (submission.py).
"""

from __future__ import annotations

from typing import Any

from dsai.mockray.actor import ActorHandle
from dsai.mockray.exceptions import NodeDiedError, RayError, TaskCancelledError, WorkerCrashedError
from dsai.mockray.object_ref import LOST, READY, ObjectRef
from dsai.mockray.object_store import INLINE_THRESHOLD
from dsai.mockray.task import Task
from dsai.mockray.worker_threads import stop_worker_threads
from dsai.sim.hard_kill import end_process, hard_kill, on_hard_kill
from dsai.sim.interrupts import interrupt

__all__ = ["Faults"]


class Faults:
    """What a dead node or worker takes with it, and what is retried."""

    def _on_node_death(self, node: Any) -> None:
        ns = self.nodes[node.id]
        for e in list(self.objects.values()):  # (a GC pass may release objects meanwhile)
            if node.id in e.locations and (e.state is not READY or e.value.nbytes >= INLINE_THRESHOLD):
                # (A small object is kept where it was: it survives node deaths, as README says.)
                e.locations = tuple(n for n in e.locations if n != node.id)
                if not e.locations and e.state is READY:
                    e.state = LOST
        for actor in list(ns.actors.values()):
            actor.on_node_death(ns)
        for task in list(ns.running.values()):
            ns.running.pop(task.seq, None)
            if task.kind == "actor_creation" and task.state == "fetching":
                ns.release(task.hold)  # not placed yet: place it elsewhere
                self.retry(task)
                continue
            if task.kind != "task":
                continue
            if task.state == "running" and task.proc is not None:
                end_process(task.proc)  # (its handlers never run, as Ray's killed worker's: hard_kill.py)
            task.node = None
            if task.state == "fetching" or task.retryable(None):
                if task.state != "fetching" and task.retries_left > 0:
                    task.retries_left -= 1
                self.retry(task)
            else:
                self.fail(task, NodeDiedError(
                    f"Task {task.name} was running on node {ns.name} (ID {ns.node_id}, IP {ns.ip}), "
                    "which died, and it has no retries left (max_retries)."))

    def _on_node_restart(self, node: Any) -> None:
        ns = self.nodes[node.id]
        ns.reset()
        self.dispatch(ns)

    def kill_worker(self, target: Any) -> None:
        if isinstance(target, ActorHandle):
            self.actors[target._actor_id_hex].crash("The actor's worker process was killed "
                                                    "(dsai.sim.kill_worker).", allow_restart=True)
            return
        if isinstance(target, ObjectRef):
            task = self.entry(target).creator
            if task is None or task.state != "running":
                raise ValueError(f"{target!r} is not the result of a running task; there is no worker to kill")
            if task.kind != "task":
                task.actor.crash("The actor's worker process was killed (dsai.sim.kill_worker).",
                                 allow_restart=True)
                return
            self.crash_task(task, WorkerCrashedError())
            return
        raise TypeError(f"kill_worker takes an actor handle or an ObjectRef of a running task, "
                        f"not {type(target).__name__}")

    def crash_task(self, task: Task, error: RayError, unwind: bool = False) -> None:
        """A running task's worker died: retry it (system failure) or fail it. The task's code
        never runs again (SIGKILL), or, if `unwind` (SIGTERM), it unwinds: its handlers run."""
        if unwind:
            self.sim.kill(task.proc)
        else:
            end_process(task.proc)
        if task.retryable(None):
            if task.retries_left > 0:
                task.retries_left -= 1
            self.retry(task)
        else:
            self.fail(task, error)

    # -- cancellation -------------------------------------------------------------------------
    def cancel(self, task: Task, force: bool, recursive: bool) -> None:
        """`ray.cancel`: a task not started never runs; a running one is interrupted
        (KeyboardInterrupt) or, with `force`, loses its worker; a running actor call is
        cancelled at its next await if async, else let finish; children too if `recursive`."""
        if task.done:
            return
        task.cancel_requested = True
        if recursive:
            for child in task.children or ():
                self.cancel(child, force, recursive)
        if task.state == "running":
            self.sim.loop.call_soon(self._force_kill if force else self._interrupt, task)
            return
        # Not started: it will never run.
        if task.state == "queued":
            self.sched.remove(task)
        if task.node is not None and task.kind == "task":
            task.node.running.pop(task.seq, None)
            task.node.release(task.hold)
            self.sim.loop.call_soon(self.dispatch, task.node)
            task.node = None
        if task.kind == "actor_task":
            try:
                task.actor.mailbox.remove(task)
            except ValueError:
                pass
            task.actor.running.pop(task.seq, None)
        self.fail(task, TaskCancelledError(task.task_id_hex), cancelled=True)
        if task.kind == "actor_task":
            self.sim.loop.call_soon(task.actor.pump)

    def _interrupt(self, task: Task) -> None:
        if task.kind == "actor_task":
            # An async call's coroutine sees CancelledError; a running sync call is let run
            # to its end (it can poll get_runtime_context().is_canceled()), as in Ray.
            if task.actor.is_async and task.state == "running" and task.actor.aio is not None:
                task.actor.aio.cancel(task)
            if not getattr(task.actor.cls, "cancel_interrupts_running_calls", False):
                return  # (util.Queue's actor stands in for Ray's async one: interrupted below)
        if task.state == "running" and task.proc is not None and not task.proc.done:
            # As Ray's worker: a sleep in progress ends first (dsai.sim.interrupts).
            interrupt(task.proc, KeyboardInterrupt())

    def _force_kill(self, task: Task) -> None:
        # Ray kills the worker process: the task's own except/finally blocks never run, the
        # task is not retried, and get raises a plain TaskCancelledError (measured on 2.60).
        if task.state == "running" and task.proc is not None and not task.proc.done:
            task.retries_left = 0
            node, worker = task.proc.node, task.worker
            hard_kill(task.proc)  # its exit hook frees the worker and the resources
            if node is not None:
                stop_worker_threads(self.sim, node, worker)  # (threads die with their process)
            self.fail(task, TaskCancelledError(task.task_id_hex), cancelled=True)


def _forget_blocked(proc: Any) -> None:
    """A worker hard-killed in `get`/`wait` (hard_kill.py): its wait is over, and nothing it
    waited for is fetched to it any more (the `finally` in Blocking._block would have said so)."""
    from dsai.mockray import session

    rt = session.runtime_or_none()
    w = rt.blocked.pop(proc, None) if rt is not None and rt.sim is proc.sim else None
    if w is not None:
        w.woken = True
        close = getattr(w, "close", None)
        if close is not None:
            close()


on_hard_kill(_forget_blocked)
