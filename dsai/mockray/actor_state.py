"""An actor's life in the runtime: created, alive, restarting or dead, with a mailbox of calls run in order.

An actor is a class instance living in one worker process. Its life is a
small state machine: `PENDING_CREATION` (placed, `__init__` running),
`ALIVE`, `RESTARTING` (its worker died and `max_restarts` allows another
go: `__init__` runs again, so state is reset), `DEAD` (for good; every
call answers `ActorDiedError`). Calls queue in a mailbox and start in
submission order, up to `max_concurrency` at once (1 by default, 1000 for
async actors). The creation task is placed like any task (submission.py);
calls run in the actor's worker (workers.py). actor.py is the API in front
of it: `ActorClass`, `ActorHandle`, `ActorMethod`.
"""

from __future__ import annotations

import inspect
from collections import deque
from typing import Any

from dsai.mockray.concurrency_groups import ConcurrencyGroups
from dsai.mockray.exceptions import ActorDiedError, ActorUnavailableError, RayTaskError
from dsai.mockray.task import DONE_STATES, Task, spec_bytes
from dsai.mockray.worker_threads import stop_actor_threads
from dsai.sim.hard_kill import end_process

__all__ = ["ActorState", "PENDING_CREATION", "ALIVE", "RESTARTING", "DEAD"]

PENDING_CREATION, ALIVE, RESTARTING, DEAD = "PENDING_CREATION", "ALIVE", "RESTARTING", "DEAD"


