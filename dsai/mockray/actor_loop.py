"""An async actor serves its calls concurrently on one asyncio event loop, as Ray's async actors do.

Ray runs every call of an actor that has an `async def` method on one
asyncio event loop in the actor's worker: coroutine calls interleave at
their `await`s (up to `max_concurrency` at once, 1000 by default), while a
plain `def` method, a `time.sleep` or a blocking `ray.get` inside a call
blocks the loop, and so every other call, until it returns. Here the loop is
a real asyncio loop on virtual time (`dsai.sim.aio.SimEventLoop`) running in
the actor's simulated worker process: `ActorLoop.submit` hands it a call,
which becomes an asyncio task; the call's end is booked by completion.py as
any call's is. `ray.cancel` of a running call cancels its asyncio task (the
coroutine sees `CancelledError`; `get` raises `RayTaskError(TaskCancelledError)` whatever
the coroutine did with it). The actor's death ends the loop where it stands:
its calls' coroutines are never resumed nor closed, so none of their
`except`/`finally` blocks runs (Ray 2.60 kills the worker process: measured
after `ray.kill`), see dsai/sim/hard_kill.py; at `ray.shutdown()` they are
closed instead (see `kill`).
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

from greenlet import getcurrent

from dsai.mockray.task import Task
from dsai.mockray.worker_threads import loop_thread
from dsai.mockray.workers import method_of
from dsai.sim.aio import LoopKilled, SimEventLoop
from dsai.sim.hard_kill import bury, end_process
from dsai.sim.process import Killed, current_process

__all__ = ["ActorLoop"]


class _Step:
    """A call's coroutine, wrapped so that each step runs with its task as the
    worker's current one (what `get_runtime_context()` and nested submissions read)."""

    __slots__ = ("coro", "task", "proc")

    def __init__(self, coro: Any, task: Task, proc: Any) -> None:
        self.coro, self.task, self.proc = coro, task, proc

    def send(self, value: Any) -> Any:
        self.proc.context = self.task
        return self.coro.send(value)

    def throw(self, *exc: Any) -> Any:
        self.proc.context = self.task
        return self.coro.throw(*exc)

    def close(self) -> None:
        self.coro.close()

    def __await__(self) -> Any:
        return self

    def __iter__(self) -> Any:
        return self

    def __next__(self) -> Any:
        return self.send(None)


# asyncio accepts any collections.abc.Coroutine as a task's body.
import collections.abc  # noqa: E402

collections.abc.Coroutine.register(_Step)


