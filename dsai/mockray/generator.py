"""Streaming results: a generator task publishes each value as it yields it, and the caller reads them in order as they appear.

A remote generator function (or actor method) returns an `ObjectRefGenerator`
at once (Ray 2.60's default, `num_returns="streaming"`). The task runs in
its worker as usual; each `yield` stores one object, at that moment of
virtual time, where the task runs (`Stream.run`). The caller's
`next(gen)` (or `async for`) waits for the next object and hands out its
ObjectRef; when the task ends, the stream ends with `StopIteration`. An
exception the generator raises is its stream's next object (its `get`
raises `RayTaskError`), and the stream ends there; a task that fails
otherwise (cancelled, its worker or node lost without retries) ends the
stream with one last ref, the task's own completion ref (`gen.completed()`),
whose `get` raises that error: Ray's `_next_sync`, step by step.

`ray.wait` accepts generators: one is ready when `next(gen)` would not
block (its next object exists, or the stream has ended). With
`num_returns="dynamic"` the task instead returns one ref whose value, once
the task is done, is a `DynamicObjectRefGenerator` of all the refs (an
error the generator raised is its last ref, as in the streaming case).

A retried attempt yields again from the start; values the stream already
has are skipped, so the reader sees each index once (Ray does the same).
Objects a generator yields have no lineage here: if the only copy of a large
one is lost with its node, `get` raises `ObjectLostError`.

Wiring: `RemoteFunction.remote` and `ActorMethod.remote` call `start` for
a string `num_returns`; `Workers._execute` hands the generator the user's
function returned to `task.stream.run`.
"""

from __future__ import annotations

import inspect
import warnings
from collections import deque
from typing import Any, Iterator

from dsai.mockray.object_ref import FAILED, ObjectEntry, ObjectRef
from dsai.mockray.object_store import INLINE_THRESHOLD
from dsai.mockray.serialization import Serialized, serialize, serialize_scalar

__all__ = ["ObjectRefGenerator", "DynamicObjectRefGenerator", "Stream", "start", "is_generator_function",
           "default_num_returns", "numbered_returns"]


def is_generator_function(fn: Any) -> bool:
    return inspect.isgeneratorfunction(fn) or inspect.isasyncgenfunction(fn)


def default_num_returns(fn: Any, num_returns: Any) -> Any:
    """Ray's default: 1 for a function, "streaming" for a generator function."""
    if num_returns is None:
        return "streaming" if is_generator_function(fn) else 1
    return num_returns


