"""A FIFO queue shared by tasks and actors: one actor owns the items, everyone else sends it calls.

Ray's `ray.util.queue.Queue` is a thin client around a queue actor; handles
to the queue can be passed to any task or actor, and every `put`/`get` is a
call to that actor (Ray's is an async actor around `asyncio.Queue`). Here
`_QueueActor` is a plain actor that runs up to 1000 calls at once
(`max_concurrency`, Ray's default for an async actor), so a blocked call
does not hold up the others. A `get` on an empty queue (or a `put` on a full
one) waits on the simulator, in a FIFO line of its kind, until the `put`
(or `get`) that serves it hands it its item (or slot) directly, in arrival
order, so runs are deterministic; or until a timer ends it after `timeout`
virtual seconds (`Empty` / `Full`). `ray.cancel` of a blocked `get`/`put`
interrupts it, as it interrupts a call of Ray's async actor
(`cancel_interrupts_running_calls`); a cancelled getter that had already
been handed an item passes it on, so no item is lost. `shutdown()` lets the
calls already sent in first (up to `grace_period_s` virtual seconds), then
kills the actor; `shutdown(force=True)` kills it at once.

One deliberate difference: `get(timeout=0)` / `put(x, timeout=0)` succeed
when an item / a free slot is there (as on Python >= 3.12). Real Ray on
Python 3.11 always raises Empty / Full for a zero timeout, because
`asyncio.wait_for(..., 0)` cancels the operation before it starts there.
"""

from __future__ import annotations

import asyncio
import queue
from collections import deque
from collections.abc import Iterable
from typing import Any

from dsai.mockray import api
from dsai.sim.process import current_process

__all__ = ["Queue", "Empty", "Full"]

_MAX_CONCURRENCY = 1000  # Ray's default for an async actor


class Empty(queue.Empty):
    """The queue had no item (get_nowait, or get timed out)."""


class Full(queue.Full):
    """The queue had no room (put_nowait, or put timed out)."""


