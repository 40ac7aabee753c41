"""Futures for remote values: an ObjectRef names a value that may not exist yet.

The value lives in the object store of the node that made it (an
`ObjectEntry`); the ref is only a name, cheap to copy and to pass to other
tasks. `ray.get` waits for the entry; `ref.future()` and `await ref` are
other ways to wait for the same thing.

Whoever waits for an object subscribes to its entry (`on_done`,
`add_callback`) and may unsubscribe (`remove_callback`); when the object
becomes ready or failed, the entry calls its subscribers once, in the order
they subscribed. That is the only way to be told: there is no global log of
changes to scan.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from asyncio.events import _get_running_loop
from typing import Any, Callable

from dsai.mockray import driver_async, options, serialization, session
from dsai.mockray.exceptions import RayTaskError
from dsai.mockray.export import shared_by_identity
from dsai.mockray.livelock import trips_of
from dsai.mockray.serialization import Serialized, deserialize
from dsai.sim.aio import SimEventLoop
from dsai.sim.process import current_process

__all__ = ["ObjectRef", "ObjectEntry", "PENDING", "READY", "FAILED", "LOST", "value_of"]

PENDING, READY, FAILED, LOST = "pending", "ready", "failed", "lost"


class ObjectEntry:
    """One object in the (simulated, distributed) object store."""

    __slots__ = ("id", "state", "value", "error", "locations", "callbacks", "creator",
                 "fetching", "created_at", "owner_node", "call_site", "nrefs", "store")

    def __init__(self, object_id: bytes, creator: Any = None, owner_node: int = 0,
                 store: "dict[bytes, ObjectEntry] | None" = None) -> None:
        self.id = object_id
        # Reference counting, as Ray's owner does: live ObjectRefs (including refs
        # inside stored values) and tasks that take it as an argument. At zero the
        # object leaves `store` (the cluster's id -> entry map) and, its lineage no
        # longer needed, lets go of the task that made it.
        self.nrefs = 0
        self.store = store
        self.state = PENDING
        self.value: Serialized | None = None
        self.error: BaseException | None = None  # a Ray error, stored as the value
        # Kept small for the garbage collector, which rescans every live entry:
        # a tuple of ints (untracked once scanned), lists only while needed.
        self.locations: tuple[int, ...] = ()  # node ids holding a copy; the first is the primary
        # Who waits for it: None, one callable (the common case: no list to make), or a list.
        self.callbacks: Callable[["ObjectEntry"], Any] | list[Callable[["ObjectEntry"], Any]] | None = None
        self.creator = creator  # the Task (task.py) whose return this is (lineage), None for put
        self.fetching: dict[int, list[Callable[[], Any]]] | None = None  # node -> transfer waiters
        self.created_at: float | None = None
        self.owner_node = owner_node

    @property
    def done(self) -> bool:
        return self.state is READY or self.state is FAILED

    @property
    def nbytes(self) -> int:
        return self.value.nbytes if self.value is not None else 0

    def poll(self) -> bool:
        """No longer pending: the condition of a driver waiting for this one object
        (`Blocking.wait_until(entry, None)`)."""
        return self.state is not PENDING

    def on_done(self, fn: Callable[["ObjectEntry"], Any]) -> None:
        """Call `fn(entry)` once the object is ready or failed (now, if it is)."""
        if self.state is READY or self.state is FAILED:
            fn(self)
        else:
            self.add_callback(fn)

    def add_callback(self, fn: Callable[["ObjectEntry"], Any]) -> None:
        """Subscribe `fn` to this object's end (ready or failed), called once."""
        cbs = self.callbacks
        if cbs is None:
            self.callbacks = fn
        elif type(cbs) is list:
            cbs.append(fn)
        else:
            self.callbacks = [cbs, fn]

    def remove_callback(self, fn: Callable[["ObjectEntry"], Any]) -> None:
        """Unsubscribe `fn` (a waiter that gave up), if it has not been called yet."""
        cbs = self.callbacks
        if cbs is fn:
            self.callbacks = None
        elif type(cbs) is list and fn in cbs:
            cbs.remove(fn)

    def _fire(self) -> None:
        """Its state changed to done: tell who waits."""
        if self.callbacks is not None:
            self._notify()

    def _notify(self) -> None:
        callbacks, self.callbacks = self.callbacks, None
        if type(callbacks) is list:
            for fn in callbacks:
                fn(self)
        else:
            callbacks(self)

    def set_value(self, value: Serialized, node: int, now: float) -> None:
        self.value, self.error, self.state = value, None, READY
        self.locations = (node,)
        self.created_at = now
        if self.callbacks is not None:  # (every task result passes here: kept short)
            self._notify()

    def set_error(self, error: BaseException, node: int, now: float) -> None:
        self.value, self.error, self.state = None, error, FAILED
        self.locations = (node,)
        self.created_at = now
        self._fire()

    def release(self) -> None:
        """Nothing refers to this object any more: forget it (memory is freed when
        the last task holding it directly, if any, is done with it). Iterative: a
        long chain of tasks, each the argument of the next, is freed without recursion."""
        e, todo = self, None
        while True:
            store = e.store
            if store is not None:
                e.store = None
                other = store.pop(e.id, e)
                if other is not e:  # a stale ref from another session shares the id: not ours
                    store[e.id] = other
            creator = e.creator
            if creator is not None:
                e.creator = None
                creator.unreleased -= 1
                if not creator.unreleased and creator.arg_entries and creator.done:
                    if todo is None:
                        todo = []
                    todo.extend(creator.drop_args())
            if not todo:
                return
            e = todo.pop()

    def __repr__(self) -> str:
        return f"ObjectEntry({self.id.hex()[:16]}…, {self.state}, {self.nbytes} bytes, at {self.locations})"


