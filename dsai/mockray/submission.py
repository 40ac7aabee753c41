"""Task submission: a task waits for its arguments, then for a node with the resources it asks for.

Life of a task up to its start: `new_task` makes the task and its return
objects (its refs are what `.remote()` returns); `submit` waits for its
argument objects (`waiting`); `_place` asks the scheduler for a node with
free resources, or queues it behind tasks of the same shape (`queued`);
`_assign` reserves the resources, sends the task's spec from the caller's
node if it runs elsewhere, and fetches the argument objects not on its node
(`fetching`); then `start` (workers.py) runs it. A node that frees
resources calls `dispatch`, which hands them to the oldest queued tasks that
fit. Retries, restarts and lineage reconstruction re-enter at `submit`.

Part of `Runtime` (runtime.py): this mixin reads `sched`, `nodes`, `objects`
and the id counters, and calls `start` (workers.py), `fail` (completion.py)
and `fetch` (object_store.py).
"""

from __future__ import annotations

from typing import Any, Callable

from greenlet import getcurrent

from dsai.mockray.exceptions import RayTaskError
from dsai.mockray.gc_policy import gc_policy
from dsai.mockray.object_ref import FAILED, LOST, READY, ObjectEntry, ObjectRef
from dsai.mockray.scheduler import NodeState
from dsai.mockray.serialization import Serialized
from dsai.mockray.task import JOB_ID, NO_ACTOR, Task, spec_bytes
from dsai.sim.process import current_process

__all__ = ["Submission"]

_new = object.__new__
_init_task, _init_entry = Task.__init__, ObjectEntry.__init__


