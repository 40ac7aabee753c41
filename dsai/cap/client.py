"""Clients: processes that invoke operations, wait for the answer or a timeout, and record both.

A client runs beside one replica (client c on node c % nodes) and sends every
request to it. It is written as straight-line code in a simulated process:
invoke, block until the reply or the timeout timer wakes it, record the
completion. What it records follows Jepsen's rules:

* ``ok`` and definite ``fail`` as the store said;
* a timeout, or an answer of "unknown", on anything that may change the key
  is ``info``: it may have taken effect, then or later. The process id is
  then retired (a new one takes over, Jepsen style), since the old operation
  may still be running;
* a read or get that timed out is ``fail``: a read changes nothing, so it
  certainly did not take effect;
* a request its replica refused because the node was down is ``fail`` (nothing
  was sent), except a cas: in a history a failed cas says "the register did
  not hold `from`", which nobody observed, so it is ``info``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dsai.cap.replica import READS, Reply, Request
from dsai.cap.view import ClusterView
from dsai.sim.process import current_process


__all__ = ["OpRecord", "Client", "Workload"]


@dataclass
class OpRecord:
    """One operation as the client saw it (plus ghost data the metrics use)."""

    index: int
    client: int
    process: int
    node: int  # the replica it was sent to
    f: str
    key: str
    value: Any  # the argument (cas: (from, to))
    wid: int | None
    invoke: float
    side: str  # connected | majority | minority | down, when invoked
    complete: float | None = None
    outcome: str | None = None  # ok | fail | info
    result: Any = None  # ok reads: the value read
    error: str | None = None
    observed: frozenset = field(default=frozenset(), repr=False)  # ok reads: writes the answer reflects
    observed_wid: int | None = None  # ok reads: the write whose value was returned (None: initial value)
    siblings: int = 0  # ok reads in ap-vv: how many concurrent values the replica held

    def __repr__(self) -> str:
        arg = "" if self.value is None else f" {list(self.value) if self.f == 'cas' else self.value!r}"
        got = f" -> {self.result!r}" if self.f in READS and self.outcome == "ok" else ""
        end = "..." if self.complete is None else f"{self.complete:.3f}"
        why = f" ({self.error})" if self.error else ""
        return (f"<op #{self.index} p{self.process}@n{self.node} {self.f} {self.key}{arg}{got}: "
                f"{self.outcome or 'pending'}{why} t={self.invoke:.3f}-{end} {self.side}>")

    @property
    def latency(self) -> float | None:
        return None if self.complete is None else self.complete - self.invoke

    @property
    def answered(self) -> bool:
        """The store gave a non-error answer (ok, or a cas that definitely found another value)."""
        return self.outcome == "ok" or (self.outcome == "fail" and (self.error or "").startswith("cas:"))


class Client:
    """A client process's handle on the store: `invoke` blocks (in virtual time) until done."""

    def __init__(self, cluster: ClusterView, cid: int, node: int) -> None:
        self.cluster = cluster
        self.id = cid
        self.node = node
        self.process = cid  # the history's process id; replaced after every info

    def __repr__(self) -> str:
        return f"<Client {self.id} on n{self.node}, process {self.process}>"

    def read(self, key: str) -> OpRecord:
        return self.invoke("read", key)

    def write(self, key: str, value: Any) -> OpRecord:
        return self.invoke("write", key, value)

    def cas(self, key: str, old: Any, new: Any) -> OpRecord:
        return self.invoke("cas", key, (old, new))

    def invoke(self, f: str, key: str, value: Any = None) -> OpRecord:
        """Run one operation to completion; call from inside a simulated process."""
        c, sim = self.cluster, self.cluster.sim
        proc = current_process()
        if proc is None:
            raise RuntimeError("Client.invoke blocks in virtual time: call it inside cluster.spawn(fn)")
        if f == "cas" and not (isinstance(value, (tuple, list)) and len(value) == 2):
            raise ValueError(f"cas needs value=[from, to], got {value!r}")
        value = tuple(value) if f == "cas" else value
        op = c.begin(self, f, key, value)
        replica = c.replicas[self.node]
        if not replica.node.alive:  # connection refused: nothing was sent, nothing happened
            # ...but a failed cas *means* "the register did not hold `from`" in a history,
            # which nobody observed here: record it as info (it may be placed as never done).
            c.end(self, op, "info" if f == "cas" else "fail", error="node down")
            return op
        state = {"done": False}

        def answer(reply: Reply) -> None:
            if not state["done"]:
                state["done"] = True
                state["timer"].cancel()
                sim.wake(proc, reply)

        def give_up() -> None:
            if not state["done"]:
                state["done"] = True
                sim.wake(proc, Reply("unknown", error="timeout"))

        state["timer"] = sim.after(self.cluster.cfg.timeout, give_up)
        replica.request(Request(f, key, value, op.wid, op.invoke + c.cfg.timeout), answer)
        reply: Reply = sim.block(("cap", f, key))
        if reply.outcome == "ok":
            c.end(self, op, "ok", reply=reply)
        elif reply.outcome == "fail" or f in READS:
            c.end(self, op, "fail", error=reply.error)
        else:
            c.end(self, op, "info", error=reply.error)
        return op


class Workload:
    """Random operations for one client, drawn from its own seeded stream."""

    def __init__(self, model: str, rng: Any, values: int = 5) -> None:
        self.model = model
        self.rng = rng
        self.values = values  # a small domain: cas succeeds sometimes, and the checker stays fast

    def next(self, keys: list[str]) -> tuple[str, str, Any]:
        rng = self.rng
        key = rng.choice(keys)
        x = rng.random()
        if self.model == "cas-register":
            if x < 0.5:
                return "read", key, None
            if x < 0.8:
                return "write", key, rng.randrange(self.values)
            return "cas", key, (rng.randrange(self.values), rng.randrange(self.values))
        if x < 0.5:
            return "get", key, None
        if x < 0.7:
            return "put", key, "abcde"[rng.randrange(self.values)]
        return "append", key, "vwxyz"[rng.randrange(self.values)]
