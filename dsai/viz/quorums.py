"""Quorums and PACELC, measured: stale reads over every (R, W), and what consistency costs in latency.

Two figures of the CAP lesson, each a plain function that runs the store and
one that draws the result:

* `quorum_grid(n)` runs the Dynamo-style store (`mode="dynamo"`) under
  partitions for every read quorum R and write quorum W, and counts the stale
  reads the metrics find and the runs the checker rejects. When R + W > N
  every read quorum meets every write quorum, so a read finds the latest
  acknowledged write: the stale-read count drops to zero right above the
  line R + W = N + 1. `plot_quorum_grid` draws it as a heat map.
* `pacelc_latencies()` runs each mode with no fault at all and measures the
  median read and write latency in virtual time. PACELC (Abadi, 2012): if
  there is a Partition, choose Availability or Consistency; Else, choose
  Latency or Consistency. A consistent read waits for a round trip to a
  majority even when nothing is wrong; `plot_latencies` draws the bill.
"""

from __future__ import annotations

from typing import Any, Iterable

from dsai.cap import run
from dsai.cap.replica import READS

__all__ = ["quorum_grid", "plot_quorum_grid", "PACELC_CONFIGS", "pacelc_latencies", "plot_latencies",
           "median"]


def quorum_grid(n: int = 5, seeds: Iterable[int] = range(3), *, nemesis: str = "partition",
                ops: int = 60, check: bool = False) -> dict[tuple[int, int], dict[str, Any]]:
    """For every 1 <= R, W <= n: stale reads summed over `seeds` and mean availability; with `check`,
    also the number of runs the linearizability checker rejected (slower: one check per run)."""
    seeds = list(seeds)
    grid = {}
    for r in range(1, n + 1):
        for w in range(1, n + 1):
            runs = [run(mode="dynamo", nodes=n, r=r, w=w, seed=s, nemesis=nemesis, ops=ops, check_history=check)
                    for s in seeds]
            grid[(r, w)] = {
                "stale_reads": sum(x.metrics["stale_reads"] for x in runs),
                "availability": round(sum(x.metrics["availability"] for x in runs) / len(runs), 4),
                "runs": len(runs),
            }
            if check:
                grid[(r, w)]["not_linearizable"] = sum(x.valid is False for x in runs)
    return grid


def plot_quorum_grid(grid: dict[tuple[int, int], dict[str, Any]], n: int | None = None) -> Any:
    """Heat map of stale reads by (W, R), each cell labelled, with the R + W = N + 1 boundary drawn."""
    import numpy as np
    from matplotlib.figure import Figure

    n = n or max(r for r, _ in grid)
    stale = np.array([[grid[(r, w)]["stale_reads"] for w in range(1, n + 1)] for r in range(1, n + 1)])
    fig = Figure(figsize=(5.2, 4.2))
    ax = fig.subplots()
    im = ax.imshow(stale, origin="lower", cmap="Reds", extent=(0.5, n + 0.5, 0.5, n + 0.5))
    for r in range(1, n + 1):
        for w in range(1, n + 1):
            cell = grid[(r, w)]
            ax.text(w, r, str(cell["stale_reads"]), ha="center", va="center", fontsize=9,
                    color="white" if cell["stale_reads"] > stale.max() / 2 else "black", gid="cell")
    # the staircase between R + W = N (below: quorums may miss each other) and R + W = N + 1 (above: they meet)
    xs, ys = [0.5], [n + 0.5]
    for w in range(1, n + 1):
        xs += [w - 0.5, w + 0.5]
        ys += [n - w + 0.5, n - w + 0.5]
    ax.plot(xs[1:], ys[1:], color="#1f77b4", lw=2, ls="--", label="above: R + W > N", gid="boundary")
    ax.set_xlim(0.5, n + 0.5)
    ax.set_ylim(0.5, n + 0.5)
    ax.set_xticks(range(1, n + 1))
    ax.set_yticks(range(1, n + 1))
    ax.set_xlabel("W: acks a write waits for (replicas)")
    ax.set_ylabel("R: replies a read waits for (replicas)")
    runs = grid[(1, 1)]["runs"]
    ax.set_title(f"Stale reads, N = {n} replicas, {runs} partitioned runs per cell")
    ax.legend(loc="upper right", fontsize=8)
    fig.colorbar(im, ax=ax, label="stale reads (count)")
    fig.tight_layout()
    return fig


# (label, run settings): the store's modes, from most consistent to least, with no fault injected
PACELC_CONFIGS: list[tuple[str, dict[str, Any]]] = [
    ("cp", {"mode": "cp"}),
    ("dynamo R=W=3", {"mode": "dynamo", "r": 3, "w": 3}),
    ("dynamo R=W=1", {"mode": "dynamo", "r": 1, "w": 1}),
    ("ap-lww", {"mode": "ap-lww"}),
]


def median(xs: list[float]) -> float | None:
    """The lower median (a latency that happened, not an average of two)."""
    if not xs:
        return None
    s = sorted(xs)
    return s[(len(s) - 1) // 2]


def pacelc_latencies(seeds: Iterable[int] = range(3), *, ops: int = 100, nodes: int = 5,
                     configs: list[tuple[str, dict[str, Any]]] | None = None) -> list[dict[str, Any]]:
    """Per configuration, with no fault: median ok read and write latency (virtual seconds), stale reads
    and the share of runs the checker rejected."""
    seeds = list(seeds)
    rows = []
    for label, settings in configs or PACELC_CONFIGS:
        runs = [run(nodes=nodes, seed=s, nemesis="none", ops=ops, **settings) for s in seeds]
        ops_ok = [op for r in runs for op in r.ops if op.outcome == "ok"]
        rows.append({
            "config": label,
            "read_p50": median([op.latency for op in ops_ok if op.f in READS]),
            "write_p50": median([op.latency for op in ops_ok if op.f not in READS]),
            "stale_reads": sum(r.metrics["stale_reads"] for r in runs),
            "not_linearizable": round(sum(r.valid is False for r in runs) / len(runs), 4),
            "runs": len(runs),
        })
    return rows


def plot_latencies(rows: list[dict[str, Any]], one_way: float | None = None) -> Any:
    """Grouped bars: median read and write latency per configuration, in milliseconds."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 3.2))
    ax = fig.subplots()
    xs = range(len(rows))
    ms = [1000 * (row["read_p50"] or 0.0) for row in rows]
    mw = [1000 * (row["write_p50"] or 0.0) for row in rows]
    ax.bar([x - 0.2 for x in xs], ms, 0.4, label="read p50", color="#1f77b4", gid="bar-read")
    ax.bar([x + 0.2 for x in xs], mw, 0.4, label="write p50", color="#ff7f0e", gid="bar-write")
    if one_way is not None:
        ax.axhline(2000 * one_way, color="grey", ls=":", lw=1, label="one round trip (2 x latency)")
    labels = [f"{row['config']}\n{100 * row['not_linearizable']:.0f}% runs not lin." for row in rows]
    ax.set_xticks(list(xs), labels, fontsize=8)
    ax.set_xlabel("store configuration (share of runs not linearizable)")
    ax.set_ylabel("median latency (ms, virtual)")
    ax.set_title("Else (no partition): the latency cost of consistency")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
