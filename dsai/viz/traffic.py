"""Where the bytes of an all-reduce go: one bar per node, read from the network's counters.

A parameter server's link carries every worker's push and pull, 2 N M per
step, so its bar grows with N while each worker's stays at 2M; k shards cut
it to 2 N M / k each; the ring gives every node the same 4 (N-1)/N x M
(sent plus received), whatever N. `traffic_bars(runs)` turns measured
`AllReduceRun`s (from `dsai.parallel.allreduce`) into groups of bars, a pure
function; `plot_traffic(runs)` draws them with matplotlib. Heights are the
measured bytes of each node (payload from the collective's ledger, or the
wire bytes the network counted), never a formula.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

__all__ = ["NodeBar", "BarGroup", "traffic_bars", "plot_traffic"]

_MIB = 2**20


@dataclass(frozen=True)
class NodeBar:
    """One node's bytes through its link (sent + received) during one all-reduce."""

    role: str  # "rank 2", "server 0"
    node: str
    sent: int
    received: int

    @property
    def total(self) -> int:
        return self.sent + self.received


@dataclass(frozen=True)
class BarGroup:
    """The bars of one measured all-reduce, labelled like "ps, N=4, k=2", and the theory
    for its busiest node (payload bytes sent plus received; None for custom schedules)."""

    label: str
    bars: tuple[NodeBar, ...]
    theory_busiest: int | None = None

    @property
    def busiest(self) -> NodeBar:
        return max(self.bars, key=lambda b: b.total)


def _label(run: Any) -> str:
    shards = f", k={run.shards}" if run.shards else ""
    return f"{run.algorithm}, N={run.workers}{shards}"


def _theory(run: Any) -> int | None:
    from dsai.parallel import theory

    if run.algorithm not in theory.ALGORITHMS:
        return None
    return theory.carried_max(run.algorithm, run.workers, run.elements, run.itemsize, max(run.shards, 1))


def traffic_bars(runs: Sequence[Any], what: str = "payload") -> list[BarGroup]:
    """One group per run, one bar per node (ranks, then servers). `what` is "payload"
    (array bytes, from the collective's ledger) or "wire" (the network's counters)."""
    if what not in ("payload", "wire"):
        raise ValueError(f"what must be 'payload' or 'wire', got {what!r}")
    groups = []
    for run in runs:
        bars = []
        for t in run.traffic:
            sent, received = ((t.payload_sent, t.payload_received) if what == "payload"
                              else (t.wire_sent, t.wire_received))
            if sent is None:
                raise ValueError(f"{run!r} has no network counters (measured on real Ray?): "
                                 "draw what='payload', or measure on the simulator")
            bars.append(NodeBar(t.role, t.node, sent, received))
        bars.sort(key=lambda b: (b.role.startswith("server"), int(b.role.split()[-1])))
        groups.append(BarGroup(_label(run), tuple(bars), _theory(run)))
    return groups


def plot_traffic(runs: Sequence[Any], ax: Any = None, *, what: str = "payload",
                 title: str | None = None) -> Any:
    """Bytes through each node's link, one cluster of bars per all-reduce; returns the Axes.

    Worker bars are blue, server bars orange; each group's busiest node is
    labelled with its MiB and a dashed line marks the formula for it
    (`dsai.parallel.theory.carried_max`), so the server's link saturating as N
    grows, and sharding or the ring flattening it, read straight off the chart.
    """
    import matplotlib.pyplot as plt

    groups = traffic_bars(runs, what)
    if ax is None:
        width = min(2.0 + 1.2 * sum(len(g.bars) for g in groups) / 2, 14.0)
        _, ax = plt.subplots(figsize=(width, 4.5))
    x, ticks = 0.0, []
    for g in groups:
        start = x
        for b in g.bars:
            server = b.role.startswith("server")
            ax.bar(x, b.total / _MIB, width=0.8, color="tab:orange" if server else "tab:blue",
                   edgecolor="white")
            if b is g.busiest:
                ax.annotate(f"{b.total / _MIB:.3g}", (x, b.total / _MIB), ha="center", va="bottom",
                            fontsize="small")
            x += 1
        if g.theory_busiest is not None:  # the formula's busiest node, beside the measured bars
            ax.hlines(g.theory_busiest / _MIB, start - 0.45, x - 0.55, colors="black", linestyles="dashed",
                      linewidth=1, label="theory: busiest node" if not ticks else None)
        ticks.append(((start + x - 1) / 2, g.label))
        x += 1.0  # a gap between groups
    ax.set_xticks([t for t, _ in ticks], [label for _, label in ticks], rotation=20, ha="right")
    kind = "array payload" if what == "payload" else "bytes on the wire"
    ax.set_ylabel(f"MiB sent + received per node ({kind})")
    ax.set_xlabel("all-reduce (one bar per node: blue workers, orange servers)")
    m = runs[0].payload_bytes / _MIB if runs else 0
    ax.set_title(title or f"Traffic through each node's link, one all-reduce of M = {m:g} MiB per worker")
    ax.grid(axis="y", alpha=0.3)
    if any(g.theory_busiest is not None for g in groups):
        ax.legend(loc="upper left", fontsize="small")
    return ax