class Stream:
    """The runtime's side of one generator task: the objects yielded so far, in order."""

    def __init__(self, rt: Any, task: Any, dynamic: bool) -> None:
        self.rt = rt
        self.task = task
        self.dynamic = dynamic
        self.count = 0  # objects yielded so far (over all attempts)
        self.refs: dict[int, ObjectRef] = {}  # index -> ref, until the reader takes it (or a peek)
        self.completion: ObjectEntry = task.returns[0]  # the task's own return: its end
        self.completion.on_done(self._ended)

    @property
    def ended(self) -> bool:
        return self.completion.done

    def ref(self, i: int) -> ObjectRef:
        """The ref of object `i`, made (not yet ready) if the task has not yielded it yet."""
        r = self.refs.get(i)
        if r is None:
            oid = self.task.id + (i + 2).to_bytes(4, "little")  # (index 1 is the completion)
            e = self.rt.new_object(oid, None, self.task.caller_node)
            r = self.refs[i] = ObjectRef(oid, e)
        return r

    def take(self, i: int) -> ObjectRef:
        return self.refs.pop(i, None) or self.ref(i)

    def run(self, gen: Any) -> list[Serialized]:
        """Runs in the task's worker: drive the user's generator, publishing each value."""
        if inspect.isasyncgen(gen):
            gen = _drive_async(gen)
        elif not (inspect.isgenerator(gen) or hasattr(gen, "__next__")):
            task = self.task
            raise TypeError(f"{task.name} was called with num_returns={'dynamic' if self.dynamic else 'streaming'!r} "
                            f"but returned {type(gen).__name__}, not a generator; use yield, or drop "
                            "num_returns")
        i = 0
        try:
            for value in gen:
                i = self._yielded(i, value)
        except Exception as error:  # noqa: BLE001
            self._raised(error)
        return self._finish()

    async def run_async(self, agen: Any) -> list[Serialized]:
        """`run` for an async generator method of an async actor, on the actor's event loop."""
        i = 0
        try:
            async for value in agen:
                i = self._yielded(i, value)
        except Exception as error:  # noqa: BLE001
            self._raised(error)
        return self._finish()

    def _yielded(self, i: int, value: Any) -> int:
        if i >= self.count:  # (a retried attempt yields the first ones again: skip them)
            self._publish(i, value)
        return i + 1

    def _raised(self, error: Exception) -> None:
        task = self.task
        if task.retryable(error) or task.cancel_requested:
            raise error  # retried from the start (or cancelled) as any task
        # The generator's own error is its stream's next object; the task itself succeeds.
        e = self.ref(self.count)._entry
        e.set_error(self.rt.task_error(task, error, None), self._node(), self.rt.clock.time)
        self.count += 1

    def _finish(self) -> list[Serialized]:
        if self.dynamic:
            refs = deque(self.take(k) for k in range(self.count))
            return [serialize(DynamicObjectRefGenerator(refs), f"the generator of {self.task.name}")]
        return [serialize_scalar(None, type(None))]

    def _publish(self, i: int, value: Any) -> None:
        task, rt = self.task, self.rt
        s = serialize(value, f"a value yielded by {task.name}")
        here, owner = self._node(), task.caller_node
        if owner != here and s.nbytes < INLINE_THRESHOLD:  # small values ride to the owner at once
            st = rt.sim.network.stats
            st[here].bytes_sent += s.nbytes
            st[owner].bytes_received += s.nbytes
        self.ref(i)._entry.set_value(s, here, rt.clock.time)
        self.count = i + 1

    def _node(self) -> int:
        task = self.task
        return (task.node if task.node is not None else task.actor.node).node.id

    def _ended(self, completion: ObjectEntry) -> None:
        # Readers (or ray.wait) waiting on an index the task never yielded wake up: the
        # stream has ended, next() will tell how. Those objects are never handed out.
        for i, r in list(self.refs.items()):
            if i >= self.count and not r._entry.done:
                r._entry.set_value(serialize_scalar(None, type(None)), completion.locations[0]
                                   if completion.locations else 0, self.rt.clock.time)

    def __repr__(self) -> str:
        return f"Stream({self.task.name}, {self.count} yielded, {'ended' if self.ended else 'running'})"


def numbered_returns(rt: Any, task: Any, gen: Any, n: int) -> list[Serialized]:
    """A generator task with a number for `num_returns`: its n results, stored as it yields them.

    As Ray's worker does: each value yielded is stored at once, so if the
    generator then raises, the refs of the values it yielded resolve and only
    the rest carry the error (a retried task yields again from the start, so
    then nothing is stored early). An error after all n values is dropped
    (Ray only logs it); too few values fail the refs left over, too many fail
    every ref.
    """
    parts: list[Any] = []
    try:
        for value in gen:
            parts.append(value)
        if len(parts) < n:
            raise ValueError(f"Task returned {len(parts)} objects, but num_returns={n}.")
    except Exception as error:  # noqa: BLE001
        if len(parts) >= n:
            parts = parts[:n]
        else:
            if not (task.retryable(error) or task.cancel_requested):
                here = (task.node if task.node is not None else task.actor.node).node.id
                now = rt.clock.time
                for e, value in zip(task.returns, parts):
                    e.set_value(serialize(value, f"a return value of {task.name}"), here, now)
            raise
    if len(parts) != n:
        raise ValueError(f"Task returned {len(parts)} objects, but num_returns={n}.")
    return [serialize(p, f"a return value of {task.name}") for p in parts]


def _drive_async(agen: Any) -> Iterator[Any]:
    """An async generator run by a plain worker, one value at a time, each `__anext__` on
    an event loop of its own (on virtual time inside simulated work: dsai.sim.aio)."""
    import asyncio

    loop = asyncio.new_event_loop()
    try:
        while True:
            try:
                yield loop.run_until_complete(agen.__anext__())
            except StopAsyncIteration:
                return
    finally:
        loop.close()


