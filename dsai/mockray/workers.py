"""Workers: the simulated processes that run tasks and actor calls, reused from one task to the next.

A task runs in a worker process on its node (`start`, `_launch`); the
function runs inside it (`_execute`: arguments in, serialized results out),
and a blocking call inside it (`get`, `wait`, `sleep`) suspends only that
process. As a Ray worker is reused, a task's worker that finishes takes the
next queued task that fits its node (`_work`) without a new
process and a trip through the event queue; an actor that runs one call at a
time keeps one serving worker that runs its calls back to back and waits for
the next (`serve_start`, `_serve`). Every attempt's end is booked by
completion.py (`_end`; or `_record` and `_succeed` when an actor's serving
worker books a successful call before pumping the mailbox).

Part of `Runtime` (runtime.py): this mixin reads `sim`, `clock` and `sched`,
and calls `dispatch` (submission.py) and the booking in completion.py.
"""

from __future__ import annotations

from types import GeneratorType
from typing import Any, Callable

from dsai.mockray.generator import numbered_returns
from dsai.mockray.object_ref import FAILED
from dsai.mockray.serialization import SCALARS, Serialized, deserialize, serialize, serialize_scalar
from dsai.mockray.task import Task, spec_bytes, unpack_args
from dsai.mockray.worker_process import exit_worker
from dsai.sim.process import Killed, Process, current_process, suspend

__all__ = ["Workers", "REUSE_LIMIT", "method_of"]

REUSE_LIMIT = 64  # tasks (or calls) a worker runs back to back before the event loop gets a turn


