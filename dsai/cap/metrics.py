"""Metrics of one run, as Maelstrom reports them: what the clients got, what it cost, what was lost.

Everything is measured from the run, never assumed from the mode:

* ``counts``: operations by function and outcome (ok / fail / info);
* ``availability``: the fraction of operations that got a non-error answer
  (``ok``, or a cas that definitely found another value), overall and by
  where the client stood when it invoked: ``connected`` (no partition),
  ``majority`` or ``minority`` side of a partition, or on a ``down`` node;
* ``latency``: quantiles of ok operations, in virtual seconds;
* ``msgs_per_op``: messages between replicas while the workload ran, per
  operation (``msgs_per_op_no_gossip`` leaves anti-entropy out);
* ``stale_reads``: ok reads that missed an acknowledged write which had
  completed before the read began (a linearizable store has none);
* ``lost_writes``: acknowledged writes that no surviving value has seen,
  once the replicas have reconciled (counted with each value's causal
  history, the ghost state in `dsai.cap.versions`);
* ``sibling_reads``: ap-vv reads that returned more than one value;
* ``converge_time``: virtual seconds from the final heal until every replica
  holds the same data (``None`` if they did not within the limit).
"""

from __future__ import annotations

from typing import Any

from dsai.cap.replica import READS
from dsai.cap.view import ClusterView


__all__ = ["compute_metrics", "quantile", "stale_reads", "lost_writes"]

SIDES = ("connected", "majority", "minority", "down")
GOSSIP = ("sync", "sync-reply")


def quantile(xs: list[float], q: float) -> float | None:
    """Nearest-rank quantile (no interpolation, so every figure is a latency that happened)."""
    if not xs:
        return None
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, int(-(-q * len(s) // 1)) - 1))]


def _acked_writes(ops: list) -> list:
    return [op for op in ops if op.wid is not None and op.outcome == "ok"]


def _precedes(write: Any, op: Any) -> bool:
    """`write` (None: the initial value) certainly took effect before `op` was invoked."""
    return write is None or (write.outcome == "ok" and write.complete < op.invoke)


def stale_reads(ops: list) -> int:
    """ok reads that returned a value some acknowledged write had overwritten before the read began.

    The read returned write Y's value; it is stale if an acknowledged write W
    completed before the read was invoked, the answer has not seen W, and Y
    itself completed before W was invoked (so no order puts Y after W).
    """
    by_wid = {op.wid: op for op in ops if op.wid is not None}
    writes = _acked_writes(ops)
    n = 0
    for r in ops:
        if r.f in READS and r.outcome == "ok":
            shown = by_wid.get(r.observed_wid)
            if any(w.key == r.key and w.complete < r.invoke and w.wid not in r.observed and _precedes(shown, w)
                   for w in writes):
                n += 1
    return n


def lost_writes(cluster: ClusterView) -> int:
    """Acknowledged writes that vanished: no value left on a live replica has seen them, and every
    write those values have seen completed before them (so none can be ordered after them).

    Overwritten by a concurrent write is not lost (a linearizable register does
    that too); overwritten by an *older* write, as last-writer-wins does when a
    clock runs ahead, is.
    """
    by_wid = {op.wid: op for op in cluster.ops if op.wid is not None}
    survived: dict[str, set] = {}
    for r in cluster.replicas:
        if r.node.alive:
            for key in cluster.cfg.key_names:
                for c in r.cells(key):
                    survived.setdefault(key, set()).update(c.history)
    lost = 0
    for w in _acked_writes(cluster.ops):
        seen = survived.get(w.key, set())
        if w.wid not in seen and all(_precedes(by_wid.get(x), w) for x in seen):
            lost += 1
    return lost


def compute_metrics(cluster: ClusterView, t_end: float, converge_time: float | None) -> dict[str, Any]:
    ops = cluster.ops
    counts: dict[str, dict[str, int]] = {}
    for op in ops:
        row = counts.setdefault(op.f, {"ok": 0, "fail": 0, "info": 0})
        row[op.outcome or "info"] += 1
    by_side: dict[str, float | None] = {}
    side_ops: dict[str, int] = {}
    for side in SIDES:
        mine = [op for op in ops if op.side == side]
        side_ops[side] = len(mine)
        by_side[side] = round(sum(op.answered for op in mine) / len(mine), 4) if mine else None
    lat = [op.latency for op in ops if op.outcome == "ok"]
    msgs = [m for m in cluster.sim.network.messages if m.sent <= t_end and m.src != m.dst]
    n = max(1, len(ops))
    data_msgs = [m for m in msgs if m.payload.kind not in GOSSIP]
    return {
        "ops": len(ops),
        "counts": {f: counts[f] for f in sorted(counts)},
        "availability": round(sum(op.answered for op in ops) / n, 4),
        "availability_by_side": by_side,
        "ops_by_side": side_ops,
        "latency": {name: None if quantile(lat, q) is None else round(quantile(lat, q), 6)
                    for name, q in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("max", 1.0))},
        "messages": len(msgs),
        "messages_dropped": sum(m.dropped_because is not None for m in msgs),
        "msgs_per_op": round(len(msgs) / n, 3),
        "msgs_per_op_no_gossip": round(len(data_msgs) / n, 3),
        "stale_reads": stale_reads(ops),
        "lost_writes": lost_writes(cluster),
        "acked_writes": len(_acked_writes(ops)),
        "sibling_reads": sum(1 for op in ops if op.siblings > 1),
        "duration": round(t_end, 6),
        "converged": converge_time is not None,
        "converge_time": None if converge_time is None else round(converge_time, 6),
    }