class ActorState:
    """The runtime's record of one actor."""

    def __init__(self, rt: Any, actor_id: str, cls: type, name: str | None, namespace: str,
                 options: dict[str, Any]) -> None:
        self.rt = rt
        self.id = actor_id
        self.cls = cls
        self.class_name = cls.__name__
        self.name = name
        self.namespace = namespace
        self.state = PENDING_CREATION
        self.instance: Any = None
        self.mailbox: deque[Task] = deque()
        self.running: dict[int, Task] = {}
        self.is_async = any(inspect.iscoroutinefunction(m) or inspect.isasyncgenfunction(m)
                            for _, m in inspect.getmembers(cls, inspect.isfunction))
        mc = options.get("max_concurrency")
        self.max_concurrency = mc if mc else (1000 if self.is_async else 1)
        groups = options.get("concurrency_groups")
        self.groups = ConcurrencyGroups(cls, groups, self.max_concurrency) if isinstance(groups, dict) and groups else None
        if self.groups is not None:  # (the pump admits per group: concurrency_groups.py)
            self.max_concurrency = self.groups.total
        self.max_restarts = options.get("max_restarts") or 0
        self.max_task_retries = options.get("max_task_retries") or 0
        self.num_restarts = 0
        self.creation: Task | None = None
        self.death_error: BaseException | None = None
        self.node: Any = None
        self.worker = -1
        self.handle: Any = None  # its ActorHandle (actor.py), what get_actor returns
        # One-call-at-a-time actors run consecutive calls in one worker process,
        # as Ray's actor worker does: this is it while it serves (Workers._serve).
        self.server: Any = None
        self.idle: Any = None  # the serving worker while it waits for the next call
        self.kill_pending = False  # it called ray.kill on itself; the kill comes after the call
        # A kill with restart left callers holding its old worker's address: the next call made
        # fails with this ActorUnavailableError (kill_delay.py), then calls reach the new one.
        self.stale_call: BaseException | None = None
        self.id_suffix = bytes.fromhex(actor_id[:24]) + bytes.fromhex(actor_id[24:32])  # of its calls' task ids
        self.method_names: dict[str, str] = {}  # method -> task name, "Class.method"
        self.aio: Any = None  # an async actor's event loop (actor_loop.py), made at its first call
        self.warned: set[str] = set()  # blocking calls Ray's worker has warned about ("get", "wait")

    def event_loop(self) -> Any:
        """The async actor's event loop, running in its worker (a new one after a restart)."""
        if self.aio is None:
            from dsai.mockray.actor_loop import ActorLoop

            self.aio = ActorLoop(self.rt, self)
        return self.aio

    def stop_event_loop(self, hard: bool = True) -> None:
        aio, self.aio = self.aio, None
        if aio is not None:
            aio.kill(hard)

    def method_name(self, method: str) -> str:
        name = self.method_names[method] = f"{self.class_name}.{method}"
        return name

    # -- lifecycle ----------------------------------------------------------------------
    def start(self, creation: Task) -> None:
        self.creation = creation
        creation.actor = self
        self.rt.submit(creation)

    def construct(self, *args: Any, **kwargs: Any) -> None:
        """Runs in the actor's worker: build the instance (again, after a restart)."""
        self.instance = None
        self.instance = self.cls(*args, **kwargs)

    def on_exit(self, task: Task, proc: Any) -> None:
        """The creation task finished in the actor's worker (calls end in Workers._on_exit)."""
        if proc.killed:
            return
        if proc.error is not None:
            self.rt.fail(task, self.rt.task_error(task, proc.error, proc))
            return
        task.state = "finished"
        self.state = ALIVE
        self.pump()

    def creation_failed(self, error: BaseException) -> None:
        """`__init__` raised (or the actor could not be placed): the actor is dead."""
        self.release()
        if isinstance(error, RayTaskError):
            error = ActorDiedError(error)
        self.die(error)

    def release(self) -> None:
        ns = self.node
        if ns is not None:
            ns.actors.pop(self.id, None)
            ns.running.pop(self.creation.seq, None)
            if ns.alive:
                ns.release(self.creation.hold)
                ns.give_worker(self.worker)
                self.rt.dispatch(ns)
        self.node = None

    def die(self, error: BaseException) -> None:
        self.state = DEAD
        self.death_error = error
        self.stop_event_loop()
        for task in list(self.running.values()) + list(self.mailbox):
            if task.proc is not None and not task.proc.done:
                end_process(task.proc)  # (its handlers never run, as Ray's killed worker's: hard_kill.py)
            self.rt.fail(task, error)
        self.running.clear()
        self.mailbox.clear()
        if self.name is not None and self.rt.named_actors.get((self.namespace, self.name)) is self:
            del self.rt.named_actors[(self.namespace, self.name)]
        stop_actor_threads(self)

    def crash(self, reason: str, allow_restart: bool, unavailable: str | None = None,
              unwind: bool = False) -> None:
        """The actor's worker died (killed, or its node failed). With `unavailable` (Ray's words
        for how the worker went), calls in flight when it restarts fail with
        ActorUnavailableError, as Ray 2.60 answers them after a worker's own exit. Running
        calls end as by SIGKILL (none of their code runs again), or, if `unwind` (a SIGTERM,
        which Ray's worker turns into SystemExit), by unwinding: their handlers run."""
        end = self.rt.sim.kill if unwind else end_process
        self.kill_pending = False
        if self.state == DEAD:
            return
        self.stop_idle_server()
        stop_actor_threads(self)
        can_restart = allow_restart and (self.max_restarts == -1 or self.num_restarts < self.max_restarts)
        creation = self.creation
        if creation.proc is not None and not creation.proc.done:
            end(creation.proc)
        in_flight = sorted(self.running.values(), key=lambda t: t.seq)
        for task in in_flight:
            if task.proc is not None and not task.proc.done:
                end(task.proc)  # (as Ray's killed worker's: no handler runs, hard_kill.py)
        self.running.clear()
        self.release()
        self.instance = None
        if creation.state == "fetching":  # placed, but not started: give its node back
            ns = creation.node
            ns.running.pop(creation.seq, None)
            creation.node = None  # (its fetches, when done, find it gone: see Submission.fetch_args)
            if ns.alive:
                ns.release(creation.hold)
                self.rt.dispatch(ns)
        error = ActorDiedError(actor_id=self.id, detail=(
            f"\tclass_name: {self.class_name}\n\tactor_id: {self.id}\n" + reason))
        if not can_restart:
            if creation.state == "queued":
                self.rt.sched.remove(creation)
            if creation.state in ("waiting", "queued", "fetching"):
                creation.state = "cancelled"  # it never starts
            for task in in_flight:
                self.rt.fail(task, error)
            self.die(error)
            return
        self.state = RESTARTING
        self.num_restarts += 1
        retry = []
        for task in in_flight:
            if task.retries_left != 0:
                if task.retries_left > 0:
                    task.retries_left -= 1
                task.state, task.proc = "ready", None
                retry.append(task)
            else:
                self.rt.fail(task, error if unavailable is None else ActorUnavailableError(
                    f"The actor is temporarily unavailable: {unavailable}", self.id))
        self.mailbox.extendleft(reversed(retry))
        if creation.state not in ("waiting", "queued"):  # (not placed yet, it keeps its place in line)
            creation.node = None
            self.rt.submit(creation)

    def stop_idle_server(self, hard: bool = True) -> None:
        """End the serving worker that waits for a call, or the event loop (its actor died, or
        the cluster shuts down: then not `hard`, see ActorLoop.kill)."""
        idle, self.idle = self.idle, None
        if idle is not None and not idle.done:
            end_process(idle)
        self.stop_event_loop(hard)  # (and an async actor's loop, waiting or not)

    def on_node_death(self, ns: Any) -> None:
        self.crash(f"The actor died because its node {ns.name} (ID {ns.node_id}) died.", allow_restart=True)

    # -- placement hooks (the creation task runs through the runtime's scheduler) ----------
    def placed(self, task: Task) -> None:
        self.node = task.node
        self.node.actors[self.id] = self
        self.worker = self.node.take_worker()
        task.worker = self.worker
        # Calls made before it was placed (or moved by a restart) are sent now.
        node_id = self.node.node.id
        for call in self.mailbox:
            if not call.done and self.needs_spec(call) and call.spec_to != node_id:
                self.send_spec(call)

    # -- a call's spec travels from its caller's node to the actor's ------------------------
    # Sent when the call is made (if the actor is placed), while its arguments may still be
    # computing: the actor's side waits for both, so a chain of calls pays one message per
    # call, not one after each argument is ready.
    def needs_spec(self, task: Task) -> bool:
        node_id = self.node.node.id
        return task.caller_node != node_id and task.spec_node != node_id

    def send_spec(self, task: Task) -> None:
        node_id = task.spec_to = self.node.node.id
        self.rt.sim.network.deliver(task.caller_node, node_id, spec_bytes(task), self._spec_arrived,
                                    task, node_id, task.attempt)

    def _spec_arrived(self, task: Task, node_id: int, attempt: int) -> None:
        if task.done or task.attempt != attempt or self.node is None or self.node.node.id != node_id:
            if task.spec_to == node_id and not task.done and (self.node is None or self.node.node.id != node_id):
                task.spec_to = None  # (its actor restarts: placed() sends it again, wherever it lands)
            return  # cancelled or failed meanwhile, or the actor moved (placed() sent it again)
        task.spec_node = node_id
        if task.state == "sending":
            task.state = "ready"
            self.pump()

    def call_ready(self, task: Task) -> None:
        """A call's arguments are ready: it waits its turn in the mailbox, once its spec
        (with the arguments passed by value) has reached the actor's node."""
        if self.node is not None and self.needs_spec(task):
            task.state = "sending"
            if task.spec_to != self.node.node.id:
                self.send_spec(task)
            return
        task.state = "ready"
        if self.state is ALIVE and (len(self.running) < self.max_concurrency or self.groups is not None):
            self.pump()

    # -- calls -----------------------------------------------------------------------------
    def submit_call(self, task: Task) -> None:
        if self.state == DEAD:
            self.rt.fail(task, self.death_error)
            return
        if self.stale_call is not None:
            error, self.stale_call = self.stale_call, None
            if task.retries_left == 0:  # (else it is retried, and reaches the new instance)
                self.rt.fail(task, error)
                return
        self.mailbox.append(task)
        if self.node is not None and self.needs_spec(task):
            self.send_spec(task)
        if task.arg_entries:
            self.rt.submit(task)  # waits for its arguments, then call_ready
            return
        self.call_ready(task)

    def pump(self) -> None:
        """Start calls from the head of the mailbox while there is room."""
        if self.state != ALIVE or self.server is not None or self.kill_pending:
            return  # (a serving worker takes its next call itself)
        start = self.rt.serve_start if self.max_concurrency == 1 and not self.is_async else self.rt.start
        mailbox = self.mailbox
        if self.groups is not None:
            self.groups.start_calls(self, start)
            return
        while mailbox and len(self.running) < self.max_concurrency:
            task = mailbox[0]
            if task.done:
                mailbox.popleft()
                continue
            if task.state != "ready":
                return  # head-of-line: later calls wait for this one's arguments (or spec)
            if self.needs_spec(task):
                self.call_ready(task)  # (placed elsewhere since it was sent)
                return
            mailbox.popleft()
            task.node = self.node
            task.worker = self.worker
            task.state = "fetching"
            self.running[task.seq] = task
            if task.arg_entries:
                self.rt.fetch_args(task, self.node, start)
            else:
                start(task)

    def next_call(self) -> Task | None:
        """For the serving worker of a one-call-at-a-time actor: the next call,
        if it can start now (ready, its arguments at hand), taken off the mailbox."""
        if self.state != ALIVE or self.kill_pending:
            return None
        mailbox = self.mailbox
        while mailbox:
            task = mailbox[0]
            state = task.state
            if state != "ready" or task.arg_entries or self.needs_spec(task):
                if state in DONE_STATES:
                    mailbox.popleft()
                    continue
                return None  # pump() starts it, after fetching what it needs
            mailbox.popleft()
            task.node = self.node
            task.worker = self.worker
            self.running[task.seq] = task
            return task
        return None

    def describe_stall(self) -> str:
        if self.state != ALIVE or not self.running:
            return ""
        if self.aio is not None and self.aio.calls:  # an async actor: where its calls wait
            return (f"actor {self.class_name} ({self.id[:8]}): its event loop waits, with nothing "
                    "scheduled that could wake it; " + "; ".join(self.aio.describe()))
        waiting = [t for t in self.mailbox if not t.done]
        if not waiting:
            return ""
        busy = ", ".join(t.name for t in self.running.values())
        return (f"actor {self.class_name} ({self.id[:8]}) is busy with {busy} (max_concurrency="
                f"{self.max_concurrency}); {len(waiting)} call(s) wait behind it, first {waiting[0].name}")

    def repr_string(self) -> str:
        return f"<{self.cls.__module__}.{self.class_name} object>"

    def __repr__(self) -> str:
        return (f"ActorState({self.class_name}, {self.state}, restarts={self.num_restarts}/"
                f"{self.max_restarts}, queued={len(self.mailbox)}, running={len(self.running)})")
