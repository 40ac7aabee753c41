"""A pool of actors fed by a work queue: each value goes to the next idle actor (load balancing).

`ActorPool` is Ray's own utility (`ray.util.ActorPool`), rebuilt here on the
public API (`ray.wait`, `ray.get`), so it behaves exactly as Ray's does: an
actor is busy until the caller collects its result, values wait in a FIFO
of pending submits until an actor is returned, and `map` yields results in
submission order while `map_unordered` yields them as they finish. In the
simulator the pool's speed-up is measured in virtual time: 2 actors doing 6
one-second calls take 3 virtual seconds.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator, TypeVar

from dsai.mockray import api
from dsai.mockray.actor import ActorHandle
from dsai.mockray.exceptions import ActorDiedError

__all__ = ["ActorPool"]

V = TypeVar("V")


class ActorPool:
    """Operate on a fixed pool of actors (Ray's `ray.util.ActorPool`).

    `fn(actor, value)` must return the ObjectRef of a call on `actor`; the actor
    counts as busy until that result is collected with `get_next` /
    `get_next_unordered` (or by iterating `map` / `map_unordered`).

    >>> pool = ActorPool([a1, a2])                                  # doctest: +SKIP
    >>> list(pool.map(lambda a, v: a.double.remote(v), [1, 2, 3]))  # doctest: +SKIP
    [2, 4, 6]
    """

    def __init__(self, actors: list) -> None:
        self._idle_actors = list(actors)
        self._future_to_actor: dict[Any, tuple[int, ActorHandle]] = {}  # ref -> (index, actor)
        self._index_to_future: dict[int, Any] = {}
        self._next_task_index = 0
        self._next_return_index = 0
        self._pending_submits: list[tuple[Callable, Any]] = []

    # -- batch API ---------------------------------------------------------------------
    def map(self, fn: Callable[[ActorHandle, V], Any], values: list[V]) -> Iterator[Any]:
        """Apply `fn` over `values` on the pool; iterate the result to get values in order."""
        return self._map(fn, values, ordered=True)

    def map_unordered(self, fn: Callable[[ActorHandle, V], Any], values: list[V]) -> Iterator[Any]:
        """Like `map`, but yields each result as soon as it is ready."""
        return self._map(fn, values, ordered=False)

    def _map(self, fn: Callable[[ActorHandle, V], Any], values: list[V], ordered: bool) -> Iterator[Any]:
        # As in Ray: results of earlier submits that nobody collected are dropped first.
        while self.has_next():
            try:
                if ordered:
                    self.get_next(timeout=0, ignore_if_timedout=True)
                else:
                    self.get_next_unordered(timeout=0)
            except TimeoutError:
                pass
        for v in values:
            self.submit(fn, v)

        def get_generator() -> Iterator[Any]:
            while self.has_next():
                yield self.get_next() if ordered else self.get_next_unordered()

        return get_generator()

    # -- one value at a time ----------------------------------------------------------------
    def submit(self, fn: Callable[[ActorHandle, V], Any], value: V) -> None:
        """Run `fn(actor, value)` on an idle actor now, or queue it until one is free."""
        if self._idle_actors:
            actor = self._idle_actors.pop()
            future = fn(actor, value)
            future_key = tuple(future) if isinstance(future, list) else future
            self._future_to_actor[future_key] = (self._next_task_index, actor)
            self._index_to_future[self._next_task_index] = future
            self._next_task_index += 1
        else:
            self._pending_submits.append((fn, value))

    def has_next(self) -> bool:
        """Whether any submitted result has not been returned yet."""
        return bool(self._future_to_actor)

    def get_next(self, timeout: float | None = None, ignore_if_timedout: bool = False) -> Any:
        """The next result in submission order, waiting up to `timeout` (virtual) seconds.

        Raises TimeoutError if it is not ready in time; with `ignore_if_timedout`
        the late task is dropped (its actor returns to the pool) before raising.
        """
        if not self.has_next():
            raise StopIteration("No more results to get")
        if self._next_return_index >= self._next_task_index:
            raise ValueError("It is not allowed to call get_next() after get_next_unordered().")
        future = self._index_to_future[self._next_return_index]
        timeout_msg = "Timed out waiting for result"
        raise_timeout_after_ignore = False
        if timeout is not None:
            res, _ = api.wait([future], timeout=timeout)
            if not res:
                if not ignore_if_timedout:
                    raise TimeoutError(timeout_msg)
                raise_timeout_after_ignore = True
        del self._index_to_future[self._next_return_index]
        self._next_return_index += 1
        future_key = tuple(future) if isinstance(future, list) else future
        _, a = self._future_to_actor.pop(future_key)
        if raise_timeout_after_ignore:
            self._return_actor(a)
            raise TimeoutError(timeout_msg + ". The task {} has been ignored.".format(future))
        return self._get_result(future, a)

    def get_next_unordered(self, timeout: float | None = None, ignore_if_timedout: bool = False) -> Any:
        """Any next result (the first ready one), waiting up to `timeout` (virtual) seconds."""
        if not self.has_next():
            raise StopIteration("No more results to get")
        pending = list(self._future_to_actor)
        res, _ = api.wait(pending, num_returns=1, timeout=timeout)
        timeout_msg = "Timed out waiting for result"
        if res:
            [future] = res
        elif not ignore_if_timedout:
            raise TimeoutError(timeout_msg)
        else:
            # Deliberate difference: Ray 2.60 reaches an unbound variable here
            # (UnboundLocalError). We drop the oldest pending task, as get_next does.
            future = min(pending, key=lambda f: self._future_to_actor[f][0])
            i, a = self._future_to_actor.pop(future)
            del self._index_to_future[i]
            self._next_return_index = max(self._next_return_index, i + 1)
            self._return_actor(a)
            raise TimeoutError(timeout_msg + ". The task {} has been ignored.".format(future))
        i, a = self._future_to_actor.pop(future)
        del self._index_to_future[i]
        self._next_return_index = max(self._next_return_index, i + 1)
        return self._get_result(future, a)

    def _get_result(self, future: Any, actor: ActorHandle) -> Any:
        is_alive = True
        try:
            return api.get(future)
        except ActorDiedError:
            is_alive = False  # a dead actor leaves the pool for good
            raise
        finally:
            self._return_actor(actor, is_alive=is_alive)

    def _return_actor(self, actor: ActorHandle, is_alive: bool = True) -> None:
        if is_alive:
            self._idle_actors.append(actor)
        if self._pending_submits and self._idle_actors:
            self.submit(*self._pending_submits.pop(0))

    # -- pool membership ------------------------------------------------------------------------
    def has_free(self) -> bool:
        """Whether an actor is idle and no submit is waiting for one."""
        return len(self._idle_actors) > 0 and len(self._pending_submits) == 0

    def pop_idle(self) -> ActorHandle | None:
        """Remove an idle actor from the pool and return it (None if none is free)."""
        if self.has_free():
            return self._idle_actors.pop()
        return None

    def push(self, actor: ActorHandle) -> None:
        """Add an actor to the pool (it takes a pending submit at once, if any)."""
        busy_actors: tuple = ()
        if self._future_to_actor:
            _, busy_actors = zip(*self._future_to_actor.values())
        if actor in self._idle_actors or actor in busy_actors:
            raise ValueError("Actor already belongs to current ActorPool")
        self._return_actor(actor)

    def __repr__(self) -> str:
        return (f"ActorPool(idle={len(self._idle_actors)}, busy={len(self._future_to_actor)}, "
                f"pending_submits={len(self._pending_submits)})")
