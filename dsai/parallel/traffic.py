"""Traffic: bytes per node read from the network's counters, beside the payload the collective sent.

Two numbers per node and direction. *Wire* bytes come from the simulated
network's counters (`dsai.sim.network_stats()`, read before and after): they
are what the object transfers really carried (the calls' own specs and
replies, control messages that also cost time and bytes, are counted apart
as *control* bytes), and they include each object's pickle
header (numpy's dtype, shape and the pickle framing, about 120 bytes per
array). The counters cannot tell header from payload, so the *payload* comes
from the collective itself: every time it hands an array piece from one
node to another it writes the piece's `nbytes` in a `Ledger`. Theory is
about payload, so payload is what must equal the formulas exactly; the wire
minus the payload, divided by the number of transfers, is the header per
transfer, shown beside it.

Pieces under Ray's inline limit (100 KiB) go back to the driver (their
owner) in each call's reply and from there to the next rank, as in Ray, so
their traffic is not the schedule's own (see `AllReduceRun.inline`):
measurements use pieces of at least 100 KiB.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["NodeTraffic", "Ledger", "INLINE_LIMIT", "counters", "diff"]

INLINE_LIMIT = 100 * 1024  # bytes: Ray's max_direct_call_object_size


@dataclass
class NodeTraffic:
    """What one node of a collective sent and received during one operation."""

    node: str  # the simulator's node name (network_stats key)
    role: str  # "rank 3", "server 0"
    payload_sent: int = 0  # array bytes, from the collective's ledger
    payload_received: int = 0
    wire_sent: int | None = None  # bytes from the network's counters (None on real Ray)
    wire_received: int | None = None
    transfers_sent: int | None = None  # object transfers counted by the network
    transfers_received: int | None = None
    control_sent: int | None = None  # bytes of control messages (call specs, small replies)
    control_received: int | None = None

    @property
    def header_bytes(self) -> int | None:
        """Wire minus payload, sent and received: the pickle headers."""
        if self.wire_sent is None or self.wire_received is None:
            return None
        return self.wire_sent + self.wire_received - self.payload_sent - self.payload_received

    def __repr__(self) -> str:
        wire = "" if self.wire_sent is None else f", wire {self.wire_sent:,}/{self.wire_received:,}"
        return (f"NodeTraffic({self.role} on {self.node}: payload sent/received "
                f"{self.payload_sent:,}/{self.payload_received:,}{wire})")


@dataclass
class Ledger:
    """The payload a collective handed between nodes, written down as it hands it over."""

    sent: dict[str, int] = field(default_factory=dict)  # node name -> payload bytes
    received: dict[str, int] = field(default_factory=dict)
    pieces: int = 0  # transfers between distinct nodes

    def record(self, src: str, dst: str, nbytes: int) -> None:
        """One array piece of `nbytes` from node `src` to node `dst` (nothing if the same node)."""
        if src == dst:
            return  # same object store: no bytes on the network
        self.sent[src] = self.sent.get(src, 0) + nbytes
        self.received[dst] = self.received.get(dst, 0) + nbytes
        self.pieces += 1

    def __repr__(self) -> str:
        return f"Ledger({self.pieces} pieces, {sum(self.sent.values()):,} payload bytes)"


def counters() -> dict[str, dict[str, int]] | None:
    """The network's per-node counters now (None on real Ray, which has none to read)."""
    from dsai.parallel.placement import simulated

    if not simulated():
        return None
    import dsai.sim

    return dsai.sim.network_stats()


def diff(before: dict[str, dict[str, int]] | None, after: dict[str, dict[str, int]] | None,
         ledger: Ledger, roles: dict[str, str]) -> list[NodeTraffic]:
    """One `NodeTraffic` per node in `roles` (node name -> role), counters as after - before."""
    out = []
    for node, role in roles.items():
        t = NodeTraffic(node, role, ledger.sent.get(node, 0), ledger.received.get(node, 0))
        if before is not None and after is not None:
            a, b = after.get(node, {}), before.get(node, {})
            # Object transfers only: the calls' specs and replies are counted apart (control).
            t.control_sent = a.get("control_bytes_sent", 0) - b.get("control_bytes_sent", 0)
            t.control_received = a.get("control_bytes_received", 0) - b.get("control_bytes_received", 0)
            t.wire_sent = a.get("bytes_sent", 0) - b.get("bytes_sent", 0) - t.control_sent
            t.wire_received = a.get("bytes_received", 0) - b.get("bytes_received", 0) - t.control_received
            t.transfers_sent = a.get("transfers_sent", 0) - b.get("transfers_sent", 0)
            t.transfers_received = a.get("transfers_received", 0) - b.get("transfers_received", 0)
        out.append(t)
    return out