class Queue:
    """A first-in, first-out queue on the (simulated) cluster, like `asyncio.Queue`.

    `maxsize=0` means unbounded. `actor_options` go to the queue actor's
    `.options(...)` (e.g. `{"num_cpus": 1}` or a scheduling strategy).
    Timeouts are in virtual seconds.
    """

    def __init__(self, maxsize: int = 0, actor_options: dict | None = None) -> None:
        actor_options = actor_options or {}
        self.maxsize = maxsize
        options = {"max_concurrency": _MAX_CONCURRENCY, **actor_options}
        self.actor = api.remote(_QueueActor).options(**options).remote(self.maxsize)

    def __len__(self) -> int:
        return self.size()

    def size(self) -> int:
        """The size of the queue."""
        return api.get(self.actor.qsize.remote())

    def qsize(self) -> int:
        """The size of the queue."""
        return self.size()

    def empty(self) -> bool:
        """Whether the queue is empty."""
        return api.get(self.actor.empty.remote())

    def full(self) -> bool:
        """Whether the queue is full."""
        return api.get(self.actor.full.remote())

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        """Add an item; if the queue is full, wait (up to `timeout`) for room, else raise Full."""
        if not block:
            try:
                api.get(self.actor.put_nowait.remote(item))
            except asyncio.QueueFull:
                raise Full
        else:
            if timeout is not None and timeout < 0:
                raise ValueError("'timeout' must be a non-negative number")
            api.get(self.actor.put.remote(item, timeout))

    async def put_async(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        """`put` for async code (an async actor's method)."""
        if not block:
            try:
                await self.actor.put_nowait.remote(item)
            except asyncio.QueueFull:
                raise Full
        else:
            if timeout is not None and timeout < 0:
                raise ValueError("'timeout' must be a non-negative number")
            await self.actor.put.remote(item, timeout)

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        """Remove and return the oldest item; if empty, wait (up to `timeout`), else raise Empty."""
        if not block:
            try:
                return api.get(self.actor.get_nowait.remote())
            except asyncio.QueueEmpty:
                raise Empty
        else:
            if timeout is not None and timeout < 0:
                raise ValueError("'timeout' must be a non-negative number")
            return api.get(self.actor.get.remote(timeout))

    async def get_async(self, block: bool = True, timeout: float | None = None) -> Any:
        """`get` for async code (an async actor's method)."""
        if not block:
            try:
                return await self.actor.get_nowait.remote()
            except asyncio.QueueEmpty:
                raise Empty
        else:
            if timeout is not None and timeout < 0:
                raise ValueError("'timeout' must be a non-negative number")
            return await self.actor.get.remote(timeout)

    def put_nowait(self, item: Any) -> None:
        """Equivalent to put(item, block=False)."""
        return self.put(item, block=False)

    def put_nowait_batch(self, items: Iterable) -> None:
        """Put all `items` in order, or none of them (Full) if they do not all fit."""
        if not isinstance(items, Iterable):
            raise TypeError("Argument 'items' must be an Iterable")
        api.get(self.actor.put_nowait_batch.remote(items))

    def get_nowait(self) -> Any:
        """Equivalent to get(block=False)."""
        return self.get(block=False)

    def get_nowait_batch(self, num_items: int) -> list[Any]:
        """The next `num_items` items in FIFO order, or none of them (Empty) if fewer are queued."""
        if not isinstance(num_items, int):
            raise TypeError("Argument 'num_items' must be an int")
        if num_items < 0:
            raise ValueError("'num_items' must be nonnegative")
        return api.get(self.actor.get_nowait_batch.remote(num_items))

    def shutdown(self, force: bool = False, grace_period_s: int = 5) -> None:
        """Terminate the queue actor (and free its resources); the queue is unusable afterwards.

        With force=False, calls already sent to the actor are let in first; the
        actor is killed if that takes longer than `grace_period_s` (virtual) seconds.
        """
        if self.actor:
            if force:
                api.kill(self.actor, no_restart=True)
            else:
                done_ref = self.actor.terminate.remote()
                api.wait([done_ref], timeout=grace_period_s)
                # The simulator has no exit_actor(): after the graceful call the
                # actor is ended with kill (what Ray also does when grace runs out).
                api.kill(self.actor, no_restart=True)
        self.actor = None

    def __repr__(self) -> str:
        return f"Queue(maxsize={self.maxsize}, actor={self.actor!r})"


class _Waiter:
    """One blocked get or put, in its line (getters or putters)."""

    __slots__ = ("proc", "item", "state")

    def __init__(self, proc: Any, item: Any = None) -> None:
        self.proc = proc
        self.item = item
        self.state = "waiting"  # -> "served" (got an item / its item was taken in) or "timed out"


class _QueueActor:
    """The actor behind a Queue: items in a deque, blocked callers in FIFO lines."""

    # Ray's queue actor is an async one: ray.cancel of a blocked get/put interrupts it.
    cancel_interrupts_running_calls = True

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self.items: deque = deque()
        self.getters: deque[_Waiter] = deque()
        self.putters: deque[_Waiter] = deque()

    def qsize(self) -> int:
        return len(self.items)

    def empty(self) -> bool:
        return not self.items

    def full(self) -> bool:
        return self.maxsize > 0 and len(self.items) >= self.maxsize

    # -- non-blocking (errors as asyncio.Queue raises them; the client turns them into Full/Empty)
    def put_nowait(self, item: Any) -> None:
        if self.full():
            raise asyncio.QueueFull
        self._add(item)

    def get_nowait(self) -> Any:
        if not self.items:
            raise asyncio.QueueEmpty
        return self._take()

    def put_nowait_batch(self, items: Any) -> None:
        # If maxsize is 0, the queue is unbounded, so no need to check size.
        if self.maxsize > 0 and len(items) + self.qsize() > self.maxsize:
            raise Full(f"Cannot add {len(items)} items to queue of size {self.qsize()} and maxsize "
                       f"{self.maxsize}.")
        for item in items:
            self.put_nowait(item)

    def get_nowait_batch(self, num_items: int) -> list[Any]:
        if num_items > self.qsize():
            raise Empty(f"Cannot get {num_items} items from queue of size {self.qsize()}.")
        return [self.get_nowait() for _ in range(num_items)]

    # -- blocking: wait in line on the simulator ---------------------------------------------
    def put(self, item: Any, timeout: float | None = None) -> None:
        if not self.full():
            self._add(item)
            return
        if not self._wait(self.putters, _Waiter(current_process(), item), timeout, "queue.put"):
            raise Full

    def get(self, timeout: float | None = None) -> Any:
        if self.items:
            return self._take()
        w = _Waiter(current_process())
        if not self._wait(self.getters, w, timeout, "queue.get"):
            raise Empty
        return w.item

    def terminate(self) -> None:
        """Reached in call order by Queue.shutdown(force=False)."""

    # -- internals -----------------------------------------------------------------------------
    def _add(self, item: Any) -> None:
        """A new item: straight to the longest-waiting getter, else to the back of the queue."""
        if self.getters:
            self._serve(self.getters.popleft(), item)
        else:
            self.items.append(item)

    def _take(self) -> Any:
        """The oldest item; its slot goes to the longest-waiting putter."""
        item = self.items.popleft()
        if self.putters and not self.full():
            w = self.putters.popleft()
            self.items.append(w.item)
            self._serve(w, w.item)
        return item

    @staticmethod
    def _serve(w: _Waiter, item: Any) -> None:
        w.state, w.item = "served", item
        w.proc.sim.wake(w.proc)

    def _wait(self, line: deque, w: _Waiter, timeout: float | None, reason: str) -> bool:
        """Block the calling call until served (True) or `timeout` virtual seconds pass (False)."""
        if timeout is not None and timeout <= 0:
            return False
        sim = w.proc.sim
        line.append(w)
        timer = sim.after(timeout, self._expire, line, w) if timeout is not None else None
        try:
            sim.block((reason, id(self)))
        except BaseException:
            # Cancelled (KeyboardInterrupt) or killed while waiting: leave the line;
            # a getter that was already handed an item gives it back, at the front.
            if w.state == "waiting":
                line.remove(w)
            elif w.state == "served" and line is self.getters:
                if self.getters:
                    self._serve(self.getters.popleft(), w.item)
                else:
                    self.items.appendleft(w.item)
            w.state = "gone"
            raise
        finally:
            if timer is not None:
                timer.cancel()
        return w.state == "served"

    def _expire(self, line: deque, w: _Waiter) -> None:
        if w.state == "waiting":
            w.state = "timed out"
            line.remove(w)
            w.proc.sim.wake(w.proc)

    def __repr__(self) -> str:
        return (f"_QueueActor(maxsize={self.maxsize}, items={len(self.items)}, "
                f"getters={len(self.getters)}, putters={len(self.putters)})")
