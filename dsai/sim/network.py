"""The simulated network: latency, bandwidth, loss and partitions between nodes.

Three kinds of traffic cross it. *Transfers* (objects moving between object
stores) are reliable and bulk: each node's outgoing and incoming link carries
one transfer at a time, so a transfer starts when both ends are free and takes
latency + bytes / bandwidth; many workers sending to one server queue on the
server's link, which is the parameter server's bottleneck, not a script.
*Control messages* (a Ray task's spec with its inline arguments, the reply
carrying its small results) are reliable too and share the same links and
costs, so no message between nodes is free; they wait for a partition to heal.
*Messages* (a replicated store's RPCs) are datagrams: they may be lost,
delayed or reordered, and are dropped across a partition.

Every byte is counted per node, and every message is recorded for the
space-time diagram.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Callable

from dsai.errors import SimulationError

__all__ = ["Network", "NetworkConfig", "Message", "Transfer", "LinkStats"]


@dataclass
class NetworkConfig:
    latency: float = 1e-4  # seconds, one way (a datacenter round trip is ~0.2 ms)
    bandwidth: float = 1.25e9  # bytes/second per node link (10 Gbit/s)
    loss: float = 0.0  # probability a message is dropped (transfers are reliable)
    jitter: float = 0.0  # extra uniform [0, jitter) seconds of delay per message

    def __post_init__(self) -> None:
        if self.latency < 0:
            raise SimulationError(f"latency must be >= 0 seconds, got {self.latency!r}")
        if self.bandwidth <= 0:
            raise SimulationError(f"bandwidth must be > 0 bytes/s, got {self.bandwidth!r}")
        if not 0.0 <= self.loss <= 1.0:
            raise SimulationError(f"loss must be a probability in [0, 1], got {self.loss!r}")
        if self.jitter < 0:
            raise SimulationError(f"jitter must be >= 0 seconds, got {self.jitter!r}")


@dataclass
class LinkStats:
    bytes_sent: int = 0
    bytes_received: int = 0
    messages_sent: int = 0
    messages_received: int = 0
    messages_dropped: int = 0
    transfers_sent: int = 0
    transfers_received: int = 0
    control_bytes_sent: int = 0  # of bytes_sent: control messages' (task specs, replies)
    control_bytes_received: int = 0


@dataclass
class Message:
    """One datagram, as the space-time diagram draws it."""

    src: int
    dst: int
    payload: Any
    nbytes: int
    sent: float
    arrives: float | None = None  # None: dropped
    dropped_because: str | None = None


@dataclass
class Transfer:
    """One bulk copy of `nbytes` from `src` to `dst`."""

    src: int
    dst: int
    nbytes: int
    requested: float
    start: float | None = None
    end: float | None = None
    on_done: Callable[[], Any] | None = field(default=None, repr=False)


class Network:
    """Links between the nodes of one simulation."""

    def __init__(self, sim: Any, config: NetworkConfig | None = None) -> None:
        self.sim = sim
        self.config = config or NetworkConfig()
        self.stats: dict[int, LinkStats] = {}
        self._egress_free: dict[int, float] = {}
        self._ingress_free: dict[int, float] = {}
        self._link_latency: dict[int, float] = {}
        self._link_bandwidth: dict[int, float] = {}
        self._group: dict[int, int] = {}  # node -> partition group; absent = connected
        self._blocked: set[tuple[int, int]] = set()
        self._deferred: list[Transfer] = []  # transfers waiting for a partition to heal
        self._deferred_calls: list[Callable[[], Any]] = []  # control messages waiting, likewise
        self.messages: list[Message] = []
        self.record_messages = True
        self._rng = random.Random(f"{sim.seed}:network")

    # -- configuration --------------------------------------------------------
    def add_node(self, node_id: int) -> None:
        self.stats.setdefault(node_id, LinkStats())
        self._egress_free.setdefault(node_id, 0.0)
        self._ingress_free.setdefault(node_id, 0.0)

    def set_link(self, node_id: int, *, latency: float | None = None, bandwidth: float | None = None) -> None:
        """Give one node's link its own latency or bandwidth (a slow NIC, a far rack)."""
        if latency is not None:
            if latency < 0:
                raise SimulationError(f"latency must be >= 0 seconds, got {latency!r}")
            self._link_latency[node_id] = latency
        if bandwidth is not None:
            if bandwidth <= 0:
                raise SimulationError(f"bandwidth must be > 0 bytes/s, got {bandwidth!r}")
            self._link_bandwidth[node_id] = bandwidth

    def latency(self, src: int, dst: int) -> float:
        lat = self.config.latency
        return max(self._link_latency.get(src, lat), self._link_latency.get(dst, lat))

    def bandwidth(self, src: int, dst: int) -> float:
        bw = self.config.bandwidth
        return min(self._link_bandwidth.get(src, bw), self._link_bandwidth.get(dst, bw))

    # -- partitions -------------------------------------------------------------
    def partition(self, *groups: list[int]) -> None:
        """Split the nodes into groups that cannot reach each other. Nodes named in
        no group form one more group together."""
        seen: dict[int, int] = {}
        for i, group in enumerate(groups):
            for n in group:
                if n in seen:
                    raise SimulationError(f"node {n} is in two partition groups ({seen[n]} and {i})")
                seen[n] = i
        self._group = seen
        self._blocked.clear()

    def block(self, a: int, b: int) -> None:
        """Cut the link between two nodes, both ways (a finer partition)."""
        self._blocked.add((a, b))
        self._blocked.add((b, a))

    def heal(self) -> None:
        self._group = {}
        self._blocked.clear()
        deferred, self._deferred = self._deferred, []
        for t in deferred:
            self._start_transfer(t)
        calls, self._deferred_calls = self._deferred_calls, []
        for resend in calls:
            resend()

    def reachable(self, src: int, dst: int) -> bool:
        if src == dst:
            return True
        if (src, dst) in self._blocked:
            return False
        if self._group:
            return self._group.get(src, -1) == self._group.get(dst, -1)
        return True

    @property
    def partitioned(self) -> bool:
        return bool(self._group or self._blocked)

    # -- datagrams ----------------------------------------------------------------
    def send(self, src: int, dst: int, payload: Any, nbytes: int, deliver: Callable[[Any], Any]) -> Message:
        """Send a message; `deliver(payload)` runs at the destination if it arrives."""
        now = self.sim.now()
        msg = Message(src, dst, payload, nbytes, now)
        s = self.stats[src]
        s.messages_sent += 1
        s.bytes_sent += nbytes
        reason = None
        if not self.reachable(src, dst):
            reason = "partition"
        elif self.config.loss and self._rng.random() < self.config.loss:
            reason = "loss"
        if reason is None:
            delay = self.latency(src, dst) + nbytes / self.bandwidth(src, dst)
            if self.config.jitter:
                delay += self._rng.random() * self.config.jitter
            msg.arrives = now + delay
            self.sim.loop.call_at(msg.arrives, self._arrive, msg, deliver)
        else:
            msg.dropped_because = reason
            s.messages_dropped += 1
        if self.record_messages:
            self.messages.append(msg)
        return msg

    def _arrive(self, msg: Message, deliver: Callable[[Any], Any]) -> None:
        node = self.sim.nodes.get(msg.dst)
        if node is not None and not node.alive:
            msg.dropped_because = "dead node"
            self.stats[msg.src].messages_dropped += 1
            return
        r = self.stats[msg.dst]
        r.messages_received += 1
        r.bytes_received += msg.nbytes
        deliver(msg.payload)

    # -- control messages ---------------------------------------------------------
    def deliver(self, src: int, dst: int, nbytes: int, fn: Callable[..., Any], *args: Any) -> None:
        """Carry a reliable control message of `nbytes` from `src` to `dst` (a task spec,
        a reply), then call `fn(*args)` at the destination. It books the links as a
        transfer does (latency + bytes / bandwidth, one at a time per link) and is
        counted as a message; across a partition it waits until `heal()`."""
        if not self.reachable(src, dst):
            self._deferred_calls.append(lambda: self.deliver(src, dst, nbytes, fn, *args))
            return
        egress, ingress = self._egress_free, self._ingress_free
        loop = self.sim.loop
        start = loop.clock.time
        if egress[src] > start:
            start = egress[src]
        if ingress[dst] > start:
            start = ingress[dst]
        if self._link_bandwidth or self._link_latency:
            bw, lat = self.bandwidth(src, dst), self.latency(src, dst)
        else:
            c = self.config
            bw, lat = c.bandwidth, c.latency
        free = start + nbytes / bw if nbytes else start
        egress[src] = ingress[dst] = free
        loop.call_soon_at(free + lat, self._delivered, src, dst, nbytes, fn, args)

    def _delivered(self, src: int, dst: int, nbytes: int, fn: Callable[..., Any], args: tuple) -> None:
        s, r = self.stats[src], self.stats[dst]
        s.bytes_sent += nbytes
        s.control_bytes_sent += nbytes
        s.messages_sent += 1
        r.bytes_received += nbytes
        r.control_bytes_received += nbytes
        r.messages_received += 1
        fn(*args)

    # -- bulk transfers -------------------------------------------------------------
    def transfer(self, src: int, dst: int, nbytes: int, on_done: Callable[[], Any]) -> Transfer:
        """Copy `nbytes` from `src` to `dst` reliably; `on_done()` runs on arrival.
        Across a partition the transfer waits until `heal()`."""
        t = Transfer(src, dst, int(nbytes), self.sim.now(), on_done=on_done)
        if self.reachable(src, dst):
            self._start_transfer(t)
        else:
            self._deferred.append(t)
        return t

    def _start_transfer(self, t: Transfer) -> None:
        now = self.sim.now()
        duration = t.nbytes / self.bandwidth(t.src, t.dst)
        start = max(now, self._egress_free[t.src], self._ingress_free[t.dst])
        self._egress_free[t.src] = self._ingress_free[t.dst] = start + duration
        t.start, t.end = start, start + duration + self.latency(t.src, t.dst)
        self.sim.loop.call_at(t.end, self._finish_transfer, t)

    def _finish_transfer(self, t: Transfer) -> None:
        s, r = self.stats[t.src], self.stats[t.dst]
        s.bytes_sent += t.nbytes
        s.transfers_sent += 1
        r.bytes_received += t.nbytes
        r.transfers_received += 1
        if t.on_done is not None:
            t.on_done()

    # -- reading the counters ---------------------------------------------------------
    def bytes_sent(self, node_id: int) -> int:
        return self.stats[node_id].bytes_sent

    def bytes_received(self, node_id: int) -> int:
        return self.stats[node_id].bytes_received

    def totals(self) -> LinkStats:
        out = LinkStats()
        for s in self.stats.values():
            for f in out.__dataclass_fields__:
                setattr(out, f, getattr(out, f) + getattr(s, f))
        return out

    def __repr__(self) -> str:
        c = self.config
        part = ", partitioned" if self.partitioned else ""
        return (f"Network(nodes={len(self.stats)}, latency={c.latency:g}s, "
                f"bandwidth={c.bandwidth:g}B/s, loss={c.loss:g}{part})")
