"""CP: a key's writes go through its one leader, reads ask a majority, so every answer is current or an error.

The design is single-writer ABD (Attiya, Bar-Noy & Dolev, 1995):

* Each key has a fixed leader (`Cluster.leader_of`). Writes, cas and appends
  are forwarded to it; it runs them one at a time, numbering versions
  1, 2, 3, ..., and answers only after a majority of replicas stored the new
  version. A cas whose `from` does not match changes nothing, but the leader
  still has a majority store its current version before saying `fail`, so the
  value it compared against is one every later read will see.
* A read asks every replica, waits for a majority, and takes the highest
  version. If fewer than a majority hold it, it writes it back to a majority
  first; so once a read has returned a version, no later read returns an
  older one. Any two majorities overlap, which is the whole argument.

On the minority side of a partition nothing reaches a majority: reads fail
(a read changes nothing, so failing it is safe), writes whose leader gives up
are answered `unknown` (they may still have reached some replicas and surface
later), and the rest time out. It never answers a stale `ok`. If a key's
leader is cut off from a majority, nobody can write that key until the
partition heals: this store never elects a new leader (Raft would), which
keeps it small and obviously safe.

The read rule (how many replies to wait for, which copy to answer with) is
a plain function, `majority_read` by default; `Cluster(read_rule=...)` swaps
in another one, so a student's rule runs inside the real protocol and the
checker judges it. Whatever the rule answers is still written back to a
majority before the client hears it, as ABD does.

`LocalReadReplica` ('cp-local-reads') is the same store with one "optimisation":
reads are answered from the local copy, no quorum. It is fast, and under a
partition the minority side serves stale values: the bug Jepsen found in etcd
and Consul (2014), which both then fixed by sending reads through the quorum.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Callable

from dsai.cap.config import CapConfigError
from dsai.cap.replica import READS, Msg, Replica, Reply, Request, same_value
from dsai.cap.versions import Cell

__all__ = ["QuorumReplica", "LocalReadReplica", "ReadRule", "majority_read", "apply_read_rule"]

# (the copies collected so far, this replica's own first; the number of replicas) -> the copy
# to answer with, or None to wait for more replies
ReadRule = Callable[[list, int], "Cell | None"]


def majority_read(replies: list[Cell], nodes: int) -> Cell | None:
    """ABD's read rule: wait for a majority of the replicas, then answer with the highest version.

    Any two majorities share a replica, so a majority of replies includes one
    that stored the last acknowledged write, and its version is the highest.
    """
    if len(replies) < nodes // 2 + 1:
        return None
    return max(replies, key=lambda c: c.version)


def apply_read_rule(rule: ReadRule, replies: list[Cell], nodes: int) -> Cell | None:
    """Call `rule` on a copy of the replies and insist it answers with one of them (or None)."""
    chosen = rule(list(replies), nodes)
    if chosen is None or any(chosen is c for c in replies):
        return chosen
    name = getattr(rule, "__name__", repr(rule))
    raise CapConfigError(f"read rule {name} returned {chosen!r} ({type(chosen).__name__}); it must return "
                         f"one of the {len(replies)} replies it was given (a Cell, e.g. max(replies, "
                         f"key=...)), or None to wait for more replies")


class QuorumReplica(Replica):
    mode = "cp"

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.queue: dict[str, deque] = {}  # leader only: requests waiting their turn, per key
        self.active: dict[str, dict] = {}  # leader only: the request being committed, per key
        self._tokens = 0

    def merge(self, key: str, incoming: Cell) -> None:
        if incoming.version > self.cell(key).version:  # one leader numbers a key's versions: no ties
            self.store[key] = incoming

    # -- client requests -------------------------------------------------------------------
    def request(self, req: Request, reply: Callable[[Reply], Any]) -> None:
        if req.f in READS:
            self.read(req, reply)
            return
        rid, _ = self.open(req, reply, phase="forwarded")
        leader = self.cluster.leader_of(req.key)
        if leader == self.id:
            self.enqueue(self.id, rid, req)
        else:
            self.send(leader, "forward", req.key, rid, req=req)

    def read(self, req: Request, reply: Callable[[Reply], Any]) -> None:
        rid, p = self.open(req, reply, phase="read")
        p.cells.append(self.cell(req.key))
        self.broadcast("read", req.key, rid)
        self._read_progress(rid, p)

    def on_read(self, msg: Msg) -> None:
        self.send(msg.src, "read-reply", msg.key, msg.rid, cell=self.cell(msg.key))

    def on_read_reply(self, msg: Msg) -> None:
        p = self.pending.get(msg.rid)
        if p is not None and p.phase == "read":
            p.cells.append(msg.body["cell"])
            self._read_progress(msg.rid, p)

    def _read_progress(self, rid: int, p: Any) -> None:
        majority = self.cfg.majority
        best = apply_read_rule(self.cluster.read_rule, p.cells, self.cfg.nodes)
        if best is None:
            return
        self.merge(p.req.key, best)
        p.best = best
        if sum(c.version == best.version for c in p.cells) >= majority:
            self.finish(rid, Reply("ok", best))  # a majority already holds it: nothing to write back
            return
        p.phase, p.acks = "write-back", 1  # we hold it now
        self.broadcast("write-back", p.req.key, rid, cell=best)

    def on_write_back(self, msg: Msg) -> None:
        self.merge(msg.key, msg.body["cell"])
        self.send(msg.src, "write-back-ack", msg.key, msg.rid)

    def on_write_back_ack(self, msg: Msg) -> None:
        p = self.pending.get(msg.rid)
        if p is not None and p.phase == "write-back":
            p.acks += 1
            if p.acks >= self.cfg.majority:
                self.finish(msg.rid, Reply("ok", p.best))

    def on_result(self, msg: Msg) -> None:
        self.finish(msg.rid, msg.body["reply"])

    # -- the leader -----------------------------------------------------------------------
    def on_forward(self, msg: Msg) -> None:
        self.enqueue(msg.src, msg.rid, msg.body["req"])

    def enqueue(self, origin: int, rid: int, req: Request) -> None:
        self.queue.setdefault(req.key, deque()).append((origin, rid, req))
        if req.key not in self.active:
            self._next(req.key)

    def _next(self, key: str) -> None:
        q = self.queue.get(key)
        while q:
            origin, rid, req = q.popleft()
            if self.sim.now() < req.deadline:  # nobody waits for an expired request: never apply it
                self._commit(key, origin, rid, req)
                return

    def _commit(self, key: str, origin: int, rid: int, req: Request) -> None:
        cur = self.cell(key)
        outcome, error, new = "ok", None, cur
        if req.f == "cas" and not same_value(cur.value, req.value[0]):
            outcome, error = "fail", f"cas: {key} holds {cur.value!r}, not {req.value[0]!r}"
        else:
            if req.f in ("write", "put"):
                value = req.value
            elif req.f == "cas":
                value = req.value[1]
            else:  # append
                value = (cur.value or "") + req.value
            new = Cell(cur.version + 1, value, req.wid, cur.history | {req.wid})
            self.store[key] = new  # durable before anyone is told
        self._tokens += 1
        token = self._tokens
        self.active[key] = {"token": token, "origin": origin, "rid": rid, "acks": 1,
                            "reply": Reply(outcome, new, error=error),
                            "timer": self.sim.after(self.cfg.timeout / 4, self._give_up, key, token)}
        self.broadcast("replicate", key, token, cell=new)
        self._commit_progress(key)

    def on_replicate(self, msg: Msg) -> None:
        self.merge(msg.key, msg.body["cell"])
        self.send(msg.src, "replicate-ack", msg.key, msg.rid)

    def on_replicate_ack(self, msg: Msg) -> None:
        a = self.active.get(msg.key)
        if a is not None and a["token"] == msg.rid:
            a["acks"] += 1
            self._commit_progress(msg.key)

    def _commit_progress(self, key: str) -> None:
        a = self.active[key]
        if a["acks"] >= self.cfg.majority:
            a["timer"].cancel()
            self._answer(a, a["reply"])
            del self.active[key]
            self._next(key)

    def _give_up(self, key: str, token: int) -> None:
        a = self.active.get(key)
        if a is None or a["token"] != token or not self.node.alive:
            return
        # Some replicas may hold the new version and a later read may write it back:
        # the outcome is unknown, never 'fail'.
        self._answer(a, Reply("unknown", error="leader could not reach a majority"))
        del self.active[key]
        self._next(key)

    def _answer(self, a: dict, reply: Reply) -> None:
        if a["origin"] == self.id:
            self.finish(a["rid"], reply)
        else:
            self.send(a["origin"], "result", None, a["rid"], reply=reply)

    def crash(self) -> None:
        super().crash()
        for a in self.active.values():
            a["timer"].cancel()
        self.active.clear()
        self.queue.clear()


class LocalReadReplica(QuorumReplica):
    """cp with reads served from the local copy: fast, and stale on the minority side."""

    mode = "cp-local-reads"

    def read(self, req: Request, reply: Callable[[Reply], Any]) -> None:
        reply(Reply("ok", self.cell(req.key)))
