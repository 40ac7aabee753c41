"""Which thread runs a task or an actor call, as in Ray's worker processes.

In Ray a task runs on its worker process's main thread, so tasks reusing one
worker share its thread (and its `threading.local` values). An actor's
`__init__` runs on its worker's main thread, and so do its calls when it runs
one at a time; a threaded actor (`max_concurrency` > 1) runs each call on one
of `max_concurrency` pool threads, so concurrent calls have their own
`threading.get_ident()` and `threading.local()` values; an async actor runs
every call on its one event-loop thread. The simulation asks `thread_of` when
simulated work first reads its thread (dsai.sim.threads), so tasks that never
do cost nothing. When an actor's worker dies, the threads its code started
die with it (`stop_actor_threads`).
"""

from __future__ import annotations

import weakref
from typing import Any

from dsai.sim.process import Process
from dsai.sim.threads import Thread, kill_threads, thread_for

__all__ = ["thread_of", "stop_actor_threads"]

# A threaded actor's pool: which process (call) holds each of its threads now.
_pools: "weakref.WeakKeyDictionary[Any, list[Process | None]]" = weakref.WeakKeyDictionary()


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
    if task.kind == "actor_creation" or actor.max_concurrency == 1:
        return main
    if actor.is_async:  # every coroutine runs on the actor's event loop, on one thread
        return thread_for(sim, ("actor loop", actor.id, actor.num_restarts), "AsyncIO Thread: default", main)
    pool = _pools.get(actor)
    if pool is None or len(pool) != actor.max_concurrency:
        pool = _pools[actor] = [None] * actor.max_concurrency
    for i, holder in enumerate(pool):  # the first thread no running call holds
        if holder is None or holder.done or holder.context is None:
            pool[i] = proc
            return thread_for(sim, ("actor pool", actor.id, actor.num_restarts, i), f"Thread-{i + 1}", main)
    return main  # (more running calls than threads: cannot happen, the mailbox admits max_concurrency)


def stop_actor_threads(actor: Any) -> None:
    """The actor's worker died: the threads its code started die with it."""
    sim = actor.rt.sim
    main = _main(sim, actor)
    kill_threads(sim, lambda t: t._sim_main is main)
