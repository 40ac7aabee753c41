"""AP: every replica answers at once from its own copy, and replicas reconcile later.

A write is applied locally, acknowledged, then pushed to the peers (fire and
forget); anti-entropy repairs whatever that push missed. No request ever
waits for another node, so a partition costs no availability, and the price
is consistency: two sides of a partition accept conflicting writes, and a
read on one side cannot see the other's. What happens at reconciliation is
the difference between the two modes:

* `LWWReplica` ('ap-lww', Cassandra's default): each write is stamped with its
  coordinator's *local clock* (ties broken by node id); the higher stamp wins
  and the other write is silently dropped. If one node's clock runs ahead,
  its old writes beat everyone's newer ones: acknowledged writes are lost.
* `VVReplica` ('ap-vv', Dynamo, Riak): each write carries a *version vector*
  that records which writes its coordinator had seen. A write that has seen
  another replaces it; two writes that have not seen each other are both kept
  as *siblings*, returned together on a read. Nothing acknowledged is lost;
  the application must merge the siblings.

cas here is only a local check-then-write: two sides can both "win" a cas.
"""

from __future__ import annotations

import itertools
from typing import Any, Callable

from dsai.cap.replica import READS, Msg, Replica, Reply, Request, same_value
from dsai.cap.versions import Cell, dominates, merge_siblings, resolve, vv_join

__all__ = ["LWWReplica", "VVReplica", "LWW_EMPTY", "new_value"]

LWW_EMPTY = Cell((float("-inf"), -1, -1))  # below every real timestamp


def new_value(req: Request, current: Any) -> Any:
    """The value `req` (a write, put, cas or append) leaves behind, given the current one."""
    if req.f in ("write", "put"):
        return req.value
    if req.f == "cas":
        return req.value[1]
    return (current or "") + req.value  # append


def cas_mismatch(req: Request, current: Any) -> str | None:
    if req.f == "cas" and not same_value(current, req.value[0]):
        return f"cas: {req.key} holds {current!r}, not {req.value[0]!r}"
    return None


class LWWReplica(Replica):
    mode = "ap-lww"

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._seq = itertools.count(1)

    def cell(self, key: str) -> Cell:
        return self.store.get(key, LWW_EMPTY)

    def stamp(self) -> tuple:
        """(local clock, node id, sequence): what last-writer-wins trusts to order writes."""
        return (round(self.node.local_time(self.sim.now()), 9), self.id, next(self._seq))

    def merge(self, key: str, incoming: Cell) -> None:
        if incoming.version > self.cell(key).version:
            self.store[key] = incoming

    def request(self, req: Request, reply: Callable[[Reply], Any]) -> None:
        cur = self.cell(req.key)
        if req.f in READS:
            reply(Reply("ok", cur))
            return
        error = cas_mismatch(req, cur.value)
        if error:
            reply(Reply("fail", error=error))
            return
        new = Cell(self.stamp(), new_value(req, cur.value), req.wid, cur.history | {req.wid})
        self.store[req.key] = new
        reply(Reply("ok", new))
        self.broadcast("replicate", req.key, cell=new)

    def on_replicate(self, msg: Msg) -> None:
        self.merge(msg.key, msg.body["cell"])


class VVReplica(Replica):
    mode = "ap-vv"

    def siblings(self, key: str) -> tuple:
        return self.store.get(key, ())

    def cell(self, key: str) -> Cell:
        return resolve(self.siblings(key))

    def cells(self, key: str) -> tuple:
        return self.siblings(key) or (resolve(()),)

    def summary(self, key: str) -> Any:
        return tuple((c.version, c.value) for c in self.siblings(key))

    def merge(self, key: str, incoming: tuple) -> None:
        self.store[key] = merge_siblings(self.siblings(key), incoming)

    def request(self, req: Request, reply: Callable[[Reply], Any]) -> None:
        sibs = self.siblings(req.key)
        shown = resolve(sibs)
        if req.f in READS:
            reply(Reply("ok", shown, siblings=sibs))
            return
        error = cas_mismatch(req, shown.value)
        if error:
            reply(Reply("fail", error=error))
            return
        # The new write has seen every sibling here (the client read them to write),
        # so its vector dominates theirs: one more event by this node.
        vv = list(vv_join([c.version for c in sibs], self.cfg.nodes))
        vv[self.id] += 1
        history = frozenset().union(*(c.history for c in sibs)) | {req.wid}
        new = Cell(tuple(vv), new_value(req, shown.value), req.wid, history)
        assert all(dominates(new.version, c.version) for c in sibs)
        self.store[req.key] = (new,)
        reply(Reply("ok", new, siblings=(new,)))
        self.broadcast("replicate", req.key, cell=(new,))

    def on_replicate(self, msg: Msg) -> None:
        self.merge(msg.key, msg.body["cell"])