class Submission:
    """From `.remote()` to a node: arguments first, then resources."""

    def caller(self) -> tuple[int, Task | None]:
        """The node and task of whoever is submitting (the driver runs on the head)."""
        proc = current_process()
        if proc is not None and proc.node is not None:
            return proc.node.id, proc.context
        return 0, None

    def new_task(self, name: str, fn: Callable[..., Any] | None, blob: Serialized | None,
                 refs: list[ObjectRef], num_returns: int, demand: dict[str, float], kind: str = "task",
                 max_retries: int = 0, retry_exceptions: Any = False, strategy: Any = None,
                 actor: Any = None, method: str | None = None, shape: tuple | None = None,
                 id_suffix: bytes = NO_ACTOR + JOB_ID) -> tuple[Task, Any]:
        """A task submitted by the caller (the driver, or the task running now),
        and what `.remote()` returns: its one ref, a list of refs, or None."""
        proc = getattr(getcurrent(), "proc", None)
        if proc is not None and proc.node is not None:
            owner, parent = proc.node.id, proc.context
        else:
            owner, parent = 0, None
        self._seq = seq = self._seq + 1
        if not seq & 0x3FFF:  # a driver submitting a million tasks
            gc_policy.checkpoint(self.work_done())
        tid = seq.to_bytes(8, "big") + id_suffix
        # Task(...), ObjectEntry(...), ObjectRef(...) without the type calls, which
        # cost more than the __init__s they run (every .remote() passes here).
        task = _new(Task)
        _init_task(task, self, seq, tid, name, fn, blob, refs, num_returns, demand, kind, max_retries,
                   retry_exceptions, owner, strategy, actor, method, shape)
        if parent is not None:
            parent.add_child(task)
        objects = self.objects
        if num_returns == 1:  # the common case, kept flat
            oid = tid + b"\x01\x00\x00\x00"
            objects[oid] = e = _new(ObjectEntry)
            _init_entry(e, oid, task, owner, objects)
            task.returns = (e,)
            ref = _new(ObjectRef)
            ref._id, ref._entry, e.nrefs = oid, e, 1
            return task, ref
        returns, entries = [], []
        for i in range(num_returns):
            oid = tid + (i + 1).to_bytes(4, "little")
            objects[oid] = e = ObjectEntry(oid, task, owner, objects)
            entries.append(e)
            returns.append(ObjectRef(oid, e))
        task.returns = tuple(entries)
        return task, (returns if num_returns else None)

    def new_actor_id(self) -> str:
        """Ray's layout: 12 bytes unique to the actor (here the number its creation task
        will get), then the job's 4."""
        return ("%024x" % (self._seq + 1)) + JOB_ID.hex()

    def submit(self, task: Task) -> None:
        """Start a task's journey: wait for its arguments, then place it."""
        task.state = "waiting"
        if not task.arg_entries:
            self._deps_ready(task)
            return
        attempt = task.attempt
        pending = 0
        for e in task.arg_entries:
            if e.state is FAILED:
                self._dep_failed(task, e.error)
                return
            if e.state is not READY:
                pending += 1
        if pending == 0:
            self._deps_ready(task)
            return
        task.deps_pending = pending
        for e in task.arg_entries:
            if e.state is not READY:
                if e.state is LOST:
                    self._recover(e)
                e.on_done(lambda e, t=task, a=attempt: self._dep_done(t, e, a))

    def _dep_done(self, task: Task, e: ObjectEntry, attempt: int) -> None:
        if task.state != "waiting" or task.attempt != attempt:
            return
        if e.state is FAILED:
            self._dep_failed(task, e.error)
            return
        task.deps_pending -= 1
        if task.deps_pending == 0:
            self._deps_ready(task)

    def _dep_failed(self, task: Task, error: BaseException) -> None:
        """An argument could not be computed: the task fails without running."""
        if isinstance(error, RayTaskError) and task.kind != "actor_creation":
            ns = self.nodes[task.caller_node]
            error = RayTaskError(
                task.name, "Traceback (most recent call last):\n  At least one of the input arguments "
                "for this task could not be computed:\nray.exceptions.RayTaskError: " + str(error), error.cause,
                proctitle=f"ray::{task.name}", pid=ns.pid(0), ip=ns.ip)
        self.fail(task, error)
        if task.kind == "actor_task":
            task.actor.pump()  # it may have held the head of the mailbox

    def _deps_ready(self, task: Task) -> None:
        if task.kind == "actor_task":
            task.actor.call_ready(task)
        else:
            self._place(task)

    def _place(self, task: Task) -> None:
        sched = self.sched
        q = sched._queues.get(task.shape) or sched.queue(task.shape or sched.shape(task))
        while q and q[0].state != "queued":  # (cancelled or failed while queued)
            q.popleft()
        # Behind a queue of the same shape it waits its turn (FIFO), even if a node is free.
        ns = None if q else sched.choose(task)
        if ns is None:
            if task.strategy is not None and self.fail_if_pinned_to_a_gone_node(task):
                return
            task.state = "queued"
            q.append(task)
            return
        self._assign(task, ns)

    def _assign(self, task: Task, ns: NodeState) -> None:
        ns.acquire(task.hold)
        task.node = ns
        task.state = "fetching"
        ns.running[task.seq] = task
        if task.caller_node != ns.node.id:
            if task.arg_entries:
                self.fetch_args(task, ns, self.start, spec=True)
            else:  # the spec alone (the common case of a fan-out), without fetch_args' closure
                self.sim.network.deliver(task.caller_node, ns.node.id, spec_bytes(task), self._spec_arrived,
                                         task, ns, task.attempt)
        elif task.arg_entries:
            self.fetch_args(task, ns, self.start)
        else:
            self.start(task)

    def _spec_arrived(self, task: Task, ns: NodeState, attempt: int) -> None:
        if task.attempt == attempt and task.state == "fetching" and task.node is ns:
            self.start(task)

    def fetch_args(self, task: Task, ns: NodeState, then: Callable[[Task], Any], spec: bool = False) -> None:
        """Bring what `task` needs to node `ns`, then `then(task)`: its argument objects not
        there yet and, with `spec`, its spec (with the arguments passed by value) from the
        caller's node. They travel at the same time, as Ray's owner inlines small arguments
        into the spec while the worker pulls large ones."""
        node_id = ns.node.id
        missing = [e for e in task.arg_entries if not self.is_local(e, node_id)]
        if not missing and not spec:
            then(task)
            return
        attempt, left = task.attempt, [len(missing) + spec]

        def one_done() -> None:
            left[0] -= 1
            if left[0] == 0 and task.attempt == attempt and task.state == "fetching" and task.node is ns:
                then(task)

        if spec:
            self.sim.network.deliver(task.caller_node, node_id, spec_bytes(task), one_done)
        for e in missing:
            self.fetch(e, node_id, one_done)

    def dispatch(self, ns: NodeState, for_worker: bool = False) -> Task | None:
        """Give a node's free resources to the oldest queued tasks that fit.
        A worker that just finished a task asks `for_worker`: the first plain
        task whose arguments are at hand is returned for that worker to run,
        started, instead of getting a process of its own."""
        if not ns.node.alive:
            return None
        if self.placement is not None and self.placement.pending:  # groups waiting for resources go first
            self.placement.place_pending()
        inline = None
        take_for = self.sched.take_for
        while True:
            task = take_for(ns)
            if task is None:
                return inline
            if for_worker and inline is None and task.kind == "task" and (
                    not task.arg_entries or all(self.is_local(e, ns.node.id) for e in task.arg_entries)):
                ns.acquire(task.hold)
                task.node = ns
                ns.running[task.seq] = task
                if task.caller_node == ns.node.id:
                    self._begin(task)
                else:
                    task.state = "fetching"  # the worker waits for its spec (Workers._await_spec)
                task.worker = ns.take_worker()
                inline = task
            else:
                self._assign(task, ns)
