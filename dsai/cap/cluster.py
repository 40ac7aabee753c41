"""A replicated store on a simulated network: replicas, clients, a nemesis, and the history they write.

`Cluster` builds the world for one `CapConfig`: a `Simulation` seeded with
`cfg.seed`, one replica per node in the chosen mode, clients beside them, and
a `HistoryWriter` that records every invoke and completion in Jepsen's
format as it happens. Use it directly to script a schedule::

    c = Cluster(CapConfig(mode="cp", nodes=3))
    def script():
        c.client(0).write("k0", 1)
        c.client(2).read("k0")
    c.spawn(script)
    c.sim.at(0.05, c.partition, [0], [1, 2])
    c.run_until_idle()

or let `dsai.cap.run.run` drive a random workload (`run_script` runs a
script like this one and checks its history). `Cluster.partition` and
`Cluster.heal` log the fault where the nemesis logs its own, so the
space-time diagram shades it.
"""

from __future__ import annotations

import io
import itertools
import zlib
from typing import Any, Callable

from dsai.cap.ap import LWWReplica, VVReplica
from dsai.cap.client import Client, OpRecord
from dsai.cap.config import CapConfig, CapConfigError
from dsai.cap.cp import LocalReadReplica, QuorumReplica, ReadRule, majority_read
from dsai.cap.dynamo import QuorumLWWReplica
from dsai.cap.nemesis import FaultSpan, Nemesis
from dsai.cap.replica import READS, Replica, Reply
from dsai.check import HistoryWriter
from dsai.errors import SimulationError
from dsai.sim import NetworkConfig, Simulation

__all__ = ["Cluster", "REPLICAS"]

REPLICAS: dict[str, type[Replica]] = {
    "cp": QuorumReplica,
    "cp-local-reads": LocalReadReplica,
    "ap-lww": LWWReplica,
    "ap-vv": VVReplica,
    "dynamo": QuorumLWWReplica,
}


def _t(x: float) -> float:
    return round(x, 6)


