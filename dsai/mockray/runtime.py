"""The simulated Ray runtime: an object store, a scheduler and workers on a virtual-time cluster.

Life of a task: `submit` waits for its argument objects, `_place` finds a
node with free resources (or queues it), `_assign` reserves them and fetches
large arguments over the network, `_start` runs the function in a simulated
process, `_on_exit` stores the results (or the error) where it ran and frees
the resources for the next queued task. Faults, retries, restarts and
lineage reconstruction all re-enter this path.

Objects smaller than `INLINE_THRESHOLD` travel inside task specs and
replies, as in Ray: they are available everywhere at once and survive node
deaths (their bytes are still counted). Larger objects live in the store of
the node that made them and cross the network when another node needs them.
"""

from __future__ import annotations

import gc
import operator
import os
import traceback
from typing import Any, Callable

from greenlet import getcurrent

from dsai.mockray.exceptions import (ActorUnschedulableError, NodeDiedError, ObjectLostError,
                                     ObjectReconstructionFailedError, RayError, RayTaskError,
                                     ReferenceCountingAssertionError,
                                     SimulationDeadlockError, TaskCancelledError,
                                     TaskUnschedulableError, WorkerCrashedError)
from dsai.mockray.object_ref import CHANGES, FAILED, LOST, PENDING, READY, ObjectEntry, ObjectRef
from dsai.mockray.scheduler import NodeState, Scheduler
from dsai.mockray.serialization import SCALARS, Serialized, serialize_scalar, deserialize, serialize
from dsai.mockray.task import DONE_STATES, Task, unpack_args
from dsai.sim import Simulation
from dsai.sim.network import NetworkConfig
from dsai.sim.process import Killed, Process, current_process, suspend
from dsai.sim.simulation import set_current

__all__ = ["Runtime", "runtime", "runtime_or_none", "INLINE_THRESHOLD"]

INLINE_THRESHOLD = 100 * 1024  # bytes; Ray's max_direct_call_object_size
REUSE_LIMIT = 64  # tasks (or calls) a worker runs back to back before the event loop gets a turn
JOB_ID = bytes.fromhex("01000000")
_NO_ACTOR = b"\xff" * 12
_state = operator.attrgetter("state")

_runtime: "Runtime | None" = None


def runtime() -> "Runtime":
    """The running runtime, started with defaults if needed (Ray auto-initializes too)."""
    if _runtime is None:
        from dsai.mockray import api

        api.init()
    assert _runtime is not None
    return _runtime


def runtime_or_none() -> "Runtime | None":
    return _runtime


def _set_runtime(rt: "Runtime | None") -> None:
    global _runtime
    _runtime = rt
    set_current(rt.sim if rt is not None else None)


class _ThenFetch:
    """Callback: once an object is ready, copy it to `node_id`, then call `cb(e)`."""

    __slots__ = ("rt", "node_id", "cb")

    def __init__(self, rt: "Runtime", node_id: int, cb: Callable[[ObjectEntry], Any]) -> None:
        self.rt, self.node_id, self.cb = rt, node_id, cb

    def __call__(self, e: ObjectEntry) -> None:
        if self.rt.is_local(e, self.node_id):
            self.cb(e)
        else:
            self.rt.fetch(e, self.node_id, lambda: self.cb(e))


class _Waiter:
    """Counts objects becoming available (ready or failed, and local if asked)
    for one get/wait call.

    The waiter is itself the callback a pending object calls once, so waiting
    on k objects allocates nothing per object. A driver waiting for some of
    many objects (`ray.wait` in a loop over a shrinking list, as in Ray's
    microbenchmark) does not subscribe at all: it reads the `CHANGES` log
    after each event and looks only at the objects listed there. Which
    objects are available is read off the entries afterwards.
    """

    __slots__ = ("rt", "count", "num", "failed", "stop_on_error", "proc", "woken", "active",
                 "node_id", "fetch_local", "watch", "seen")

    def __init__(self, rt: "Runtime", entries: list[ObjectEntry], num: int, node_id: int,
                 fetch_local: bool, stop_on_error: bool, watch: set | None = None) -> None:
        self.rt = rt
        self.num = num
        self.failed = False
        self.stop_on_error = stop_on_error
        self.proc: Process | None = None
        self.woken = False
        self.active = True
        self.node_id = node_id
        self.fetch_local = fetch_local
        self.watch = None
        count = 0
        pending = None
        if len(entries) > 1 and list(map(_state, entries)).count(PENDING) == len(entries):
            pending, entries = entries, ()  # nothing ready yet (seen at C speed)
        for e in entries:
            st = e.state
            if st is READY:
                if not fetch_local or e.value.nbytes < INLINE_THRESHOLD or node_id in e.locations:
                    count += 1  # available already: the common case, kept inline
                    if count >= num:
                        break
                    continue
            elif st is FAILED:
                count += 1
                if stop_on_error:
                    self.failed = True
                    break
                if count >= num:
                    break
                continue
            if pending is None:
                pending = []
            pending.append(e)
        self.count = count
        if pending is None or count >= num or self.failed:
            return
        if watch is not None and CHANGES.entries is None:
            if len(pending) != len(watch):
                watch = set(pending)
            for e in pending:
                if e.state is not PENDING:  # to fetch or to rebuild: a callback counts it
                    watch.discard(e)
                    self._subscribe((e,))
            self.watch, self.seen = watch, 0
            CHANGES.entries = []
            return
        self._subscribe(pending)

    def _subscribe(self, pending: "list[ObjectEntry] | tuple") -> None:
        for e in pending:
            st = e.state
            if st is PENDING:
                if e.callbacks is None:
                    e.callbacks = self
                else:
                    e.add_callback(self)
            elif st is READY:
                self(e)  # ready elsewhere: fetch it
            else:
                self.rt.when_available(e, None, self)  # lost: rebuild it first

    def poll(self) -> bool:
        """The driver's loop condition: satisfied yet?"""
        watch = self.watch
        if watch is not None:
            log = CHANGES.entries
            if self.seen < len(log):
                changed, self.seen = log[self.seen:], len(log)
                for e in changed:
                    if e in watch:
                        watch.discard(e)
                        if self.available(e):
                            self.count += 1
                            if e.state is FAILED and self.stop_on_error:
                                self.failed = True
                        else:
                            self._subscribe((e,))  # fetch it, or rebuild it, then count it
        return self.count >= self.num or self.failed

    def close(self) -> None:
        self.active = False
        if self.watch is not None:
            self.watch = CHANGES.entries = None

    def __call__(self, e: ObjectEntry) -> None:
        if not self.active:
            return  # the call returned already; nothing to count or fetch
        if (self.fetch_local and e.state is READY and e.value.nbytes >= INLINE_THRESHOLD
                and self.node_id not in e.locations):
            self.rt.fetch(e, self.node_id, lambda: self(e))
            return
        self.count += 1
        if e.state is FAILED and self.stop_on_error:
            self.failed = True
        if self.proc is not None and not self.woken and (self.count >= self.num or self.failed):
            self.woken = True
            self.rt.sim.wake(self.proc, "ready")

    def satisfied(self) -> bool:
        return self.count >= self.num or self.failed

    def available(self, e: ObjectEntry) -> bool:
        st = e.state
        if st is FAILED:
            return True
        return st is READY and (not self.fetch_local or e.value.nbytes < INLINE_THRESHOLD
                                or self.node_id in e.locations)

    def timeout(self) -> None:
        if self.proc is not None and not self.woken:
            self.woken = True
            self.rt.sim.wake(self.proc, "timeout")


