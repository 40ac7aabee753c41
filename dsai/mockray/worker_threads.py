"""Which thread runs a task or an actor call, as in Ray's worker processes.

In Ray a task runs on its worker process's main thread, so tasks reusing one
worker share its thread (and its `threading.local` values). An actor's
`__init__` runs on its worker's main thread, and so do its calls when it runs
one at a time; a threaded actor (`max_concurrency` > 1) runs each call on one
of `max_concurrency` pool threads, so concurrent calls have their own
`threading.get_ident()` and `threading.local()` values (each concurrency
group has a pool of its own); an async actor runs
every call on its one event-loop thread. The simulation asks `thread_of` when
simulated work first reads its thread (dsai.sim.threads), so tasks that never
do cost nothing. When an actor's worker dies, the threads its code started
die with it (`stop_actor_threads`).
"""

from __future__ import annotations

from typing import Any

from dsai.mockray.concurrency_groups import DEFAULT_GROUP
from dsai.sim.process import Process
from dsai.sim.threads import Thread, kill_threads, thread_for

__all__ = ["thread_of", "loop_thread", "stop_actor_threads", "stop_worker_threads"]


def _main(sim: Any, actor: Any) -> Thread:
    return thread_for(sim, ("actor", actor.id, actor.num_restarts), "MainThread")


def thread_of(proc: Process) -> Thread | None:
    """The thread the task or call running in `proc` runs on (None: not a task)."""
    task = proc.context
    if task is None:
        return None
    sim = proc.sim
    actor = task.actor
    if actor is None:  # a task: its worker's main thread
        node = proc.node
        return thread_for(sim, ("worker", node.id, node.incarnation, task.worker), "MainThread")
    main = _main(sim, actor)
    if task.kind == "actor_creation":
        return main
    if actor.is_async:  # every coroutine runs on the actor's event loop, on one thread
        return loop_thread(sim, actor)
    if actor.max_concurrency == 1:
        return main
    groups = actor.groups
    group = groups.group_of(task) if groups is not None else DEFAULT_GROUP
    pool = _pool(actor, group)
    slot = pool.slot.get(task.seq)
    if slot is None or pool.holders[slot] is not task:
        # Threads are handed out when a call first asks, but to every running call of the
        # group at once, in submission order: calls that ran side by side never share one.
        for call in sorted(actor.running.values(), key=lambda t: t.seq):
            if call.seq not in pool.slot and (groups is None or groups.group_of(call) == group):
                pool.take(actor, call)
        slot = pool.slot.get(task.seq)
        if slot is None:  # (not among the running calls: cannot happen)
            return main
    # Ray's pool threads are C++ threads, which Python names "Dummy-<n>" in the order it first sees them.
    return thread_for(sim, ("actor pool", actor.id, actor.num_restarts, group, slot),
                      lambda: f"Dummy-{_count_dummy(actor)}", main)


def loop_thread(sim: Any, actor: Any) -> Thread:
    """The thread an async actor's event loop runs on (Ray names it after its concurrency group)."""
    return thread_for(sim, ("actor loop", actor.id, actor.num_restarts), "AsyncIO Thread: default",
                      _main(sim, actor))


def _count_dummy(actor: Any) -> int:
    n = actor.__dict__.get("dummy_threads", (None, 0))
    n = n[1] + 1 if n[0] == actor.num_restarts else 1  # (a restarted actor is a new worker process)
    actor.__dict__["dummy_threads"] = (actor.num_restarts, n)
    return n


class _Pool:
    """One concurrency group's threads: which call holds each."""

    __slots__ = ("holders", "slot", "restarts")

    def __init__(self, size: int, restarts: int) -> None:
        self.holders: list[Any] = [None] * size
        self.slot: dict[int, int] = {}  # call seq -> its thread's index
        self.restarts = restarts

    def take(self, actor: Any, call: Any) -> None:
        for i, holder in enumerate(self.holders):  # the first thread no running call holds
            if holder is None or actor.running.get(holder.seq) is not holder:
                if holder is not None:
                    self.slot.pop(holder.seq, None)
                self.holders[i] = call
                self.slot[call.seq] = i
                return


def _pool(actor: Any, group: str) -> _Pool:
    pools = actor.__dict__.setdefault("thread_pools", {})  # (kept on the actor: they go when it goes)
    pool = pools.get(group)
    if pool is None or pool.restarts != actor.num_restarts:
        size = actor.groups.limits[group] if actor.groups is not None else actor.max_concurrency
        pool = pools[group] = _Pool(size, actor.num_restarts)
    return pool


def stop_actor_threads(actor: Any) -> None:
    """The actor's worker died: the threads its code started die with it."""
    sim = actor.rt.sim
    main = _main(sim, actor)
    kill_threads(sim, lambda t: t._sim_main is main)


def stop_worker_threads(sim: Any, node: Any, worker: int) -> None:
    """A task's worker process died: the threads its tasks started die with it."""
    main = thread_for(sim, ("worker", node.id, node.incarnation, worker), "MainThread")
    kill_threads(sim, lambda t: t._sim_main is main)
