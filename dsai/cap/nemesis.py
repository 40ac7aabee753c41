"""The nemesis: faults injected on a seeded schedule, the way Jepsen tests a store.

It alternates healthy stretches (`healthy_duration`) with faults
(`fault_duration`), drawing each fault's details (which halves, which node,
how much skew) from the run's seeded `nemesis` stream, and keeps a log
(`spans`) that the space-time diagram shades and the metrics use.

Faults (``NEMESES``):

* ``partition``: random halves (the smaller half is the minority);
* ``isolate``: one random node cut off from all others;
* ``bridge``: two halves that cannot talk, plus one node that talks to both;
* ``ring``: majorities ring: every node sees a majority, no two the same one;
* ``loss``: messages lost with probability `loss`, and delayed (jitter);
* ``crash``: a random node crashes, then restarts (its disk survives);
* ``skew``: every node's clock is offset by up to `skew` seconds;
* ``mix``: each fault drawn at random from the ones above;
* ``none``: no faults.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dsai.cap.config import FAULTS, NEMESES
from dsai.cap.view import ClusterView
from dsai.sim import faults
from dsai.sim.network import NetworkConfig

__all__ = ["NEMESES", "PARTITIONS", "FaultSpan", "Nemesis"]

PARTITIONS = ("partition", "isolate", "bridge", "ring")  # faults that cut links


@dataclass
class FaultSpan:
    """One fault, from when it was injected to when it was undone."""

    kind: str
    start: float
    end: float | None = None
    nodes: tuple = ()  # partition: the minority side / isolated node; crash: the dead node; bridge: the bridge
    groups: tuple = ()  # partition / bridge: the sides
    detail: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        end = "..." if self.end is None else f"{self.end:.3f}"
        return f"<{self.kind} {self.start:.3f}-{end} nodes={list(self.nodes)}>"

    def to_json(self) -> dict:
        return {"kind": self.kind, "start": round(self.start, 6),
                "end": None if self.end is None else round(self.end, 6),
                "nodes": list(self.nodes), "groups": [list(g) for g in self.groups], **self.detail}


class Nemesis:
    """Injects `kind` faults into a cluster's simulation until `stop()`."""

    def __init__(self, cluster: ClusterView, kind: str = "none") -> None:
        if kind not in NEMESES:
            raise ValueError(f"unknown nemesis {kind!r}; choose one of {', '.join(NEMESES)}")
        self.cluster = cluster
        self.sim = cluster.sim
        self.cfg = cluster.cfg
        self.kind = kind
        self.rng = self.sim.stream("nemesis")
        self.spans: list[FaultSpan] = []
        self.active: FaultSpan | None = None
        self._timer = None
        self._base_network: NetworkConfig | None = None

    def __repr__(self) -> str:
        return f"<Nemesis {self.kind}: {len(self.spans)} faults, active={self.active!r}>"

    def start(self) -> None:
        if self.kind != "none":
            self._timer = self.sim.after(self.cfg.healthy_duration, self._begin)

    def stop(self) -> None:
        """Cancel the schedule and undo the fault in progress (the final heal)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.active is not None:
            self._end()

    # -- the schedule -----------------------------------------------------------------------
    def _begin(self) -> None:
        kind = self.rng.choice(FAULTS) if self.kind == "mix" else self.kind
        self.active = span = FaultSpan(kind, self.sim.now())
        getattr(self, "_inject_" + kind)(span)
        self.spans.append(span)
        self._timer = self.sim.after(self.cfg.fault_duration, self._end_and_continue)

    def _end_and_continue(self) -> None:
        self._end()
        self._timer = self.sim.after(self.cfg.healthy_duration, self._begin)

    def _end(self) -> None:
        span, self.active = self.active, None
        span.end = self.sim.now()
        sim = self.sim
        if span.kind in PARTITIONS:
            faults.heal(sim=sim)
        elif span.kind == "loss":
            sim.network.config = self._base_network
        elif span.kind == "crash":
            faults.restart_node(span.nodes[0], sim=sim)
        elif span.kind == "skew":
            for n in range(self.cfg.nodes):
                faults.skew_clock(n, 0.0, sim=sim)

    # -- the faults ----------------------------------------------------------------------------
    def _shuffled(self) -> list[int]:
        ids = list(range(self.cfg.nodes))
        self.rng.shuffle(ids)
        return ids

    def _inject_partition(self, span: FaultSpan) -> None:
        ids = self._shuffled()
        small, large = sorted(ids[: len(ids) // 2]), sorted(ids[len(ids) // 2:])
        faults.partition(small, large, sim=self.sim)
        span.nodes, span.groups = tuple(small), (tuple(small), tuple(large))

    def _inject_isolate(self, span: FaultSpan) -> None:
        victim = self.rng.randrange(self.cfg.nodes)
        faults.isolate(victim, sim=self.sim)
        rest = tuple(i for i in range(self.cfg.nodes) if i != victim)
        span.nodes, span.groups = (victim,), ((victim,), rest)

    def _inject_bridge(self, span: FaultSpan) -> None:
        ids = self._shuffled()
        bridge, rest = ids[0], ids[1:]
        a, b = sorted(rest[: len(rest) // 2]), sorted(rest[len(rest) // 2:])
        for x in a:
            for y in b:
                self.sim.network.block(x, y)
        span.nodes, span.groups = (bridge,), (tuple(a), tuple(b))

    def _inject_ring(self, span: FaultSpan) -> None:
        ring = self._shuffled()
        n = len(ring)
        reach = (n // 2) // 2 + (n // 2) % 2  # neighbours each side, so each node sees a majority (itself + n//2)
        for i in range(n):
            for j in range(i + 1, n):
                if min(j - i, n - (j - i)) > reach:
                    self.sim.network.block(ring[i], ring[j])
        span.detail["ring"] = ring

    def _inject_loss(self, span: FaultSpan) -> None:
        net = self.sim.network
        self._base_network = net.config
        c = net.config
        net.config = NetworkConfig(latency=c.latency, bandwidth=c.bandwidth, loss=self.cfg.loss,
                                   jitter=c.jitter + 4 * c.latency)
        span.detail.update(loss=self.cfg.loss, jitter=round(c.jitter + 4 * c.latency, 6))

    def _inject_crash(self, span: FaultSpan) -> None:
        victim = self.rng.randrange(self.cfg.nodes)
        faults.kill_node(victim, sim=self.sim)
        span.nodes = (victim,)

    def _inject_skew(self, span: FaultSpan) -> None:
        offsets = [round(self.rng.uniform(-self.cfg.skew, self.cfg.skew), 6) for _ in range(self.cfg.nodes)]
        for n, off in enumerate(offsets):
            faults.skew_clock(n, off, sim=self.sim)
        span.detail["offsets"] = offsets
