"""Blocking on objects: the driver runs the simulation until what it waits for is ready; a worker suspends.

There is one waiting primitive, `wait_until(w, timeout)`: wait until
`w.poll()` holds. The driver, which is outside the simulation, waits by
running the event loop (`_drive`); a simulated worker suspends its process,
lending its CPU back as Ray does, and is woken by whoever satisfies `w`
(`_block`). When nothing can ever happen again, the driver fails what can
never run or raises `SimulationDeadlockError` (stalls.py). The driver's other
threads post their gets and waits to its main thread, which serves them
while it runs the loop (driver_threads.py).

Waiting for objects (`wait_for`) is a `_Waiter` subscribed to the entries
not available yet: it counts them becoming available (ready or failed, and
copied to the caller's node if asked) and unsubscribes when the call
returns. `get_one`, `get_list` and `wait` are Ray's `get` and `wait` on top
of it, driver and worker alike. Two fast cases stay, each a guard inside
the one path with why its results are the same: the driver's get of one
object (`_drive`) and a driver's `wait` loop over a long list (wait_list.py).

Part of `Runtime` (runtime.py): this mixin reads `sim`, `blocked` and
`wait_list`, and calls `fetch` and `when_available` (object_store.py),
`dispatch` (submission.py) and the stall handling (stalls.py).
"""

from __future__ import annotations

import operator
from typing import Any

from greenlet import getcurrent

from dsai.mockray.exceptions import GetTimeoutError, SimulationDeadlockError
from dsai.mockray.gc_policy import gc_policy
from dsai.mockray.livelock import trips_of
from dsai.mockray.object_ref import FAILED, PENDING, READY, ObjectEntry, ObjectRef, value_of
from dsai.mockray.object_store import INLINE_THRESHOLD
from dsai.mockray.serialization import deserialize
from dsai.mockray.task import Task
from dsai.mockray.wait_list import MIN_LENGTH, WaitList
from dsai.sim.locks import Bell
from dsai.sim.process import Process

__all__ = ["Blocking"]

_state = operator.attrgetter("state")


class _Waiter:
    """Counts objects becoming available (ready or failed, and local if asked)
    for one get/wait call.

    The waiter is itself the callback each pending object calls once, so
    waiting on k objects allocates nothing per object; `close` unsubscribes
    from those that never called. Which objects are available is read off the
    entries afterwards.
    """

    __slots__ = ("rt", "count", "num", "failed", "stop_on_error", "proc", "woken", "active",
                 "node_id", "fetch_local", "pending")

    def __init__(self, rt: "Blocking", entries: list[ObjectEntry], num: int, node_id: int,
                 fetch_local: bool, stop_on_error: bool) -> None:
        self.rt = rt
        self.num = num
        self.failed = False
        self.stop_on_error = stop_on_error
        self.proc: Process | None = None
        self.woken = False
        self.active = True
        self.node_id = node_id
        self.fetch_local = fetch_local
        count = 0
        pending = None
        if len(entries) > 1 and list(map(_state, entries)).count(PENDING) == len(entries):
            pending, entries = entries, ()  # nothing ready yet (seen at C speed)
        for e in entries:
            st = e.state
            if st is READY:
                if not fetch_local or node_id in e.locations:
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
        self.pending = None
        if pending is None or count >= num or self.failed:
            return
        self.pending = pending
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
        return self.count >= self.num or self.failed

    satisfied = poll

    def close(self) -> None:
        """The call returns: stop counting, and unsubscribe from what never came."""
        self.active = False
        pending, self.pending = self.pending, None
        if pending is not None:
            for e in pending:
                if e.state is PENDING:
                    e.remove_callback(self)

    def __call__(self, e: ObjectEntry) -> None:
        if not self.active:
            return  # the call returned already; nothing to count or fetch
        if self.fetch_local and e.state is READY and self.node_id not in e.locations:
            self.rt.fetch(e, self.node_id, lambda: self(e))
            return
        self.count += 1
        if e.state is FAILED and self.stop_on_error:
            self.failed = True
        if self.proc is not None and not self.woken and (self.count >= self.num or self.failed):
            self.woken = True
            self.rt.sim.wake(self.proc, "ready")

    def available(self, e: ObjectEntry) -> bool:
        st = e.state
        if st is FAILED:
            return True
        return st is READY and (not self.fetch_local or self.node_id in e.locations)

    def timeout(self) -> None:
        if self.proc is not None and not self.woken:
            self.woken = True
            self.rt.sim.wake(self.proc, "timeout")