def value_of(entry: ObjectEntry) -> Any:
    """A done object's value, or its error raised (a task's error as its cause's type too)."""
    if entry.state is FAILED:
        err = entry.error
        if isinstance(err, RayTaskError):
            raise err.as_instanceof_cause()
        raise err
    return deserialize(entry.value)


@shared_by_identity
class ObjectRef:
    """A reference to a value in the cluster's object store."""

    __slots__ = ("_id", "_entry", "__weakref__")

    def __init__(self, object_id: bytes, entry: ObjectEntry | None = None) -> None:
        self._id = object_id
        self._entry = entry
        if entry is not None:
            entry.nrefs += 1

    def __del__(self) -> None:
        e = self._entry
        if e is not None:
            e.nrefs -= 1
            if not e.nrefs:
                e.release()

    def __getattr__(self, name: str) -> Any:
        # Only for names it lacks: Ray's ObjectRef is a C type named 'ray.ObjectRef', and its
        # error says so (`asyncio.wait([ref])`: ... has no attribute 'add_done_callback').
        raise AttributeError(f"'ray.ObjectRef' object has no attribute '{name}'", name=name, obj=self)

    def binary(self) -> bytes:
        return self._id

    def hex(self) -> str:
        return self._id.hex()

    def task_id(self) -> Any:
        return self._id[:24].hex()

    def is_nil(self) -> bool:
        return not any(self._id)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ObjectRef) and other._id == self._id

    def __hash__(self) -> int:
        return hash(self._id)

    def __repr__(self) -> str:
        return f"ObjectRef({self._id.hex()})"

    def __reduce__(self):
        # Nested refs travel as names and are found again in the running cluster;
        # the stored value keeps them (and so their objects) alive meanwhile.
        contained = serialization.CONTAINED
        if contained is not None:
            contained.append(self)
        return (_rebuild_ref, (self._id,))

    def future(self) -> concurrent.futures.Future:
        """A concurrent.futures.Future for the value; `result()` runs the simulation."""
        return _RefFuture(self)

    def __await__(self):
        loop = _get_running_loop()
        if isinstance(loop, SimEventLoop):  # an async actor's (or a task's asyncio.run) loop
            return _await_in_loop(self, loop).__await__()
        if loop is not None and driver_async.on_driver_thread():  # the driver's own loop
            return driver_async.await_in_driver(self, loop).__await__()
        return _await_ref(self).__await__()

    def _on_completed(self, fn: Callable[[Any], Any]) -> None:
        session.runtime().entry(self).on_done(lambda e: fn(self))