class Runtime:
    """All state of one simulated Ray cluster (what `ray.init` starts)."""

    def __init__(self, *, seed: int = 0, namespace: str | None = None,
                 network: NetworkConfig | None = None) -> None:
        self.sim = Simulation(seed=seed, network=network)
        self.clock = self.sim.loop.clock  # (read at every task's start and end)
        _gc_policy.start()
        self.sched = Scheduler()
        self.nodes: list[NodeState] = []
        self.objects: dict[bytes, ObjectEntry] = {}
        self.actors: dict[str, Any] = {}  # actor id hex -> ActorState
        self.named_actors: dict[tuple[str, str], Any] = {}
        self.namespace = namespace or "anonymous-namespace"
        self.timeline_events: list[dict] = []
        self.record_timeline = True
        self.tasks_run = 0
        self._seq = 0
        self._put_seq = 0
        self._ids = self.sim.stream("ids")
        self.driver_task_id = (0).to_bytes(8, "big") + b"\xff" * 12 + JOB_ID
        self.blocked: dict[Process, Any] = {}  # processes in get/wait, for deadlock reports
        self.wait_list: Any = None  # the driver's last `ray.wait` list (wait_list.WaitList)
        self.sim.hooks["kill_worker"] = self.kill_worker
        self.sim.hooks["resolve_node"] = self._resolve_node

    # -- cluster --------------------------------------------------------------------
    def add_node(self, num_cpus: float, num_gpus: float = 0, resources: dict[str, float] | None = None,
                 name: str | None = None, memory: float = 8 * 1024**3,
                 object_store_memory: float = 2 * 1024**3) -> NodeState:
        index = len(self.nodes)
        node = self.sim.add_node(name or ("head" if index == 0 else f"node-{index}"))
        ip = f"10.0.0.{index + 1}"
        total: dict[str, float] = {"CPU": float(num_cpus)}
        if num_gpus:
            total["GPU"] = float(num_gpus)
        for k, v in (resources or {}).items():
            total[k] = float(v)
        total["memory"] = float(memory)
        total["object_store_memory"] = float(object_store_memory)
        total[f"node:{ip}"] = 1.0
        if index == 0:
            total["node:__internal_head__"] = 1.0
        ns = NodeState(node, total, "%056x" % self._ids.getrandbits(224), ip, index == 0)
        self.nodes.append(ns)
        self.sched.add(ns)
        node.on_death(self._on_node_death)
        node.on_restart(self._on_node_restart)
        self.sim.loop.call_soon(self._dispatch, ns)
        return ns

    @property
    def head(self) -> NodeState:
        return self.nodes[0]

    def _resolve_node(self, ref: Any) -> Any:
        for ns in self.nodes:
            if ns.node_id == ref or ns.ip == ref:
                return ns.node
        return None

    # -- ids and objects ----------------------------------------------------------------
    def task_id(self, seq: int, actor_id: str | None = None) -> bytes:
        """Ray's layout: 8 bytes unique to the task, 12 of the actor (or 0xff), 4 of the job."""
        return seq.to_bytes(8, "big") + (bytes.fromhex(actor_id[:24]) if actor_id else _NO_ACTOR) + JOB_ID

    def new_object(self, object_id: bytes, creator: Task | None, owner_node: int) -> ObjectEntry:
        e = ObjectEntry(object_id, creator, owner_node, self.objects)
        self.objects[object_id] = e
        return e

    def freed(self, object_id: bytes) -> ObjectEntry:
        """An object asked for by id after reference counting freed it: a failed entry."""
        e = self.new_object(object_id, None, 0)
        e.set_error(ReferenceCountingAssertionError(object_id.hex()), 0, self.clock._now)
        return e

    def entry(self, ref: ObjectRef) -> ObjectEntry:
        e = ref._entry
        if e is None:
            e = self.objects.get(ref._id)
            if e is None:
                raise ValueError(f"{ref!r} does not belong to this cluster (was it made before "
                                 "ray.shutdown() or by another ray.init()?)")
            ref._entry = e
            e.nrefs += 1
        return e

    def put(self, value: Any, node_id: int) -> ObjectRef:
        self._put_seq += 1
        oid = self.driver_task_id + (0x80000000 | self._put_seq).to_bytes(4, "little")
        proc = current_process()
        if proc is not None and proc.context is not None:
            oid = proc.context.id + (0x80000000 | self._put_seq).to_bytes(4, "little")
        e = self.new_object(oid, None, node_id)
        s = serialize(value, "the put value")
        e.set_value(s, node_id, self.clock._now)
        return ObjectRef(oid, e)

    def is_inline(self, e: ObjectEntry) -> bool:
        return e.value is not None and e.value.nbytes < INLINE_THRESHOLD

    def is_local(self, e: ObjectEntry, node_id: int) -> bool:
        if e.state is FAILED:
            return True
        if e.state is not READY:
            return False
        return e.value.nbytes < INLINE_THRESHOLD or node_id in e.locations

    def when_available(self, e: ObjectEntry, node_id: int | None, cb: Callable[[ObjectEntry], Any]) -> None:
        """`cb(e)` once `e` is ready or failed and, if `node_id` is given, copied there."""
        if e.state is LOST:
            self._recover(e)  # rebuild it from lineage, or fail it with ObjectLostError
        e.on_done(cb if node_id is None else _ThenFetch(self, node_id, cb))

    def fetch(self, e: ObjectEntry, node_id: int, cb: Callable[[], Any]) -> None:
        """Copy a ready object to `node_id` over the network, then `cb()`."""
        if self.is_local(e, node_id):
            cb()
            return
        if e.state is LOST or e.state is PENDING:
            if e.state is LOST:
                self._recover(e)
            e.on_done(lambda e: self.fetch(e, node_id, cb))
            return
        if e.fetching is None:
            e.fetching = {}
        waiting = e.fetching.get(node_id)
        if waiting is not None:
            waiting.append(cb)
            return
        src = next((n for n in e.locations if self.nodes[n].alive), None)
        if src is None:
            e.state = LOST
            self.fetch(e, node_id, cb)
            return
        e.fetching[node_id] = [cb]
        self.sim.network.transfer(src, node_id, e.value.nbytes, lambda: self._fetched(e, node_id, src))

    def _fetched(self, e: ObjectEntry, node_id: int, src: int) -> None:
        waiting = e.fetching.pop(node_id, []) if e.fetching else []
        if not self.nodes[node_id].alive:
            return  # the tasks that wanted it died with the node
        if not self.nodes[src].alive or e.state is not READY:
            for cb in waiting:  # the source died mid-copy: try another copy
                self.fetch(e, node_id, cb)
            return
        if node_id not in e.locations:
            e.locations += (node_id,)
            if CHANGES.entries is not None:
                CHANGES.entries.append(e)
        for cb in waiting:
            cb()

    def _recover(self, e: ObjectEntry) -> None:
        """Lineage reconstruction: re-run the task that made a lost object, if allowed."""
        creator = e.creator
        if creator is not None and creator.kind == "task" and creator.done and creator.state == "finished":
            if creator.retries_left != 0:
                if creator.retries_left > 0:
                    creator.retries_left -= 1
                for r in creator.returns:
                    if r.state is not PENDING:
                        r.state, r.value, r.locations = PENDING, None, ()
                self.submit(creator)
                return
            err: RayError = ObjectReconstructionFailedError(e.id.hex())
        else:
            err = ObjectLostError(e.id.hex())
        e.error, e.value, e.state = err, None, FAILED
        e._fire()

    # -- submission -----------------------------------------------------------------------
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
                 id_suffix: bytes = _NO_ACTOR + JOB_ID) -> tuple[Task, Any]:
        """A task submitted by the caller (the driver, or the task running now),
        and what `.remote()` returns: its one ref, a list of refs, or None."""
        proc = getattr(getcurrent(), "proc", None)
        if proc is not None and proc.node is not None:
            owner, parent = proc.node.id, proc.context
        else:
            owner, parent = 0, None
        self._seq = seq = self._seq + 1
        if not seq & 0x3FFF:  # a driver submitting a million tasks
            _gc_policy.checkpoint(self.tasks_run + self._put_seq + seq)
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

    def submit(self, task: Task) -> None:
        """Start a task's journey: wait for its arguments, then place it."""
        task.state = "waiting"
        if not task.arg_entries:  # (_deps_ready, inlined for the common case)
            if task.kind == "actor_task":
                task.state = "ready"
                task.actor.pump()
            else:
                self._place(task)
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
                "for this task could not be computed:\n" + str(error), error.cause,
                proctitle=f"ray::{task.name}", pid=_fake_pid(ns, 0), ip=ns.ip)
        self._fail(task, error)
        if task.kind == "actor_task":
            task.actor.pump()  # it may have held the head of the mailbox

    def _deps_ready(self, task: Task) -> None:
        if task.kind == "actor_task":
            task.state = "ready"
            task.actor.pump()
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
            task.state = "queued"
            q.append(task)
            return
        self._assign(task, ns)

    def _assign(self, task: Task, ns: NodeState) -> None:
        ns.acquire(task.hold)
        task.node = ns
        task.state = "fetching"
        ns.running[task.seq] = task
        if task.arg_entries:
            self.fetch_args(task, ns, self._start)
        else:
            self._start(task)

    def fetch_args(self, task: Task, ns: NodeState, then: Callable[[Task], Any]) -> None:
        node_id = ns.node.id
        missing = [e for e in task.arg_entries if not self.is_local(e, node_id)]
        if not missing:
            then(task)
            return
        attempt, left = task.attempt, [len(missing)]

        def one_done() -> None:
            left[0] -= 1
            if left[0] == 0 and task.attempt == attempt and task.state == "fetching" and task.node is ns:
                then(task)

        for e in missing:
            self.fetch(e, node_id, one_done)

    def _start(self, task: Task) -> None:
        ns = task.node
        self._begin(task)
        if task.kind == "task":
            task.worker = ns.take_worker()
            self._launch(task, self._work, ([task],), self._on_exit)
            return
        if task.kind == "actor_creation":
            task.actor.placed(task)
        self._launch(task, self._execute, (task,), self._on_exit)

    def _launch(self, task: Task, fn: Callable[..., Any], args: tuple, on_exit: Callable[[Process], Any],
                now: bool = True) -> Process:
        """Run `fn(*args)` in a new worker process for `task`: sim.spawn(..., start=now),
        flattened, since every task and call passes here."""
        sim = self.sim
        task.proc = proc = _new(Process)  # (Process(...) without the type call, as in new_task)
        _init_process(proc, sim, fn, args, task.name, task.node.node)
        proc.on_exit = on_exit
        proc.context = task
        if now and sim.loop.running and not sim._resuming and getattr(getcurrent(), "proc", None) is None:
            sim.resume(proc)
        else:
            sim.loop.call_soon(sim.resume, proc, None)
        return proc

    def _begin(self, task: Task) -> None:
        """A new attempt of `task` starts running now."""
        task.state = "running"
        task.attempt += 1
        task.start = self.clock._now

    # -- actors that run one call at a time ---------------------------------------------------
    def _serve_start(self, task: Task) -> None:
        self._begin(task)
        actor = task.actor
        idle = actor.idle
        if idle is not None:  # its worker waits for a call (see _serve): hand it this one
            actor.idle = None
            actor.server = task.proc = idle
            idle.context, idle.name = task, task.name
            self.sim.loop.call_soon(self.sim.resume, idle, task)
            return
        # Started as the next event, never at once: the actor must know its server
        # before the server runs (a call that ends at once pumps the mailbox).
        actor.server = self._launch(task, self._serve, (actor, [task]), self._served, now=False)

    def _serve(self, actor: Any, first: list[Task]) -> None:
        """The worker of an actor with max_concurrency=1: runs its calls back to back while
        the next one is ready, without a new process (and a trip through the event
        queue) for each; a call that blocks blocks the worker, as it would anyway.
        With nothing left to run it waits for the next call (`_serve_start` wakes
        it), as Ray's actor worker does, rather than end and be launched again."""
        task = first.pop()  # (a list the call's arguments keep: the first call must not live as long as the worker)
        proc = task.proc
        left = REUSE_LIMIT
        here = actor.node.node.id  # (a call never outlives its actor's node: its death kills this process)
        clock = self.clock
        while True:
            try:
                results, error = self._execute(task), None
            except Killed:
                raise  # the worker died: whoever killed it deals with the call
            except BaseException as e:  # the call's own error: the actor carries on
                results, error = None, e
            task.proc = proc.context = None
            if error is None and task.num_returns == 1 and task.caller_node == here:
                actor.running.pop(task.seq, None)
                self._finished(task, results[0], here, actor.id)
                if actor.mailbox and actor.server is None:
                    actor.pump()
            else:
                self._end(task, proc, False, results, error)
            results = error = None  # (not kept alive while the next call runs, or none comes)
            # A cancelled call was interrupted where it blocked: the event that
            # would have resumed it (a sleep's end, a wake) may still come, so
            # this process must not run anything else.
            left = 0 if task.cancel_requested else left - 1
            task = actor.next_call() if left > 0 else None
            if task is None:
                if left <= 0 or actor.mailbox or actor.state != "ALIVE" or actor.kill_pending:
                    return  # (_served starts the next call in a new process, if one waits)
                actor.server, actor.idle = None, proc
                task = suspend(("idle", actor))  # the next call, begun (or Killed: see ActorState.crash)
                left = REUSE_LIMIT
                continue
            task.state = "running"  # (_begin, inlined)
            task.attempt += 1
            task.start = clock._now
            task.proc, proc.context, proc.name = proc, task, task.name

    def _served(self, proc: Process) -> None:
        actor = proc.fn_args[0]
        if actor.server is proc:
            actor.server = None
        if proc.context is not None:  # killed in the middle of a call
            self._on_exit(proc)
        elif actor.mailbox:
            actor.pump()

    def _execute(self, task: Task) -> list[Serialized]:
        """Runs inside the simulated worker: arguments in, serialized results out."""
        actor = task.actor
        fn = task.fn if task.method is None else getattr(actor.instance, task.method)
        if task.args_blob is None:  # no arguments: the common case in fan-outs
            result = fn()
        else:
            for e in task.arg_entries:
                if e.state is FAILED:  # lost after the task was queued, and not rebuilt
                    raise e.error
            values = [deserialize(e.value) for e in task.arg_entries]
            args, kwargs = unpack_args(task.args_blob, values)
            result = fn(*args, **kwargs)
        if actor is not None and actor.is_async and _is_coroutine(result):
            result = _run_coroutine(result)
        n = task.num_returns
        if n == 1:
            t = type(result)
            if t in SCALARS:  # (None included: the common fire-and-forget result)
                return [serialize_scalar(result, t)]
            return [serialize(result, f"the return value of {task.name}")]
        if n == 0:
            return []
        try:
            parts = list(result)
        except TypeError:
            parts = None
        if parts is None:
            raise ValueError(f"Task {task.name} has num_returns={n} but returned a non-iterable "
                             f"{type(result).__name__}; return a tuple of exactly {n} values.")
        if len(parts) != n:
            raise ValueError(f"Task returned {len(parts)} objects, but num_returns={n}.")
        return [serialize(p, f"a return value of {task.name}") for p in parts]

    def _on_exit(self, proc: Process) -> None:
        """A worker process ended: book what it was running (nothing, if it
        booked its last task or call itself: see `_work` and `_serve`)."""
        task: Task = proc.context
        if task is None:
            return
        task.proc = proc.context = None  # the process is done; let it go
        ns = self._end(task, proc, proc.killed, proc.result, proc.error)
        if ns is not None:
            self._dispatch(ns)

    def _end(self, task: Task, proc: Process, killed: bool, result: Any,
             error: BaseException | None) -> NodeState | None:
        """Book one finished attempt: timeline, resources, then the result or
        the error. Returns the node a task freed resources on, to dispatch."""
        ns = task.node
        actor = task.actor
        self.tasks_run = n = self.tasks_run + 1
        if not n & 0x3FFF:  # every 16k tasks, also within one long get
            _gc_policy.checkpoint(n + self._put_seq + self._seq)
        if self.record_timeline:
            # A tuple of strings and numbers: cheap to keep (the garbage collector
            # stops scanning it), turned into Chrome-trace dicts by `timeline()`.
            self.timeline_events.append((task.name, task.id, actor.id if actor is not None else None,
                                         (ns or self.head).node.id, task.worker, task.start,
                                         self.clock._now, task.attempt - 1,
                                         "killed" if killed else
                                         ("failed" if error is not None else "ok")))
        kind = task.kind
        if kind == "actor_task":
            actor.running.pop(task.seq, None)
            if killed:
                return None  # whoever killed it has already retried or failed it
            if error is not None:
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

    def _finished(self, task: Task, result: Serialized, here: int, actor_id: str | None) -> None:
        """Book an attempt that ended well with one result kept on `here`, its
        caller's node: what `_end` and `_succeed` do for the common task or call,
        in one step (reusing workers, `_work` and `_serve`, call it per task)."""
        self.tasks_run = n = self.tasks_run + 1
        if not n & 0x3FFF:
            _gc_policy.checkpoint(n + self._put_seq + self._seq)
        now = self.clock._now
        if self.record_timeline:
            self.timeline_events.append((task.name, task.id, actor_id, here, task.worker, task.start, now,
                                         task.attempt - 1, "ok"))
        task.state = "finished"
        if task.children:
            task.children = None
        task.returns[0].set_value(result, here, now)
        if not task.unreleased:
            task.release_args()

    def _work(self, first: list[Task]) -> None:
        """A task's worker process. When its task ends it takes the next task
        queued for its node, if that fits now with its arguments at hand, and
        runs it too, as a Ray worker is reused: no new process and no trip
        through the event queue per task. After REUSE_LIMIT tasks in a row it
        lets the event loop run (a driver whose objects are ready resumes even
        if zero-time tasks keep coming)."""
        task = first.pop()  # (a list the call's arguments keep: the first task must not live as long as the worker)
        proc = task.proc
        left = REUSE_LIMIT
        while True:
            try:
                results, error = self._execute(task), None
            except Killed:
                raise  # the worker died: whoever killed it deals with the task
            except BaseException as e:  # the task's own error: the worker carries on
                results, error = None, e
            task.proc = proc.context = None
            ns = task.node
            here = ns.node.id
            left = 0 if task.cancel_requested else left - 1  # (see _serve)
            if error is None and task.num_returns == 1 and task.caller_node == here and not task.released_cpu:
                ns.running.pop(task.seq, None)
                task.node = None
                if left > 0 and task.returns[0].callbacks is None:
                    # Nothing reacts at once to its result (no task waits for it as an
                    # argument), so it is booked before its resources are released,
                    # and they may go straight to the next task.
                    self._finished(task, results[0], here, None)
                    results = None  # (not kept alive while the next task runs)
                    task = self._pass_on(ns, task)
                    if task is None:
                        return
                    task.proc, proc.context, proc.name = proc, task, task.name
                    continue
                ns.release(task.hold)
                ns.give_worker(task.worker)
                self._finished(task, results[0], here, None)
            else:
                ns = self._end(task, proc, False, results, error)
            results = error = None
            task = self._dispatch(ns, task.hold if left > 0 else None)
            if task is None:
                return
            task.proc, proc.context, proc.name = proc, task, task.name

    def _pass_on(self, ns: NodeState, done: Task) -> Task | None:
        """The next task for the worker of `done`, a task just booked whose resources
        are not released yet, started; or None. What releasing them and then
        `_dispatch(ns, freed)` does, without the release and the acquire when the
        next task takes just those resources (the common case)."""
        hold, worker = done.hold, done.worker
        task = self.sched.take_for(ns, hold) if ns.node.alive else None  # (as if released)
        if task is not None and task.hold is hold and ns.settled and task.kind == "task" and not task.arg_entries:
            free = ns._free_workers
            if free and free[0] < worker:  # a lower worker is free: take_worker would give that
                ns.give_worker(worker)
                worker = ns.take_worker()
            task.node = ns
            ns.running[task.seq] = task
            task.state = "running"  # (_begin, inlined)
            task.attempt += 1
            task.start = self.clock._now
            task.worker = worker
            return task
        ns.release(hold)
        ns.give_worker(worker)
        if task is None:
            return None  # nothing fits even with them: no need to look again
        self.sched.put_back(task)  # the long way takes it again
        return self._dispatch(ns, hold)

    def _succeed(self, task: Task, results: list[Serialized], ns: NodeState) -> None:
        task.state = "finished"
        if task.children:
            task.children = None  # only a running task's children can be cancelled with it
        now = self.clock._now
        here = ns.node.id
        if task.caller_node == here and task.num_returns == 1:  # the common case, short
            task.returns[0].set_value(results[0], here, now)
        else:
            owner = task.caller_node
            for e, s in zip(task.returns, results):
                if owner != here and s.nbytes < INLINE_THRESHOLD:
                    # Small results ride back in the task's reply to the owner.
                    st = self.sim.network.stats
                    st[here].bytes_sent += s.nbytes
                    st[owner].bytes_received += s.nbytes
                e.set_value(s, here, now)
        if not task.unreleased:  # nobody kept a ref to its results
            task.release_args()

    def task_failed(self, task: Task, error: BaseException, proc: Process | None) -> None:
        """A task's code raised: retry it if allowed, else store the error."""
        if task.cancel_requested and isinstance(error, (KeyboardInterrupt, TaskCancelledError)):
            self._fail(task, TaskCancelledError(task.task_id_hex), cancelled=True)
            return
        if isinstance(error, Exception) and task.retryable(error):
            if task.retries_left > 0:
                task.retries_left -= 1
            self.retry(task)
            return
        self._fail(task, self.task_error(task, error, proc))

    def task_error(self, task: Task, error: BaseException, proc: Process | None) -> RayTaskError:
        tb = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        if isinstance(error, RayTaskError):
            error = error.cause  # a failed nested get: keep the original cause, as Ray does
        lines = [ln for ln in _strip_internal_frames(tb.splitlines())]
        node = task.node or (self.nodes[proc.node.id] if proc is not None and proc.node else self.head)
        actor = task.actor
        return RayTaskError(task.name, "\n".join(lines), error, proctitle=f"ray::{task.name}",
                            pid=_fake_pid(node, task.worker), ip=node.ip,
                            actor_repr=actor.repr_string() if actor is not None else None,
                            actor_id=actor.id if actor is not None else None)

    def retry(self, task: Task) -> None:
        task.node = None
        task.proc = None
        if task.kind == "actor_task":
            task.actor.mailbox.appendleft(task)  # a retried call keeps its place in line
        self.submit(task)

    def _fail(self, task: Task, error: BaseException, cancelled: bool = False) -> None:
        task.state = "cancelled" if cancelled else "failed"
        if task.children:
            task.children = None
        if task.kind == "task" and task.node is not None:
            task.node.running.pop(task.seq, None)
        now = self.clock._now
        for e in task.returns:
            if not e.done:
                e.set_error(error, task.caller_node, now)
        if not task.unreleased:
            task.release_args()
        if task.kind == "actor_creation":
            task.actor.creation_failed(error)

    def _dispatch(self, ns: NodeState, freed: dict[str, float] | None = None) -> Task | None:
        """Give a node's free resources to the oldest queued tasks that fit.
        A worker that just finished a task asks with the resources it `freed`:
        the first plain task whose arguments are at hand is returned for that
        worker to run, started."""
        if not ns.node.alive:
            return None
        settled, ns.settled = ns.settled, False  # (a dispatch it starts, nested, must look for itself)
        inline = None
        take_for = self.sched.take_for
        while True:
            task = take_for(ns)
            if task is None:
                ns.settled = True
                return inline
            if freed is not None and inline is None and task.kind == "task" and (
                    not task.arg_entries or all(self.is_local(e, ns.node.id) for e in task.arg_entries)):
                hold = task.hold
                ns.acquire(hold)
                task.node = ns
                ns.running[task.seq] = task
                task.state = "running"  # (_begin, inlined)
                task.attempt += 1
                task.start = self.clock._now
                task.worker = ns.take_worker()
                if hold is freed and settled:
                    # It takes back just what was freed, and before that nothing
                    # queued fitted: nothing else fits now.
                    ns.settled = True
                    return task
                inline = task
            else:
                self._assign(task, ns)

    def timeline(self) -> list[dict]:
        """Chrome-trace events, one per task attempt, as `ray.timeline()` returns them."""
        out = []
        for name, task_id, actor_id, node, worker, start, end, attempt, status in self.timeline_events:
            ns = self.nodes[node]
            task_id = task_id.hex()
            out.append({
                "cat": "task::" + name, "name": "task::" + name, "pid": ns.ip,
                "tid": "worker:" + ns.worker_id(worker), "ts": start * 1e6,
                "dur": (end - start) * 1e6, "ph": "X",
                "cname": "rail_response" if status == "ok" else "terrible",
                "args": {"task_id": task_id, "job_id": JOB_ID.hex(), "attempt_number": attempt,
                         "func_or_class_name": name, "actor_id": actor_id, "node": ns.name,
                         "status": status},
            })
        return out

    # -- blocking ----------------------------------------------------------------------------
    def wait_for(self, entries: list[ObjectEntry], num: int, timeout: float | None,
                 fetch_local: bool, stop_on_error: bool, unique: set | None = None) -> _Waiter:
        """Block the caller (driver or simulated worker) until `num` entries are available."""
        proc = getattr(getcurrent(), "proc", None)
        if proc is None:
            node_id = 0
            _gc_policy.checkpoint(self.tasks_run + self._put_seq + self._seq)
            log = CHANGES.entries
            if log is not None and len(log) > 10_000 and self.wait_list is not None:
                self.wait_list = CHANGES.entries = None  # the driver moved on from its wait loop
        else:
            node_id = proc.node.id if proc.node is not None else 0
        w = _Waiter(self, entries, num, node_id, fetch_local, stop_on_error,
                    watch=unique if proc is None and num < len(entries) else None)
        if w.satisfied():
            w.close()
            return w
        try:
            if proc is None:
                self._drive(w, timeout)
            elif timeout is None or timeout > 0:
                self._block(proc, w, timeout)
        finally:
            w.close()
        return w

    def drive_until_done(self, e: ObjectEntry) -> None:
        """The driver's `get` of one pending object, short: run events until it
        is ready or failed. Stalls and fetches are left to `wait_for`."""
        self._driver_turn()
        self.sim.loop.run_while(e, "state", PENDING)

    def drive_all(self, entries: list[ObjectEntry]) -> bool:
        """The driver's `get` of a list on a one-node cluster, short: run events
        until every object is ready (True) or one failed, following the list
        instead of subscribing to each object (on one node nothing needs
        fetching). It stops where `wait_for` would; a failure, a stall or a
        lost object is left to it (False)."""
        states = list(map(_state, entries))
        if FAILED in states or LOST in states:
            return False
        if PENDING in states:
            self._driver_turn()
            loop, changes = self.sim.loop, CHANGES
            for e in entries:
                while e.state is PENDING:
                    failures = changes.failures
                    if not loop.run_until(lambda e=e, n=failures: e.state is not PENDING or changes.failures != n):
                        return False  # nothing left to run
                    if changes.failures != failures and FAILED in map(_state, entries):
                        return False  # one of them failed (get raises the first in the list)
        return list(map(_state, entries)).count(READY) == len(entries)  # (lost meanwhile: not all)

    def _driver_turn(self) -> None:
        """Before the driver runs the loop: a GC checkpoint, and the end of a wait loop it left."""
        work = self.tasks_run + self._put_seq + self._seq
        if work >= _gc_policy.frozen_at + 1024:
            _gc_policy.checkpoint(work)
        log = CHANGES.entries
        if log is not None and len(log) > 10_000 and self.wait_list is not None:  # the driver moved on
            self.wait_list = CHANGES.entries = None

    def drive(self, w: Any, timeout: float | None) -> None:
        """Run the simulation for the driver until `w.poll()` (or the timeout)."""
        _gc_policy.checkpoint(self.tasks_run + self._put_seq + self._seq)
        self._drive(w, timeout)

    def _drive(self, w: Any, timeout: float | None) -> None:
        loop = self.sim.loop
        deadline = None if timeout is None else loop.now() + timeout
        while True:
            if loop.run_until(w.poll, deadline):
                return
            if loop.next_time() is not None:  # more to do, but after the deadline
                loop.clock.advance_to(deadline)
                return
            if deadline is not None:  # Ray would wait out the timeout; so do we
                loop.clock.advance_to(deadline)
                return
            if self._resolve_stall():  # an unbounded wait: fail what can never run
                continue
            raise SimulationDeadlockError(self.explain_stall())

    def _block(self, proc: Process, w: _Waiter, timeout: float | None) -> None:
        task: Task | None = proc.context
        ns = task.node if task is not None else None
        # A task blocked in get/wait lends its CPU back, as Ray does, so the
        # tasks it waits for can run even on a full node.
        lend = task is not None and task.kind == "task" and ns is not None and task.hold.get("CPU", 0) > 0
        if lend:
            task.released_cpu = True
            ns.release({"CPU": task.hold["CPU"]})
            self._dispatch(ns)
        w.proc = proc
        timer = self.sim.loop.call_later(timeout, w.timeout) if timeout is not None else None
        self.blocked[proc] = w
        try:
            self.sim.block(("wait", w))
        finally:
            self.blocked.pop(proc, None)
            if timer is not None:
                timer.cancel()
            if lend and task.released_cpu and ns.alive and task.node is ns:
                task.released_cpu = False
                ns.acquire({"CPU": task.hold["CPU"]})

    def _resolve_stall(self) -> bool:
        """Nothing can happen any more: fail queued work that no node can ever run."""
        failed = False
        for task in self.sched.queued():
            if self.sched.infeasible(task):
                self.sched.remove(task)
                have = {k: v for k, v in self.sched.total_resources().items()
                        if not k.startswith("node:") and k not in ("memory", "object_store_memory")}
                need = {k: v for k, v in task.demand.items()}
                msg = (f"{task.name} needs {need}, but no node in the cluster has that much "
                       f"(the whole cluster has {have}). Ask for less in .options(...), or start "
                       "the cluster with more, e.g. ray.init(num_cpus=..., num_gpus=..., "
                       "resources={...}) or Cluster.add_node(...).")
                err = (ActorUnschedulableError(msg) if task.kind == "actor_creation"
                       else TaskUnschedulableError(msg))
                self._fail(task, err)
                failed = True
        return failed

    def explain_stall(self) -> str:
        lines = ["The driver is waiting for objects that can never become ready (real Ray would "
                 "hang here). What everything is waiting for:"]
        for proc, w in self.blocked.items():
            task = proc.context
            lines.append(f"  - {task.name if task is not None else proc.name} on {proc.node.name} "
                         "is blocked in ray.get/ray.wait")
        for actor in self.actors.values():
            desc = actor.describe_stall()
            if desc:
                lines.append("  - " + desc)
        blocked = len(lines) > 1
        queued: dict[tuple[str, str], int] = {}
        for task in self.sched.queued():
            key = (task.name, str(task.demand))
            queued[key] = queued.get(key, 0) + 1
        for (name, demand), n in queued.items():
            lines.append(f"  - {name} is queued for {demand}" + (f" ({n} of them)" if n > 1 else ""))
        if queued:
            lines.append(f"    free now: {self.sched.available_resources()}")
            for actor in self.actors.values():  # what holds the rest: actors keep theirs while alive
                held = {k: v for k, v in actor.creation.hold.items() if v} if actor.node is not None else {}
                if held:
                    lines.append(f"    actor {actor.class_name} {actor.id} holds {held} on "
                                 f"{actor.node.name} for as long as it lives (ray.kill frees them)")
        if len(lines) == 1:
            lines.append("  - nothing is running or queued: the objects' tasks were never submitted, "
                         "or they wait on objects that failed to be created")
        if blocked:
            lines.append("A task that waits (ray.get) on a call to its own actor deadlocks when the "
                         "actor runs one call at a time; use max_concurrency > 1 or an async actor, "
                         "or return the ObjectRef instead of waiting on it.")
        return "\n".join(lines)

    # -- faults -------------------------------------------------------------------------------
    def _on_node_death(self, node: Any) -> None:
        ns = self.nodes[node.id]
        for e in list(self.objects.values()):  # (a GC pass may release objects meanwhile)
            if node.id in e.locations:
                e.locations = tuple(n for n in e.locations if n != node.id)
                if not e.locations and e.state is READY and e.value.nbytes >= INLINE_THRESHOLD:
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
                self.sim.kill(task.proc)
            task.node = None
            if task.state == "fetching" or task.retryable(None):
                if task.state != "fetching" and task.retries_left > 0:
                    task.retries_left -= 1
                self.retry(task)
            else:
                self._fail(task, NodeDiedError(
                    f"Task {task.name} was running on node {ns.name} (ID {ns.node_id}, IP {ns.ip}), "
                    "which died, and it has no retries left (max_retries)."))

    def _on_node_restart(self, node: Any) -> None:
        ns = self.nodes[node.id]
        ns.reset()
        self._dispatch(ns)

    def kill_worker(self, target: Any) -> None:
        from dsai.mockray.actor import ActorHandle

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

    def crash_task(self, task: Task, error: RayError) -> None:
        """A running task's worker died: retry it (system failure) or fail it."""
        self.sim.kill(task.proc)
        if task.retryable(None):
            if task.retries_left > 0:
                task.retries_left -= 1
            self.retry(task)
        else:
            self._fail(task, error)

    # -- shutdown -------------------------------------------------------------------------------
    def close(self) -> None:
        _gc_policy.release()
        self.wait_list = CHANGES.entries = None
        self.blocked.clear()
        # Refs kept past shutdown name objects whose owner (this driver) is gone; in
        # the next session Ray answers them with this error, ready or not.
        gone = ValueError("You are trying to access Ray objects whose owner is unknown: this "
                          "ObjectRef was made before ray.shutdown() (or by another ray.init()), and "
                          "its object went with that session. Make it again in the current session "
                          "(re-run the cell that created it).")
        for e in list(self.objects.values()):  # (dropping a value may release what it holds)
            e.value, e.error, e.state, e.callbacks, e.locations = None, gone, FAILED, None, ()
        for actor in self.actors.values():
            actor.stop_idle_server()
        for ns in self.nodes:
            for task in list(ns.running.values()):
                if task.proc is not None and not task.proc.done:
                    try:
                        self.sim.kill(task.proc)
                    except Exception:
                        pass


