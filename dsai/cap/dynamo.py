"""Dynamo-style tunable quorums: a write waits for W of a key's N replicas, a read for R of them.

The folklore says R + W > N makes reads see the latest write, because every
read quorum overlaps every write quorum. That is not linearizability:

* a read that meets a write still in progress may return the new value while
  a later read, whose quorum misses the replicas that already have it,
  returns the old one (no write-back, unlike `dsai.cap.cp`'s reads; the read
  repair here is asynchronous, as in Dynamo and Cassandra);
* a write that timed out is not undone: it stays on the replicas it reached
  and may win later;
* versions are last-writer-wins timestamps, so clock skew reorders writes;
* cas is a read quorum then a write quorum, not one atomic step.

`tests/cap/test_dynamo.py` replays a schedule with N=3, R=W=2 that the checker
rejects.
"""

from __future__ import annotations

from typing import Any, Callable

from dsai.cap.ap import LWWReplica, cas_mismatch, new_value
from dsai.cap.replica import READS, Msg, Reply, Request
from dsai.cap.versions import Cell

__all__ = ["QuorumLWWReplica"]


class QuorumLWWReplica(LWWReplica):
    mode = "dynamo"

    def request(self, req: Request, reply: Callable[[Reply], Any]) -> None:
        rid, p = self.open(req, reply, phase="read" if req.f in READS or req.f in ("cas", "append") else "write")
        if p.phase == "read":
            self._ask(rid, p, "read")
        else:
            self._write(rid, p, self.cell(req.key))

    def _ask(self, rid: int, p: Any, kind: str, cell: Cell | None = None) -> None:
        for dst in self.cluster.preference(p.req.key):
            if dst == self.id:  # our own copy answers at once
                if kind == "read":
                    p.cells.append((self.id, self.cell(p.req.key)))
                else:
                    self.merge(p.req.key, cell)
                    p.acks += 1
            elif kind == "read":
                self.send(dst, "read", p.req.key, rid)
            else:
                self.send(dst, "write", p.req.key, rid, cell=cell)
        self._progress(rid, p)

    def _write(self, rid: int, p: Any, seen: Cell) -> None:
        req = p.req
        error = cas_mismatch(req, seen.value)
        if error:
            self.finish(rid, Reply("fail", error=error))  # nothing was sent: it did not happen
            return
        new = Cell(self.stamp(), new_value(req, seen.value), req.wid, seen.history | {req.wid})
        p.phase, p.best, p.acks = "write", new, 0
        self._ask(rid, p, "write", new)

    def _progress(self, rid: int, p: Any) -> None:
        if p.phase == "read" and len(p.cells) >= self.cfg.r:
            best = max((c for _, c in p.cells), key=lambda c: c.version)
            for node, c in p.cells:  # asynchronous read repair: nobody waits for it
                if c.version < best.version and node != self.id:
                    self.send(node, "repair", p.req.key, cell=best)
            if self.id in self.cluster.preference(p.req.key):
                self.merge(p.req.key, best)
            if p.req.f in READS:
                self.finish(rid, Reply("ok", best))
            else:
                self._write(rid, p, best)
        elif p.phase == "write" and p.acks >= self.cfg.w:
            self.finish(rid, Reply("ok", p.best))

    def on_read(self, msg: Msg) -> None:
        self.send(msg.src, "read-reply", msg.key, msg.rid, cell=self.cell(msg.key))

    def on_read_reply(self, msg: Msg) -> None:
        p = self.pending.get(msg.rid)
        if p is not None and p.phase == "read":
            p.cells.append((msg.src, msg.body["cell"]))
            self._progress(msg.rid, p)

    def on_write(self, msg: Msg) -> None:
        self.merge(msg.key, msg.body["cell"])
        self.send(msg.src, "write-ack", msg.key, msg.rid)

    def on_write_ack(self, msg: Msg) -> None:
        p = self.pending.get(msg.rid)
        if p is not None and p.phase == "write":
            p.acks += 1
            self._progress(msg.rid, p)

    def on_repair(self, msg: Msg) -> None:
        self.merge(msg.key, msg.body["cell"])