def _rebuild_ref(object_id: bytes) -> ObjectRef:
    rt = session.runtime_or_none()
    entry = rt.objects.get(object_id) if rt is not None else None
    if entry is None and rt is not None:
        entry = rt.freed(object_id)  # pickled out of band, then freed: its get says so
    return ObjectRef(object_id, entry)


async def _await_in_loop(ref: ObjectRef, loop: SimEventLoop) -> Any:
    # Inside simulated work, on a loop on virtual time: only this coroutine waits,
    # the loop runs the others meanwhile.
    rt = session.runtime()
    e = ref._entry or rt.entry(ref)
    began = rt.clock.time
    if not e.done:
        fut = loop.create_future()

        def settle(entry: ObjectEntry) -> None:
            if not fut.done():
                loop.call_soon_from_outside(_settle_future, fut)

        e.on_done(settle)
        await fut
    proc = current_process()
    if proc is not None and proc.context is not None:  # a livelock in zero time must still move the clock
        trips = trips_of(proc.context)
        cost = trips.cost(began, rt.clock.time)
        if cost:
            await asyncio.sleep(cost)  # (on the loop's virtual clock: its other calls run meanwhile)
        trips.end = rt.clock.time
    return rt.get_one(ref, None)  # done now: its value (a big one fetched here), or its error


def _settle_future(fut: Any) -> None:
    if not fut.done():
        fut.set_result(None)


async def _await_ref(ref: ObjectRef) -> Any:
    # Inside simulated work this blocks the process; in the driver it runs the
    # simulation until the value is there. Either way no asyncio loop is needed.
    return session.runtime().get_one(ref, None)


class _RefFuture(concurrent.futures.Future):
    """A Future whose `result()` drives the simulation instead of blocking a thread."""

    def __init__(self, ref: ObjectRef) -> None:
        super().__init__()
        self._ref = ref
        self._waiters = _DrivingWaiters()  # concurrent.futures.wait/as_completed run the simulation
        self._dsai_markers: list = []  # asyncio futures of driver loops that wait for this one
        session.runtime().entry(ref).on_done(self._settle)

    def add_done_callback(self, fn: Callable[[Any], Any]) -> None:
        super().add_done_callback(fn)
        driver_async.watch_future(self)  # (asyncio.wrap_future in the driver's loop)

    def _settle(self, entry: ObjectEntry) -> None:
        if self.done():
            return
        try:
            value = value_of(entry)
        except BaseException as e:
            self.set_exception(e)
        else:
            self.set_result(value)
        for marker in self._dsai_markers:
            if not marker.done():
                marker.set_result(None)
        self._dsai_markers.clear()

    def _drive(self, timeout: float | None) -> None:
        if not self.done() and not driver_async.on_driver_thread():
            # Another thread: its wait is a request the driver's thread serves (driver_threads.py).
            if timeout is not None:
                options.check_wait_timeout(timeout)
            driver_async.wait_from_thread(session.runtime(), [self._ref], 1, timeout, False)
            return
        if not self.done():
            if timeout is not None:
                options.check_wait_timeout(timeout)
            session.runtime().wait([self._ref], 1, timeout, False)

    def result(self, timeout: float | None = None) -> Any:
        self._drive(timeout)
        if not self.done():
            raise concurrent.futures.TimeoutError()
        return super().result(0)

    def exception(self, timeout: float | None = None) -> BaseException | None:
        self._drive(timeout)
        if not self.done():
            raise concurrent.futures.TimeoutError()
        return super().exception(0)


class _DrivingWaiters(list):
    """A future's waiter list whose waiters' events run the simulation when waited on."""

    def append(self, waiter: Any) -> None:
        if type(waiter.event) is threading.Event:
            waiter.event.__class__ = driver_async.DrivingEvent
        super().append(waiter)