def check_wait_args(unique: int, given: int, num_returns: int) -> None:
    """Ray's errors for a `ray.wait` on `given` refs of which `unique` are distinct objects."""
    if unique != given:
        raise ValueError("Wait requires a list of unique ray_waitables.")
    if num_returns <= 0:
        raise ValueError("Invalid number of objects to return %d." % num_returns)
    if num_returns > given:
        raise ValueError("num_returns cannot be greater than the number of ray_waitables provided "
                         "to ray.wait.")


class Blocking:
    """The blocking calls' engine: wait for objects, as the driver or as a worker."""

    outside: Any = None  # the driver's other threads and their requests (driver_threads.py), once any

    def wait_for(self, entries: list[ObjectEntry], num: int, timeout: float | None,
                 fetch_local: bool, stop_on_error: bool) -> _Waiter:
        """Block the caller (driver or simulated worker) until `num` entries are available."""
        proc = getattr(getcurrent(), "proc", None)
        node_id = 0 if proc is None or proc.node is None else proc.node.id
        w = _Waiter(self, entries, num, node_id, fetch_local, stop_on_error)
        try:
            if not w.satisfied():
                self.wait_until(w, timeout)
        finally:
            w.close()
        return w

    def wait_until(self, w: Any, timeout: float | None) -> None:
        """The one way to wait in the simulation: until `w.poll()` is true, or `timeout`
        virtual seconds have passed. The driver, outside the simulation, runs the
        event loop meanwhile (`_drive`); a simulated worker suspends its process
        instead, lending its CPU back, until whoever satisfies `w` wakes it
        (`sim.wake(w.proc, ...)`) or the timeout calls `w.timeout()` (`_block`).
        `_Waiter` (objects), `WaitList` (a driver's wait loop) and, for the driver's
        get of one object, its `ObjectEntry` (see `_drive`) are such `w`s."""
        proc = getattr(getcurrent(), "proc", None)
        if proc is None:
            self._drive(w, timeout)
        elif timeout is None or timeout > 0:
            self._block(proc, w, timeout)

    def _drive(self, w: Any, timeout: float | None) -> None:
        """The driver's loop: run events until `w.poll()`, the deadline, or a stall.

        One fast case, for the commonest call of all (`ray.get(f.remote())` in a
        loop, Ray's "tasks sync" and "actor calls sync" rows): building a waiter
        per call and calling `w.poll` after every event cost that row about a
        quarter of its speed. So the driver's get of one pending object passes
        the `ObjectEntry` itself as `w` (its `poll` is "no longer pending"), and
        here its state is checked inline, without a Python call per event
        (`EventLoop.run_while`). It stops at the same event `run_until(w.poll)`
        would, and whatever follows (a fetch, a rebuild, an error, a stall) is
        left to the general path at that same instant, so results and timelines
        are the same either way (tests/mockray/fuzzer.py compares them)."""
        work = self.work_done()  # the driver's turn: a checkpoint of the GC policy first
        if work >= gc_policy.frozen_at + 1024:
            gc_policy.checkpoint(work)
        out = self.outside
        if out is not None and out.busy():  # other threads of the driver wait too: serve them meanwhile
            out.serve(w.poll, timeout, Bell(), True)
            return
        loop = self.sim.loop
        deadline = None if timeout is None else loop.now() + timeout
        if type(w) is ObjectEntry and deadline is None:
            loop.run_while(w, "state", PENDING)
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

    def _block(self, proc: Process, w: Any, timeout: float | None) -> None:
        task: Task | None = proc.context
        ns = task.node if task is not None else None
        # A task blocked in get/wait lends its CPU back, as Ray does, so the
        # tasks it waits for can run even on a full node.
        lend = task is not None and task.kind == "task" and ns is not None and task.hold.get("CPU", 0) > 0
        if lend:
            task.released_cpu = True
            ns.release({"CPU": task.hold["CPU"]})
            self.dispatch(ns)
        w.proc = proc
        timer = self.sim.loop.call_later(timeout, w.timeout) if timeout is not None else None
        self.blocked[proc] = w
        began = self.clock.time
        try:
            self.sim.block(("wait", w))
        finally:
            self.blocked.pop(proc, None)
            if timer is not None:
                timer.cancel()
            if lend and task.released_cpu and ns.alive and task.node is ns:
                task.released_cpu = False
                ns.acquire({"CPU": task.hold["CPU"]})
        if task is not None:  # a livelock in zero time must still move the clock (livelock.py)
            trips = trips_of(task)
            cost = trips.cost(began, self.clock.time)
            if cost:
                self.sim.sleep(cost)
            trips.end = self.clock.time

    # -- the driver's and a worker's get and wait -------------------------------------------
    def get_one(self, ref: ObjectRef, timeout: float | None) -> Any:
        """`ray.get(ref)`: its value, or its error raised."""
        e = ref._entry or self.entry(ref)
        if e.state is PENDING and timeout is None and getattr(getcurrent(), "proc", None) is None:
            self.wait_until(e, None)  # the driver's commonest call: the object is its own condition
        if e.state is READY and e.value.nbytes < INLINE_THRESHOLD:
            proc = getattr(getcurrent(), "proc", None)
            if (proc.node.id if proc is not None and proc.node is not None else 0) in e.locations:
                return deserialize(e.value)  # a small object at hand (else: a copy from its owner)
        if not self.wait_for([e], 1, timeout, fetch_local=True, stop_on_error=True).satisfied():
            raise GetTimeoutError("Get timed out: some object(s) not ready.")
        return value_of(e)

    def get_list(self, refs: list[ObjectRef], timeout: float | None) -> list:
        """`ray.get(refs)`: their values, or the first error in list order raised."""
        entries = [r._entry or self.entry(r) for r in refs]
        deadline = None if timeout is None else self.clock.time + timeout
        waiting = entries
        while True:
            left = None if deadline is None else max(0.0, deadline - self.clock.time)
            w = self.wait_for(waiting, len(waiting), left, fetch_local=True, stop_on_error=True)
            if not w.satisfied():
                raise GetTimeoutError("Get timed out: some object(s) not ready.")
            if w.failed:  # raise the first error in list order, as Ray does
                for e in entries:
                    if e.state is FAILED:
                        value_of(e)
            if list(map(_state, entries)).count(READY) == len(entries):  # (C speed)
                return [deserialize(e.value) for e in entries]
            # Counted early, then lost with a node (or its rebuild failed) while the
            # rest ran: wait for those again, which rebuilds them or raises.
            waiting = [e for e in entries if e.state is not READY]

    def wait(self, object_refs: list[ObjectRef], num_returns: int, timeout: float | None,
             fetch_local: bool) -> tuple[list[ObjectRef], list[ObjectRef]]:
        """`ray.wait` on a non-empty list: the first `num_returns` available, in list order, and the rest."""
        driver = getattr(getcurrent(), "proc", None) is None
        memo = self.wait_list
        if driver and memo is not None:
            self.wait_list = None  # back only if this call leaves it consistent
            if 0 < num_returns <= len(object_refs) and memo.rt is self and object_refs == memo.refs:
                # The list the last call returned: its refs and their uniqueness are checked already.
                start = self.clock.time
                try:
                    out = memo.wait(object_refs, num_returns, timeout, fetch_local)
                except BaseException:
                    memo.close()
                    raise
                if out is not None:
                    self.wait_list = memo
                    return out
                if timeout is not None:  # what is left of it, for the long way
                    timeout = max(0.0, start + timeout - self.clock.time)
            memo.close()
        # wait is called in loops over long lists: each check below is one C-speed pass.
        try:
            entries = list(map(_entry_of, object_refs))
        except AttributeError:
            entries = None
        if entries is None:
            for r in object_refs:
                if not isinstance(r, ObjectRef):
                    raise TypeError("wait() expected a list of ray.ObjectRef or ray.ObjectRefGenerator, "
                                    f"got list containing {type(r)}")
        unique = set(entries)
        if None in unique:  # refs rebuilt from their id (e.g. unpickled): look them up
            entries = [r._entry or self.entry(r) for r in object_refs]
            unique = set(entries)
        check_wait_args(len(unique), len(entries), num_returns)
        w = self.wait_for(entries, num_returns, timeout, fetch_local=fetch_local, stop_on_error=False)
        # The first num_returns available ones, in input order; the rest keep their order.
        picked, available = [], w.available
        for i, e in enumerate(entries):
            if available(e):
                picked.append(i)
                if len(picked) == num_returns:
                    break
        if not picked:
            rest, rest_entries = list(object_refs), entries
        else:
            last, taken = picked[-1], set(picked)
            rest = [r for i, r in enumerate(object_refs[:last + 1]) if i not in taken]
            rest.extend(object_refs[last + 1:])
            rest_entries = [e for i, e in enumerate(entries[:last + 1]) if i not in taken]
            rest_entries.extend(entries[last + 1:])
        if driver and len(rest) >= MIN_LENGTH and not any(map(_remote_ready, rest_entries)):
            # Likely called again on `rest`: remember it (unless the long way has fetches to
            # decide: big objects ready on other nodes).
            self.wait_list = WaitList(self, rest, rest_entries)
        return [object_refs[i] for i in picked], rest


_entry_of = operator.attrgetter("_entry")


def _remote_ready(e: ObjectEntry) -> bool:
    return e.state is READY and 0 not in e.locations
