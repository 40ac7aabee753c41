"""How an attempt ends: its results stored, its resources freed, or its error retried or kept.

Every attempt of a task or actor call ends in `_end`: `_record` (counted,
and a timeline event), the resources given back, then `_succeed` (results
into the object store) or `task_failed` (an application error: retry it if
`max_retries`/`retry_exceptions` allow, else store a `RayTaskError`). A
reused worker whose task succeeded calls `_record` and `_succeed` itself
(workers.py), since it decides when its resources are released. `fail`
stores an error in every result of a task that will not run again; `retry`
sends a task back to submission.

Part of `Runtime` (runtime.py): this mixin appends to `timeline_events`,
counts `tasks_run`, and calls `submit` and `dispatch` (submission.py).
"""

from __future__ import annotations

import os
import traceback
from asyncio import CancelledError
from typing import Any

from dsai.mockray.exceptions import RayTaskError, TaskCancelledError
from dsai.mockray.gc_policy import gc_policy
from dsai.mockray.object_store import INLINE_THRESHOLD
from dsai.mockray.scheduler import NodeState
from dsai.mockray.serialization import Serialized
from dsai.mockray.task import Task
from dsai.sim.process import Process

__all__ = ["Completion"]


class Completion:
    """Booking the end of an attempt: success, retry or failure."""

    def _end(self, task: Task, proc: Process, killed: bool, result: Any,
             error: BaseException | None) -> NodeState | None:
        """Book one finished attempt: timeline, resources, then the result or
        the error. Returns the node a task freed resources on, to dispatch."""
        ns = task.node
        actor = task.actor
        self._record(task, (ns or self.head).node.id,
                     "killed" if killed else ("failed" if error is not None else "ok"))
        kind = task.kind
        if kind == "actor_task":
            actor.running.pop(task.seq, None)
            if killed:
                return None  # whoever killed it has already retried or failed it
            if task.cancel_requested and not task.done and not isinstance(error, CancelledError):
                # A sync call is not interrupted: Ray lets it run, and its get says cancelled.
                self.fail(task, TaskCancelledError(task.task_id_hex), cancelled=True)
            elif error is not None:
                self.task_failed(task, error, proc)
            else:
                self._succeed(task, result, actor.node)
            if actor.mailbox and actor.server is None:  # (a serving worker takes the next itself)
                actor.pump()
            return None
        if kind == "actor_creation":
            task.actor.on_exit(task, proc)
            return None
        ns.running.pop(task.seq, None)
        if task.released_cpu:
            task.released_cpu = False
            ns.acquire({"CPU": task.hold.get("CPU", 0.0)})
        ns.release(task.hold)
        ns.give_worker(task.worker)
        task.node = None
        if killed:
            pass  # whoever killed it has already retried or failed it
        elif error is not None:
            self.task_failed(task, error, proc)
        else:
            self._succeed(task, result, ns)
        return ns

    def _record(self, task: Task, node_id: int, status: str) -> None:
        """Count an attempt that ended now, and put it on the timeline."""
        self.tasks_run = n = self.tasks_run + 1
        if not n & 0x3FFF:  # every 16k tasks, also within one long get
            gc_policy.checkpoint(self.work_done())
        if self.record_timeline:
            # A tuple of strings and numbers: cheap to keep (the garbage collector
            # stops scanning it), turned into Chrome-trace dicts by `timeline()`.
            actor = task.actor
            self.timeline_events.append((task.name, task.id, actor.id if actor is not None else None,
                                         node_id, task.worker, task.start, self.clock.time,
                                         task.attempt - 1, status))

    def _succeed(self, task: Task, results: list[Serialized], ns: NodeState) -> None:
        task.state = "finished"
        if task.children:
            task.children = None  # only a running task's children can be cancelled with it
        now = self.clock.time
        here = ns.node.id
        if task.caller_node == here and task.num_returns == 1:  # the common case, short
            task.returns[0].set_value(results[0], here, now)
        else:
            owner = task.caller_node
            small = None
            for e, s in zip(task.returns, results):
                if owner != here and s.nbytes < INLINE_THRESHOLD:
                    if small is None:
                        small = []
                    small.append((e, s))
                else:
                    e.set_value(s, here, now)
            if small is not None and len(small) == 1:
                e, s = small[0]
                self.sim.network.deliver(here, owner, s.nbytes, self._replied_one, e, s, owner)
            elif small is not None:
                # Small results ride back to the owner in the task's reply, a message that
                # costs latency + bytes / bandwidth: they are ready once it arrives.
                self.sim.network.deliver(here, owner, sum(s.nbytes for _, s in small), self._replied,
                                         small, owner)
        if not task.unreleased:  # nobody kept a ref to its results
            task.release_args()

    def _replied_one(self, e: Any, s: Serialized, owner: int) -> None:
        if not e.done:
            e.set_value(s, owner, self.clock.time)

    def _replied(self, small: list, owner: int) -> None:
        """A task's reply reached its owner: its small results are ready there."""
        now = self.clock.time
        for e, s in small:
            if not e.done:
                e.set_value(s, owner, now)

    def task_failed(self, task: Task, error: BaseException, proc: Process | None) -> None:
        """A task's code raised: retry it if allowed, else store the error."""
        if task.cancel_requested and isinstance(error, (KeyboardInterrupt, TaskCancelledError, CancelledError)):
            if isinstance(error, KeyboardInterrupt) and task.kind == "task" or isinstance(error, CancelledError):
                # Interrupted in its own code: Ray 2.60 reports it as the task's error,
                # RayTaskError(TaskCancelledError) with the line the interrupt reached.
                cancelled = TaskCancelledError(task.task_id_hex).with_traceback(error.__traceback__)
                self.fail(task, self.task_error(task, cancelled, proc), cancelled=True)
                return
            self.fail(task, TaskCancelledError(task.task_id_hex), cancelled=True)
            return
        if isinstance(error, Exception) and task.retryable(error):
            if task.retries_left > 0:
                task.retries_left -= 1
            self.retry(task)
            return
        self.fail(task, self.task_error(task, error, proc))

    def task_error(self, task: Task, error: BaseException, proc: Process | None) -> RayTaskError:
        tb = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        if isinstance(error, RayTaskError):
            error = error.cause  # a failed nested get: keep the original cause, as Ray does
        lines = [ln for ln in _strip_internal_frames(tb.splitlines())]
        node = task.node or (self.nodes[proc.node.id] if proc is not None and proc.node else self.head)
        actor = task.actor
        return RayTaskError(task.name, "\n".join(lines), error, proctitle=f"ray::{task.name}",
                            pid=node.pid(task.worker), ip=node.ip,
                            actor_repr=actor.repr_string() if actor is not None else None,
                            actor_id=actor.id if actor is not None else None)

    def retry(self, task: Task) -> None:
        task.node = None
        task.proc = None
        if task.kind == "actor_task":
            task.actor.mailbox.appendleft(task)  # a retried call keeps its place in line
        self.submit(task)

    def fail(self, task: Task, error: BaseException, cancelled: bool = False) -> None:
        task.state = "cancelled" if cancelled else "failed"
        if task.children:
            task.children = None
        if task.kind == "task" and task.node is not None:
            task.node.running.pop(task.seq, None)
        now = self.clock.time
        for e in task.returns:
            if not e.done:
                e.set_error(error, task.caller_node, now)
        if not task.unreleased:
            task.release_args()
        if task.kind == "actor_creation":
            task.actor.creation_failed(error)


def _strip_internal_frames(lines: list[str]) -> list[str]:
    out, skip = [], False
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # .../dsai
    for ln in lines:
        if ln.startswith("  File "):
            skip = here in ln or "/greenlet/" in ln
            if skip:
                continue
        elif skip and ln.startswith("    "):
            continue
        else:
            skip = False
        out.append(ln)
    return out

