"""Concurrency groups: an actor's calls split into named groups, each running up to its own limit at once.

`@ray.remote(concurrency_groups={"io": 2, "compute": 4})` gives a threaded
actor one pool of threads per group; a method joins a group with
`@ray.method(concurrency_group="io")`, or one call with
`.options(concurrency_group="io")`, and every other call runs in the default
group, of `max_concurrency` threads. So a group that is full holds back only
its own calls: a slow "io" call never delays a "compute" one. Calls still
start in submission order within each group. `start_calls` is the actor
mailbox's pump when groups are set (actor_state.py `pump` hands over to it);
worker_threads.py gives each group its own threads.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

__all__ = ["ConcurrencyGroups", "DEFAULT_GROUP"]

DEFAULT_GROUP = "_ray_default_group"


class ConcurrencyGroups:
    """An actor's groups: the limit of each, and which group each method is in."""

    def __init__(self, cls: type, groups: dict[str, int], default_limit: int) -> None:
        if not isinstance(groups, dict):
            raise TypeError(f"concurrency_groups must be a dict of group name to max concurrency, e.g. "
                            f"{{'io': 2}}; got {groups!r}")
        for name, limit in groups.items():
            if not isinstance(name, str) or not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
                raise ValueError(f"concurrency group {name!r}: {limit!r} is not a valid max concurrency; "
                                 "give each group a name and a whole number >= 1, e.g. {'io': 2}")
        self.limits = {**groups, DEFAULT_GROUP: default_limit}
        self.of_method = {}
        for name in dir(cls):
            group = getattr(getattr(cls, name, None), "__ray_concurrency_group__", None)
            if group is not None:
                self.of_method[name] = group

    @property
    def total(self) -> int:
        """How many calls can run at once, over all groups."""
        return sum(self.limits.values())

    def group_of(self, task: Any) -> str:
        group = task.__dict__.get("concurrency_group") or self.of_method.get(task.method)
        return group if group in self.limits else DEFAULT_GROUP

    def admit(self, mailbox: Any, running: dict[int, Any], actor: Any = None) -> list[Any]:
        """Take off the mailbox the calls that can start now: in order, each while its
        group has room, up to the first call still waiting for its arguments (or, given
        the `actor`, for its spec to reach the actor's node)."""
        busy = Counter(self.group_of(t) for t in running.values())
        picked = []
        for task in mailbox:
            if task.done:
                continue
            if task.state == "ready" and actor is not None and actor.node is not None and actor.needs_spec(task):
                # Ready on the node the actor left (it restarted elsewhere): its spec was sent
                # to the new node when the actor was placed there; wait for it, as pump does.
                actor.call_ready(task)
            if task.state != "ready":
                break  # head-of-line: later calls wait for this one's arguments
            group = self.group_of(task)
            if busy[group] < self.limits[group]:
                busy[group] += 1
                picked.append(task)
        if picked:
            taken = set(map(id, picked))
            left = [t for t in mailbox if id(t) not in taken and not t.done]
            mailbox.clear()
            mailbox.extend(left)
        return picked

    def start_calls(self, actor: Any, start: Any) -> None:
        """The actor's pump with groups: start every call `admit` lets through. All
        are booked as running before any starts, as one that ends at once pumps again."""
        picked = self.admit(actor.mailbox, actor.running, actor)
        for task in picked:
            task.node = actor.node
            task.worker = actor.worker
            task.state = "fetching"
            actor.running[task.seq] = task
        for task in picked:
            if task.arg_entries:
                actor.rt.fetch_args(task, actor.node, start)
            else:
                start(task)

    def __repr__(self) -> str:
        groups = ", ".join(f"{k}={v}" for k, v in self.limits.items() if k != DEFAULT_GROUP)
        return f"ConcurrencyGroups({groups}, default={self.limits[DEFAULT_GROUP]})"
