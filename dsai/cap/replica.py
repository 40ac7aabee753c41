"""A replica: one node's copy of every key, talking to its peers only by messages.

`Replica` is what all modes share: durable storage (it survives a crash and
restart, as if written to disk before any acknowledgement), volatile
coordinator state (requests in flight, lost in a crash), messaging over the
simulated network, and *anti-entropy*: every `gossip_interval` each replica
swaps its whole store with one random peer and both keep the newer copy of
each key, which is how replicas converge after a partition heals. The modes
(`dsai.cap.cp`, `dsai.cap.ap`, `dsai.cap.dynamo`) say what a client request
does and how two copies of a key merge.

A client hands its request to the replica beside it (`request(req, reply)`);
the replica calls `reply(Reply(...))` at most once, or never (the client then
times out and cannot know whether the operation took effect).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Callable

from dsai.cap.versions import EMPTY, Cell
from dsai.cap.view import ClusterView


__all__ = ["Request", "Reply", "Msg", "Pending", "Replica", "READS", "same_value"]

READS = ("read", "get")


def same_value(a: Any, b: Any) -> bool:
    """Equal as JSON values: 1 is not true, 1 is not 1.0's string, None only equals None."""
    return type(a) is type(b) and a == b


@dataclass
class Request:
    """What a client asks its replica to do."""

    f: str  # read/write/cas or get/put/append
    key: str
    value: Any  # write: the value; cas: (from, to); append: the suffix
    wid: int | None  # write id for anything that may change the key (ghost: for lost-write counting)
    deadline: float  # virtual time after which nobody waits for the answer


@dataclass
class Reply:
    """What the replica answers: ok, fail (definitely not done), or unknown (may have been done)."""

    outcome: str  # ok | fail | unknown
    cell: Cell | None = None  # ok reads: the copy that was read
    siblings: tuple = ()  # ap-vv reads: every concurrent copy
    error: str | None = None


@dataclass
class Msg:
    """One message between replicas (what the space-time diagram labels an arrow with)."""

    kind: str
    src: int
    key: str | None = None
    rid: int | None = None
    body: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        key = f" {self.key}" if self.key is not None else ""
        return f"<{self.kind}{key} from n{self.src}>"


@dataclass
class Pending:
    """A request this replica coordinates, until it answers or gives up."""

    req: Request
    reply: Callable[[Reply], Any]
    phase: str = "start"
    cells: list = field(default_factory=list)  # copies collected from peers
    acks: int = 0
    best: Any = None
    timer: Any = None


class Replica:
    """One node's store; subclasses implement `request` and `merge`."""

    mode = "?"

    def __init__(self, cluster: ClusterView, node_id: int) -> None:
        self.cluster = cluster
        self.sim = cluster.sim
        self.cfg = cluster.cfg
        self.id = node_id
        self.node = self.sim.nodes[node_id]
        self.peers = [i for i in range(self.cfg.nodes) if i != node_id]
        self.store: dict[str, Any] = {}  # durable: key -> Cell (or a sibling tuple)
        self.pending: dict[int, Pending] = {}  # volatile: requests this replica coordinates
        self._rids = itertools.count(1)  # never reset, so replies to a past incarnation are ignored
        self._rng = self.sim.stream(f"replica-{node_id}")
        self._gossip = None
        self.node.on_death(lambda n: self.crash())
        self.node.on_restart(lambda n: self.recover())

    def __repr__(self) -> str:
        state = "up" if self.node.alive else "down"
        return f"<{type(self).__name__} n{self.id} {state}, {len(self.store)} keys, {len(self.pending)} pending>"

    # -- storage ------------------------------------------------------------------------
    def cell(self, key: str) -> Cell:
        return self.store.get(key, EMPTY)

    def merge(self, key: str, incoming: Any) -> None:
        """Keep the newer of our copy and `incoming` (subclasses define 'newer')."""
        raise NotImplementedError

    def summary(self, key: str) -> Any:
        """What must be equal on every replica once they have converged."""
        c = self.cell(key)
        return (c.version, c.value)

    def digest(self) -> tuple:
        return tuple(self.summary(k) for k in self.cfg.key_names)

    def cells(self, key: str) -> tuple:
        """Every stored copy of `key` (one, or the siblings)."""
        return (self.cell(key),)

    # -- messaging -------------------------------------------------------------------------
    def send(self, dst: int, kind: str, key: str | None = None, rid: int | None = None, **body: Any) -> None:
        nbytes = 48 + 24 * len(body.get("state", ())) + 24 * ("cell" in body)
        msg = Msg(kind, self.id, key, rid, body)
        self.sim.network.send(self.id, dst, msg, nbytes, self.cluster.replicas[dst].receive)

    def broadcast(self, kind: str, key: str | None = None, rid: int | None = None,
                  to: list[int] | None = None, **body: Any) -> None:
        for dst in (self.peers if to is None else to):
            if dst != self.id:
                self.send(dst, kind, key, rid, **body)

    def receive(self, msg: Msg) -> None:
        getattr(self, "on_" + msg.kind.replace("-", "_"))(msg)

    # -- coordinating requests -------------------------------------------------------------
    def request(self, req: Request, reply: Callable[[Reply], Any]) -> None:
        raise NotImplementedError

    def open(self, req: Request, reply: Callable[[Reply], Any], phase: str = "start") -> tuple[int, Pending]:
        """Track a request until `finish`, forgetting it at its deadline (the client gave up)."""
        rid = next(self._rids)
        p = Pending(req, reply, phase)
        p.timer = self.sim.at(max(req.deadline, self.sim.now()), self.pending.pop, rid, None)
        self.pending[rid] = p
        return rid, p

    def finish(self, rid: int, reply: Reply) -> None:
        p = self.pending.pop(rid, None)
        if p is not None:
            p.timer.cancel()
            p.reply(reply)

    # -- anti-entropy ----------------------------------------------------------------------
    def start(self) -> None:
        # a random phase, so the replicas do not all gossip in the same instant
        self._gossip = self.sim.after(self.cfg.gossip_interval * self._rng.random(), self._gossip_tick)

    def _gossip_tick(self) -> None:
        if not self.node.alive or not self.peers:
            return
        peer = self._rng.choice(self.peers)
        self.send(peer, "sync", state=self.snapshot())
        self._gossip = self.sim.after(self.cfg.gossip_interval, self._gossip_tick)

    def snapshot(self) -> tuple:
        return tuple(sorted(self.store.items()))

    def on_sync(self, msg: Msg) -> None:
        for key, incoming in msg.body["state"]:
            self.merge(key, incoming)
        self.send(msg.src, "sync-reply", state=self.snapshot())

    def on_sync_reply(self, msg: Msg) -> None:
        for key, incoming in msg.body["state"]:
            self.merge(key, incoming)

    # -- faults --------------------------------------------------------------------------------
    def crash(self) -> None:
        """Volatile state is gone; the store (on disk) stays."""
        for p in self.pending.values():
            p.timer.cancel()
        self.pending.clear()
        if self._gossip is not None:
            self._gossip.cancel()
            self._gossip = None

    def recover(self) -> None:
        self.start()