class ActorLoop:
    """One async actor's event loop and the worker process it runs in."""

    def __init__(self, rt: Any, actor: Any) -> None:
        self.rt = rt
        self.actor = actor
        self.loop = SimEventLoop(rt.sim)
        self.proc: Any = None
        self.calls: dict[int, asyncio.Task] = {}  # call seq -> its asyncio task

    def submit(self, task: Task) -> None:
        """Run the call `task` (begun) on the loop, starting the loop's process if needed."""
        if self.proc is None:
            actor = self.actor
            self.proc = self.rt.sim.spawn(self._serve, name=f"{actor.class_name}.event_loop",
                                          node=actor.node.node, on_exit=self._exited)
        task.proc = self.proc
        self.loop.call_soon_from_outside(self._start, task)

    def _serve(self) -> None:
        loop = self.loop
        # Every call runs on the loop's thread (worker_threads.py), whichever call is current.
        getcurrent().sim_thread = (self.proc, None, loop_thread(self.rt.sim, self.actor))
        try:
            loop.run_forever()
        except LoopKilled:
            raise Killed() from None
        finally:
            # The actor died with its calls: they were buried (see kill); any task made
            # since is closed now rather than whenever the garbage collector finds it.
            for t in asyncio.all_tasks(loop):
                t._log_destroy_pending = False
                if getattr(t, "_dsai_buried", False):
                    continue
                try:
                    t.get_coro().close()
                except BaseException:  # (a call that will not close: left to the collector)
                    pass

    def _start(self, task: Task) -> None:
        if task.done:  # cancelled or failed meanwhile
            return
        self.calls[task.seq] = self.loop.create_task(_Step(self._run_call(task), task, self.proc))

    async def _run_call(self, task: Task) -> None:
        rt = self.rt
        proc = self.proc
        try:
            fn = method_of(self.actor.instance, task.method)
            args, kwargs = rt.call_args(task)
            result = fn(*args, **kwargs)
            if task.stream is not None:  # a generator method: publish what it yields (generator.py)
                results, error = await task.stream.run_async(result) if inspect.isasyncgen(result) \
                    else task.stream.run(result), None
            else:
                if inspect.isawaitable(result):
                    result = await result
                results, error = rt.pack_results(task, result), None
        except (Killed, LoopKilled):
            self.loop.kill()
            raise LoopKilled() from None  # (asyncio would keep any other error in the task)
        except GeneratorExit:
            raise  # closed with its dead loop (see _serve): nothing to book
        except BaseException as e:  # the call's own error (CancelledError included): the actor carries on
            results, error = None, e
        if task.cancel_requested:
            # A running call was cancelled, whatever its coroutine made of the CancelledError:
            # Ray 2.60 reports it as the call's error, RayTaskError(TaskCancelledError).
            results, error = None, error if isinstance(error, asyncio.CancelledError) else asyncio.CancelledError()
        self.calls.pop(task.seq, None)
        task.proc = None
        if proc.context is task:
            proc.context = None
        if not task.done:
            rt._end(task, proc, False, results, error)

    def cancel(self, task: Task) -> None:
        """`ray.cancel` of a running call: its coroutine sees CancelledError at its next await."""
        t = self.calls.get(task.seq)
        if t is not None:
            self.loop.call_soon_from_outside(t.cancel)

    def kill(self, hard: bool = True) -> None:
        """The actor's worker dies: end the loop where it stands (its calls are failed by the
        caller). If `hard`, none of the calls' code runs again: their coroutines are kept,
        never closed (hard_kill.py). `ray.shutdown()` is not hard: it closes them, so that
        nothing keeps the finished session in memory (a kept coroutine would), although
        Ray 2.60 runs no handler of an async call at shutdown either (docs/ray_behaviour.md)."""
        self.loop.kill()
        if hard:
            tasks = [t for t in asyncio.all_tasks(self.loop) if not t.done()]
            for t in tasks:
                t._log_destroy_pending = False
                t._dsai_buried = True
            bury(tasks)
        proc = self.proc
        self.proc = None
        if proc is not None and not proc.done:
            if current_process() is proc:
                raise Killed()
            if hard:
                end_process(proc)
            else:
                self.rt.sim.kill(proc)
        self.calls.clear()

    def describe(self) -> list[str]:
        """Where each running call waits, for a deadlock report: its innermost `await`."""
        out = []
        for seq, t in self.calls.items():
            task = self.actor.running.get(seq)
            name = task.name if task is not None else "a call"
            coro, where = getattr(t.get_coro(), "coro", None), ""
            while coro is not None and getattr(coro, "cr_frame", None) is not None:
                frame = coro.cr_frame
                where = f"{frame.f_code.co_qualname} (line {frame.f_lineno})"
                coro = coro.cr_await
            waits = f"awaits {coro!r}" if coro is not None else "awaits"
            out.append(f"{name} {waits} in {where}" if where else f"{name} {waits}")
        return out

    def _exited(self, proc: Any) -> None:
        if self.proc is proc:
            self.proc = None
        if not self.loop.is_closed() and not self.loop.is_running():
            self.loop.close()

    def __repr__(self) -> str:
        return f"ActorLoop({self.actor.class_name}, calls={len(self.calls)}, {self.loop!r})"
