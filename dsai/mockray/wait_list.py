"""Consuming results as they come: a driver's `ray.wait` loop costs O(picked) per call, not O(list).

The usual way to take results in the order they finish (and Ray's
microbenchmark row "wait 1k refs") is

    while not_ready:
        ready, not_ready = ray.wait(not_ready)

Checking each call's list from scratch (types, duplicates, which objects are
ready) makes that loop quadratic in the list's length. So the driver remembers
the list its last `wait` returned. When the next call passes the same refs,
what was checked still holds; the list subscribed once to each of its pending
objects (O(1) each, once for the whole loop), so the objects done since are the
ones that called it, and a heap ordered by list position yields the first
ready ones. Anything unusual (an object lost, one that must first be
fetched from another node, or a generator the driver has read on with
`next()` since the list was made) drops the memory (`close`: it stops noting and lets
go of the list) and the call is answered the long way, so the results and the
simulation are the same either way.
"""

from __future__ import annotations

import operator
from bisect import bisect_left, insort
from heapq import heappop, heappush
from typing import Any

from dsai.mockray.object_ref import FAILED, PENDING, READY, ObjectEntry, ObjectRef

__all__ = ["WaitList", "MIN_LENGTH"]

MIN_LENGTH = 32  # shorter lists are cheap to check from scratch
_state = operator.attrgetter("state")


class WaitList:
    """The not-ready list a driver `ray.wait` returned, and which of its objects became available."""

    __slots__ = ("rt", "refs", "position", "at", "removed", "heap", "num", "fetch_local", "bail", "changed",
                 "generators")

    def __init__(self, rt: Any, refs: list[ObjectRef], entries: list[ObjectEntry]) -> None:
        self.rt = rt
        self.refs = refs[:]  # our own copy: the caller may change the list it got
        # Positions in this first list: picking keeps the order, so they stay sorted.
        # An object's position is set to None once it is in the heap, and it is
        # forgotten (here and in `at`) once picked, so its value can be freed.
        self.position: dict[ObjectEntry, int | None] = dict(zip(entries, range(len(entries))))
        self.at = entries  # and the entry at each position
        self.removed: list[int] = []  # positions picked since, sorted
        self.num, self.fetch_local, self.bail = 1, True, False
        self.heap: list[int] = []  # positions of the objects not pending (any more); ints compare fast
        # The objects that became done since the last look (they called us); None once closed.
        self.changed: list[ObjectEntry] | None = []
        # Generators, with the object each waited for then: `next(gen)` moves a generator on
        # to its next object, and then what is remembered of it no longer holds.
        self.generators = [(r, e) for r, e in zip(refs, entries) if type(r) is not ObjectRef]
        states = list(map(_state, entries))
        if states.count(PENDING) == len(states):
            for e in entries:
                e.add_callback(self)
        else:
            for i, e in enumerate(entries):
                if e.state is PENDING:
                    e.add_callback(self)
                else:  # lost ones too: met in order, they send us the long way
                    self.heap.append(i)  # appended in order: already a heap
                    self.position[e] = None

    def __call__(self, e: ObjectEntry) -> None:
        """One of the pending objects is done (ready or failed): note it; `poll` looks later."""
        changed = self.changed
        if changed is not None:
            changed.append(e)

    def close(self) -> None:
        """The driver moved on: stop noting, and let go of the list (its objects may be freed)."""
        self.changed = None
        self.position, self.at, self.refs, self.heap = {}, [], [], []

    def poll(self) -> bool:
        """Take in the objects done since the last look; enough of them yet?"""
        changed = self.changed
        if changed:
            position, heap = self.position, self.heap
            self.changed = []
            for e in changed:
                i = position.get(e)
                if i is None:
                    continue  # picked already
                if e.state is FAILED or (e.state is READY and (
                        0 in e.locations)):
                    position[e] = None
                    heappush(heap, i)
                else:  # ready on another node: the long way fetches it (or not), from this very event on
                    self.bail = True
                    return True
        return len(self.heap) >= self.num

    def wait(self, refs: list[ObjectRef], num_returns: int, timeout: float | None,
             fetch_local: bool) -> tuple[list[ObjectRef], list[ObjectRef]] | None:
        """`ray.wait` on `refs` (equal to `self.refs`), or None: answer it the long way."""
        if self.generators:
            position = self.position
            for gen, e in self.generators:
                if e in position and gen._entry is not e:  # still listed, but read on since
                    return None
        if self.changed or len(self.heap) < num_returns:
            self.num, self.fetch_local, self.bail = num_returns, fetch_local, False
            if not self.poll():
                self.rt.wait_until(self, timeout)
            if self.bail:
                return None
        heap, removed, at = self.heap, self.removed, self.at
        mine = self.refs  # equal to refs: the picked ones are cut out of it in place
        ready = []
        while heap and len(ready) < num_returns:
            i = heap[0]
            e = at[i]
            if not (e.state is FAILED or (e.state is READY and (
                    not fetch_local or 0 in e.locations))):
                return None  # lost, pending again, or to fetch first: the long way knows (and we are dropped)
            heappop(heap)
            at[i] = None  # let go of what was picked: the caller holds it now
            del self.position[e]
            # Picked in list order: its place in today's list, after the ones picked before it.
            j = i - bisect_left(removed, i)
            insort(removed, i)
            ready.append(refs[j + len(ready)])  # (refs still holds this call's earlier picks)
            del mine[j]
        if not ready:
            return [], list(refs)
        return ready, mine[:]

    def __repr__(self) -> str:
        return f"WaitList({len(self.refs)} refs, {len(self.heap)} done, {len(self.removed)} taken)"