class Cluster:
    """Replicas, clients and a nemesis in one seeded simulation."""

    def __init__(self, cfg: CapConfig | None = None, *, read_rule: ReadRule | None = None, **kwargs: Any) -> None:
        self.cfg = cfg = cfg if cfg is not None else CapConfig(**kwargs)
        if read_rule is not None and cfg.mode != "cp":
            raise CapConfigError(f"a read rule only applies to mode 'cp' (got mode {cfg.mode!r}); "
                                 "use mode='cp' or drop read_rule")
        if read_rule is not None and not callable(read_rule):
            raise CapConfigError(f"read_rule must be a function (replies, nodes) -> Cell or None, "
                                 f"got {read_rule!r}")
        self.read_rule: ReadRule = read_rule or majority_read  # cp: how a replica answers a read
        self.sim = Simulation(cfg.seed, NetworkConfig(latency=cfg.latency, jitter=cfg.jitter))
        for i in range(cfg.nodes):
            self.sim.add_node(f"n{i}")
        self.replicas: list[Replica] = [REPLICAS[cfg.mode](self, i) for i in range(cfg.nodes)]
        self.clients: list[Client] = [Client(self, c, c % cfg.nodes) for c in range(cfg.clients)]
        self.nemesis = Nemesis(self, cfg.nemesis)
        self.model = cfg.workload
        self._buffer = io.StringIO()
        self.history = HistoryWriter(self._buffer, model=cfg.workload)
        self.ops: list[OpRecord] = []
        self._wids = itertools.count(1)
        self._processes = itertools.count(cfg.clients)  # fresh process ids after an info
        self.processes: list = []  # spawned client processes
        for r in self.replicas:
            r.start()

    def __repr__(self) -> str:
        return (f"<Cluster {self.cfg.mode} nodes={self.cfg.nodes} seed={self.cfg.seed} "
                f"t={self.sim.now():.3f} ops={len(self.ops)}>")

    # -- placement --------------------------------------------------------------------------
    def leader_of(self, key: str) -> int:
        """cp: the one replica that orders `key`'s writes (a stable hash, not Python's salted one)."""
        return zlib.crc32(key.encode()) % self.cfg.nodes

    def preference(self, key: str) -> list[int]:
        """dynamo: the `n` replicas that hold `key`, starting at its hash (Dynamo's preference list)."""
        n = self.cfg.n or self.cfg.nodes
        first = zlib.crc32(key.encode()) % self.cfg.nodes
        return [(first + i) % self.cfg.nodes for i in range(n)]

    def side_of(self, node: int) -> str:
        """Where a client stands right now: connected, or on the majority / minority side."""
        net = self.sim.network
        if not self.sim.nodes[node].alive:
            return "down"
        if not net.partitioned:
            return "connected"
        seen = sum(net.reachable(node, j) for j in range(self.cfg.nodes))
        return "majority" if seen >= self.cfg.majority else "minority"

    # -- scripted faults ----------------------------------------------------------------------
    def partition(self, *groups: list[int]) -> FaultSpan:
        """Cut the network between `groups` of node ids (nodes left out form one more group).

        Logged like a nemesis fault (the smallest group is the minority), so the
        diagram shades it and the metrics know which side each client stood on.
        """
        from dsai.sim import faults

        ids = set(range(self.cfg.nodes))
        named = [sorted(int(i) for i in g) for g in groups]
        for i in (i for g in named for i in g):
            if i not in ids:
                raise CapConfigError(f"node {i} is not in this cluster; node ids are 0..{self.cfg.nodes - 1}")
        rest = sorted(ids - {i for g in named for i in g})
        sides = [g for g in named + [rest] if g]
        if len(sides) < 2:
            raise CapConfigError(f"partition {named} leaves every node on one side; name at least one group "
                                 f"that is not all {self.cfg.nodes} nodes, e.g. partition([0], [1, 2])")
        if self.nemesis.active is not None:
            self.heal()
        faults.partition(*sides, sim=self.sim)
        smallest = min(sides, key=len)
        span = FaultSpan("partition", self.sim.now(), nodes=tuple(smallest), groups=tuple(tuple(g) for g in sides))
        self.nemesis.spans.append(span)
        self.nemesis.active = span
        return span

    def heal(self) -> None:
        """Reconnect every node (ends a `partition`)."""
        from dsai.sim import faults

        if self.nemesis.active is not None:
            self.nemesis.active.end = self.sim.now()
            self.nemesis.active = None
        faults.heal(sim=self.sim)

    # -- clients ------------------------------------------------------------------------------
    def client(self, cid: int) -> Client:
        return self.clients[cid]

    def spawn(self, fn: Callable[..., Any], *args: Any, name: str = "client") -> Any:
        """Start `fn(*args)` as a simulated process (where `Client.invoke` may block)."""
        proc = self.sim.spawn(fn, *args, name=name)
        self.processes.append(proc)
        return proc

    def begin(self, client: Client, f: str, key: str, value: Any) -> OpRecord:
        now = self.sim.now()
        wid = None if f in READS else next(self._wids)
        op = OpRecord(len(self.ops), client.id, client.process, client.node, f, key, value, wid,
                      now, self.side_of(client.node))
        self.ops.append(op)
        self.history.invoke(client.process, f, list(value) if f == "cas" else value, key=key, time=_t(now))
        return op

    def end(self, client: Client, op: OpRecord, outcome: str, reply: Reply | None = None,
            error: str | None = None) -> None:
        now = self.sim.now()
        op.complete, op.outcome, op.error = now, outcome, error
        value = list(op.value) if op.f == "cas" else op.value
        if outcome == "ok" and op.f in READS:
            cells = reply.siblings or (reply.cell,)
            op.result = reply.cell.value
            if op.result is None and self.model == "kv":
                op.result = ""  # a kv entry starts as the empty string
            op.observed = frozenset().union(*(c.history for c in cells))
            op.observed_wid = reply.cell.wid
            op.siblings = len(reply.siblings)
            value = op.result
        if outcome == "ok":
            self.history.ok(op.process, op.f, value, key=op.key, time=_t(now))
        elif outcome == "fail":
            self.history.fail(op.process, op.f, None if op.f in READS else value, key=op.key,
                              time=_t(now), error=error)
        else:
            self.history.info(op.process, op.f, value, key=op.key, time=_t(now), error=error)
            client.process = next(self._processes)

    # -- the end of a run ---------------------------------------------------------------------
    def history_text(self) -> str:
        return self._buffer.getvalue()

    def run_until_idle(self, limit: float = 60.0) -> None:
        """Run until every client operation has completed (gossip timers never stop by themselves)."""
        procs = self.processes
        self.sim.run_until(lambda: all(p.done for p in procs), self.sim.now() + limit)
        for p in procs:
            if p.error is not None:
                raise p.error
        stuck = [p.name for p in procs if not p.done]
        if stuck:
            raise SimulationError(f"client processes {stuck} were still running after {limit:g} virtual "
                                  "seconds; raise the limit or check that every operation has a timeout")

    def converged(self) -> bool:
        """Do all live replicas hold the same copy of every key?"""
        digests = [r.digest() for r in self.replicas if r.node.alive]
        return all(d == digests[0] for d in digests)

    def heal_all(self) -> None:
        """The final heal: stop the nemesis, reconnect everything, restart the dead."""
        from dsai.sim import faults

        self.nemesis.stop()
        faults.heal(sim=self.sim)
        for i in range(self.cfg.nodes):
            faults.restart_node(i, sim=self.sim)
            faults.skew_clock(i, 0.0, sim=self.sim)

    def wait_converged(self, limit: float = 10.0, step: float = 0.005) -> float | None:
        """Run anti-entropy until the replicas agree; virtual seconds it took, or None."""
        start = self.sim.now()
        while not self.converged():
            if self.sim.now() - start >= limit:
                return None
            self.sim.run(until=self.sim.now() + step)
        return self.sim.now() - start