class Workers:
    """Worker processes: start one for a task, run the function, reuse it for the next."""

    def start(self, task: Task) -> None:
        ns = task.node
        self._begin(task)
        if task.kind == "task":
            task.worker = ns.take_worker()
            self._launch(task, self._work, ([task],), self._on_exit)
            return
        if task.kind == "actor_creation":
            task.actor.placed(task)
        elif task.actor.is_async:  # its calls run on the actor's event loop (actor_loop.py)
            task.actor.event_loop().submit(task)
            return
        self._launch(task, self._execute, (task,), self._on_exit)

    def _launch(self, task: Task, fn: Callable[..., Any], args: tuple, on_exit: Callable[[Process], Any],
                now: bool = True) -> Process:
        """Run `fn(*args)` in a new worker process for `task` (at once if `now`
        and the caller is a plain loop event, else as the next event)."""
        task.proc = proc = self.sim.spawn(fn, *args, name=task.name, node=task.node.node, on_exit=on_exit,
                                          start=now, context=task)
        return proc

    def _begin(self, task: Task) -> None:
        """A new attempt of `task` starts running now."""
        task.state = "running"
        task.attempt += 1
        task.start = self.clock.time

    def serve_start(self, task: Task) -> None:
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
        With nothing left to run it waits for the next call (`serve_start` wakes
        it), as Ray's actor worker does, rather than end and be launched again."""
        task = first.pop()  # (a list the call's arguments keep: the first call must not live as long as the worker)
        proc = current_process()  # (task.proc is set once the start returns)
        left = REUSE_LIMIT
        here = actor.node.node.id  # (a call never outlives its actor's node: its death kills this process)
        while True:
            try:
                results, error = self._execute(task), None
            except Killed:
                raise  # the worker died: whoever killed it deals with the call
            except BaseException as e:  # the call's own error: the actor carries on
                results, error = None, e
            task.proc = proc.context = None
            if error is None and task.num_returns == 1 and task.caller_node == here and not task.cancel_requested:
                actor.running.pop(task.seq, None)
                self._record(task, here, "ok")
                self._succeed(task, results, actor.node)
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
            self._begin(task)
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
        fn = task.fn if task.method is None else method_of(actor.instance, task.method)
        try:
            if task.args_blob is None:  # no arguments: the common case in fan-outs
                result = fn()
            else:
                for e in task.arg_entries:
                    if e.state is FAILED:  # lost after the task was queued, and not rebuilt
                        raise e.error
                values = [deserialize(e.value) for e in task.arg_entries]
                args, kwargs = unpack_args(task.args_blob, values)
                result = fn(*args, **kwargs)
            if task.stream is not None:  # a generator task: publish what it yields (generator.py)
                return task.stream.run(result)
        except SystemExit as e:
            if task.kind == "actor_creation":
                raise  # (an __init__ that exits fails the actor's creation)
            # As Ray's worker: sys.exit ends the worker process, code 0 (or None) on purpose.
            exit_worker(task, f"sys.exit({e.code!r})", intentional=e.code in (0, None),
                        ray_words=f"UnexpectedSystemExit: Worker exits with an exit code {e.code}.")
        return self.pack_results(task, result)

    def call_args(self, task: Task) -> tuple[tuple, dict]:
        """The call's arguments, deserialized (or its lost argument's error raised)."""
        if task.args_blob is None:
            return (), {}
        for e in task.arg_entries:
            if e.state is FAILED:
                raise e.error
        values = [deserialize(e.value) for e in task.arg_entries]
        return unpack_args(task.args_blob, values)

    def pack_results(self, task: Task, result: Any) -> list[Serialized]:
        """A call's return value, serialized into its `num_returns` results."""
        n = task.num_returns
        if n == 1:
            t = type(result)
            if t in SCALARS:  # (None included: the common fire-and-forget result)
                return [serialize_scalar(result, t)]
            return [serialize(result, f"the return value of {task.name}")]
        if n == 0:
            return []
        if type(result) is GeneratorType:  # its values are stored as it yields them (generator.py)
            return numbered_returns(self, task, result, n)
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
            self.dispatch(ns)

    def _work(self, first: list[Task]) -> None:
        """A task's worker process. When its task ends (booked by `_end`, which
        frees its resources) it takes the next task queued for its node, if that
        fits now with its arguments at hand (`dispatch(ns, for_worker=True)`),
        and runs it too, as a Ray worker is reused: no new process and no trip
        through the event queue per task. After REUSE_LIMIT tasks in a row it
        lets the event loop run (a driver whose objects are ready resumes even
        if zero-time tasks keep coming)."""
        task = first.pop()  # (a list the call's arguments keep: the first task must not live as long as the worker)
        proc = current_process()  # (task.proc is set once the start returns)
        left = REUSE_LIMIT
        while True:
            if task.state == "fetching":  # taken from another node's caller: its spec is on the way
                task = self._await_spec(task, proc)
                if task is None:
                    return
            try:
                results, error = self._execute(task), None
            except Killed:
                raise  # the worker died: whoever killed it deals with the task
            except BaseException as e:  # the task's own error: the worker carries on
                results, error = None, e
            task.proc = proc.context = None
            left = 0 if task.cancel_requested else left - 1  # (see _serve)
            ns = self._end(task, proc, False, results, error)
            results = error = None  # (not kept alive while the next task runs)
            task = self.dispatch(ns, left > 0)
            if task is None:
                return
            task.proc, proc.context, proc.name = proc, task, task.name

    def _await_spec(self, task: Task, proc: Process) -> Task | None:
        """In a reused worker: wait for the spec of `task` (submitted on another node) to
        arrive, then begin it; the task this worker runs next, or None if there is none
        (it was cancelled, or its node died, while the spec travelled)."""
        ns = task.node
        while True:
            attempt = task.attempt
            self.sim.network.deliver(task.caller_node, ns.node.id, spec_bytes(task), self.sim.resume, proc, None)
            suspend(("spec", task.name))
            if task.state == "fetching" and task.node is ns and task.attempt == attempt:
                self._begin(task)
                return task
            ns.give_worker(task.worker)  # (whoever cancelled or retried it freed its resources)
            task.proc = proc.context = None
            task = self.dispatch(ns, True)
            if task is None:
                return None
            task.proc, proc.context, proc.name = proc, task, task.name
            if task.state != "fetching":
                return task


def method_of(instance: Any, name: str) -> Callable[..., Any]:
    """The actor's method `name`, bound: looked up on its class, as Ray's actor handle does
    (an instance attribute of the same name does not hide it)."""
    fn = getattr(type(instance), name)
    return fn.__get__(instance, type(instance))