def start(rt: Any, task: Any, ref: ObjectRef, num_returns: str) -> Any:
    """A generator task was made (with one return, its completion): attach its stream;
    what `.remote()` returns."""
    dynamic = num_returns == "dynamic"
    if dynamic:
        warnings.warn("num_returns='dynamic' is deprecated and will be removed in a future Ray release. "
                      "Use num_returns='streaming' instead.", DeprecationWarning, stacklevel=3)
    task.stream = Stream(rt, task, dynamic)
    return ref if dynamic else ObjectRefGenerator(ref, task.stream)


class ObjectRefGenerator:
    """The refs a generator task yields, in order, as they appear: `for ref in gen`,
    `async for ref in gen`, `ray.wait([gen])`, `ray.cancel(gen)`."""

    def __init__(self, generator_ref: ObjectRef, stream: Stream) -> None:
        self._generator_ref = generator_ref
        self._stream = stream
        self._next = 0
        self._generator_task_raised = False

    def __iter__(self) -> "ObjectRefGenerator":
        return self

    def __next__(self) -> ObjectRef:
        """Wait until the next ref is available and return it (StopIteration at the end)."""
        return self._next_sync()

    def __aiter__(self) -> "ObjectRefGenerator":
        return self

    async def __anext__(self) -> ObjectRef:
        peek = self._entry
        if not peek.done:
            try:
                await ObjectRef(peek.id, peek)
            except Exception:  # noqa: BLE001  (the value's error is the reader's to see)
                pass
        try:
            return self._read()
        except StopIteration:
            raise StopAsyncIteration from None

    def _next_sync(self) -> ObjectRef:
        peek = self._entry
        if not peek.done:
            self._stream.rt.wait_for([peek], 1, None, fetch_local=False, stop_on_error=False)
        return self._read()

    def _read(self) -> ObjectRef:
        """The next ref, once `next()` no longer has to wait for it."""
        s, i = self._stream, self._next
        if i < s.count:
            self._next = i + 1
            return s.take(i)
        if self._generator_task_raised or s.completion.state is not FAILED:
            raise StopIteration
        self._generator_task_raised = True
        return self._generator_ref  # its get raises the task's error

    @property
    def _entry(self) -> ObjectEntry:
        """The object `next()` waits for: the next one's, or the completion's once the stream
        has ended (so `ray.wait([gen])` reads a generator as one ref)."""
        s, i = self._stream, self._next
        if i < s.count or not s.ended:
            return s.ref(i)._entry
        return s.completion

    def send(self, value: Any) -> None:
        raise NotImplementedError("`gen.send` is not supported.")

    def throw(self, value: Any) -> None:
        raise NotImplementedError("`gen.throw` is not supported.")

    def close(self) -> None:
        raise NotImplementedError("`gen.close` is not supported.")

    def completed(self) -> ObjectRef:
        """The task's completion ref: `ray.get` on it raises the task's error, if any."""
        return self._generator_ref

    def next_ready(self) -> bool:
        """True if `ray.get(next(gen))` would not block now."""
        if self.is_finished():
            return False
        e = self._entry
        return e.done

    def is_finished(self) -> bool:
        """True when `next(gen)` would raise StopIteration now."""
        s = self._stream
        if self._next < s.count or not s.ended:
            return False
        return self._generator_task_raised or s.completion.state is not FAILED

    def __reduce__(self):
        raise TypeError("You cannot return or pass a generator to other task. Serializing a "
                        "ObjectRefGenerator is not allowed.")

    def __del__(self) -> None:
        # The reader is gone: objects it never took go (Ray deletes the stream).
        s = self.__dict__.get("_stream")
        if s is not None:
            s.refs.clear()

    def __repr__(self) -> str:
        return f"ObjectRefGenerator({self._generator_ref.hex()}, next={self._next}, {self._stream!r})"


class DynamicObjectRefGenerator:
    """What a `num_returns="dynamic"` task's one ref holds: the refs of everything it yielded."""

    def __init__(self, refs: deque) -> None:
        self._refs = refs

    def __iter__(self) -> Iterator[ObjectRef]:
        while self._refs:
            yield self._refs.popleft()

    def __len__(self) -> int:
        return len(self._refs)

    def __repr__(self) -> str:
        return f"DynamicObjectRefGenerator({len(self._refs)} refs)"