class _GCPolicy:
    """Keep long-lived simulation state out of the garbage collector's scans.

    In Ray, workers are other processes, so their bookkeeping never burdens
    the driver's collector; here everything shares one heap, and CPython's
    full collections rescan every live object, which made the cost per task
    grow with the number of tasks run. So at a driver `get`/`wait` once 1,024
    units of work (tasks run, objects put) have been done since the last time,
    and every 16k tasks within one, the objects alive so far are frozen
    (`gc.freeze()`, O(1)); when the work done (tasks run, objects put) has grown fourfold since
    the last full collection, the frozen objects are given back and collected
    once. That is amortized O(1) per object: 1 + 1/4 + 1/16 + ... = 4/3 scans
    each (doubling cost 2, about 2 us per task here); cyclic garbage waits
    at most one such growth.

    While a cluster runs, the youngest generation is collected after 20,000
    allocations instead of 700: the objects of a batch of calls (a task, its
    entry, its ref) then mostly die before a collection scans them (7% of the
    time of 1,000 async actor calls). A ref kept alive only by a reference
    cycle is freed when the collector finds the cycle, so later than with the
    default. A threshold of 0 (collection off) is left alone, and
    `ray.shutdown()` restores the old one unless the program changed it since.
    """

    GEN0 = 20_000

    def __init__(self) -> None:
        self.collected_at = 0
        self.frozen_at = -1024
        self.saved: tuple[int, int, int] | None = None  # the thresholds before `start`

    def start(self) -> None:
        if self.saved is None:
            saved = gc.get_threshold()
            if 0 < saved[0] < self.GEN0:
                self.saved = saved
                gc.set_threshold(self.GEN0, *saved[1:])

    def checkpoint(self, work: int) -> None:
        if work < self.frozen_at + 1024:
            return  # young objects are cheap to scan; a get per task need not freeze each time
        self.frozen_at = work
        if work > 4 * max(self.collected_at, 25_000):
            gc.unfreeze()
            gc.collect()
            self.collected_at = work
        gc.freeze()

    def release(self) -> None:
        if self.saved is not None:
            if gc.get_threshold() == (self.GEN0, *self.saved[1:]):  # (not changed since by the program)
                gc.set_threshold(*self.saved)
            self.saved = None
        gc.unfreeze()
        self.collected_at, self.frozen_at = 0, -1024


_gc_policy = _GCPolicy()
_new = object.__new__
_init_task, _init_entry, _init_process = Task.__init__, ObjectEntry.__init__, Process.__init__


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


def _fake_pid(ns: NodeState, worker: int) -> int:
    # Deterministic stand-in for a worker process id, so error text is reproducible.
    return 10000 + 1000 * ns.node.id + max(worker, 0)


def _is_coroutine(x: Any) -> bool:
    import inspect

    return inspect.iscoroutine(x)


def _run_coroutine(coro: Any) -> Any:
    """Drive a coroutine inside a simulated worker: awaits block the worker's greenlet."""
    from dsai.sim.process import current_process as cp

    try:
        while True:
            yielded = coro.send(None)
            if yielded is None:  # a bare yield (asyncio.sleep(0)): let others run
                cp().sim.sleep(0)
            else:
                coro.throw(RuntimeError(
                    f"awaiting {yielded!r} is not supported inside a simulated actor: await "
                    "ObjectRefs, asyncio.sleep, or asyncio.gather of those"))
    except StopIteration as stop:
        return stop.value
