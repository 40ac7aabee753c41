"""Space-time (Lamport) diagrams: one lane per node, time to the right, every message an arrow.

Lamport drew distributed runs this way in "Time, Clocks, and the Ordering of
Events in a Distributed System" (1978): a message is an arrow from the
sender's lane at the instant it left to the receiver's lane at the instant it
arrived, so causality is a path you can follow with a finger. Here:

* arrows are replica messages (anti-entropy ones fainter); a dropped message
  is a red arrow cut off halfway with an ``x`` (lost, crossed a partition, or
  hit a dead node);
* faults are shaded: partitions across the whole diagram with the cut-off
  side's lanes darker, a crashed node's lane grey, loss and skew hatched;
* beneath, a client timeline: one row per client, one bar per operation from
  invoke to completion, coloured by outcome (ok green, fail red, info orange;
  a cas that failed because it found another value, an answer rather than a
  refusal, light red).

Every artist carries a ``gid`` (``msg``, ``msg-dropped``, ``fault-partition``,
``op-ok``, ...), so tests and notebooks can count what is drawn.
"""

from __future__ import annotations

from typing import Any

__all__ = ["spacetime", "plot_spacetime", "figure_png", "OUTCOME_COLORS", "CAS_MISMATCH_COLOR", "FAULT_COLORS", "default_window", "count_gids"]

OUTCOME_COLORS = {"ok": "#2ca02c", "fail": "#d62728", "info": "#ff7f0e"}
CAS_MISMATCH_COLOR = "#f7a8a8"  # a cas that failed because it saw another value: an answer, not a refusal
FAULT_COLORS = {"partition": "#f4a6a6", "isolate": "#f4a6a6", "bridge": "#f4a6a6", "ring": "#f4a6a6",
                "crash": "#9e9e9e", "loss": "#c6dbef", "skew": "#dadaeb"}
MSG_COLOR, GOSSIP_COLOR, DROP_COLOR = "#1f77b4", "#b0b0b0", "#d62728"
_GOSSIP = ("sync", "sync-reply")
_CUTS = ("partition", "isolate", "bridge", "ring")


def default_window(result: Any, margin: float = 0.05) -> tuple[float, float]:
    """The time span worth looking at: around the first fault, else the first 0.3 s of the run."""
    spans = result.cluster.nemesis.spans
    end_of_run = result.metrics["duration"]
    if spans:
        s = spans[0]
        return max(0.0, s.start - margin), min(end_of_run, (s.end if s.end is not None else end_of_run) + margin)
    return 0.0, min(end_of_run, 0.3)


def count_gids(fig: Any) -> dict[str, int]:
    """How many artists of each gid a figure holds (what the tests look at)."""
    counts: dict[str, int] = {}
    for ax in fig.axes:
        for artist in ax.get_children():
            gid = artist.get_gid()
            if gid:
                counts[gid] = counts.get(gid, 0) + 1
    return counts


def spacetime(result: Any, window: tuple[float, float] | None = None, *, gossip: bool = True,
              clients: bool = True, labels: bool = False, figsize: tuple[float, float] | None = None) -> Any:
    """Draw a run (a `dsai.cap.RunResult`) as a space-time diagram; returns the matplotlib Figure.

    ``window``: (start, end) in virtual seconds, default `default_window`;
    ``gossip``: draw anti-entropy messages; ``clients``: add the client timeline;
    ``labels``: write each message's kind beside its arrow.
    """
    from matplotlib.figure import Figure  # no pyplot: no global figures, no backend to choose

    _show_figures_in_notebooks()
    from matplotlib.patches import Rectangle

    cluster = result.cluster
    nodes = cluster.cfg.nodes
    t0, t1 = window if window is not None else default_window(result)
    if not t1 > t0:
        raise ValueError(f"window must be (start, end) with end > start, got {(t0, t1)!r}")
    n_clients = len(cluster.clients)
    rows = 2 if clients else 1
    fig = Figure()
    axes = fig.subplots(rows, 1, sharex=True, squeeze=False,
                        gridspec_kw={"height_ratios": [nodes, max(2, n_clients)]} if clients else None)
    fig.set_size_inches(figsize or (11, 0.55 * nodes + (0.35 * n_clients + 1.2 if clients else 0) + 1.2))
    ax = axes[0][0]
    ax.set_title(f"{cluster.cfg.mode}, nemesis {cluster.cfg.nemesis}, seed {cluster.cfg.seed}")

    # -- faults ------------------------------------------------------------------------------
    for span in result.cluster.nemesis.spans:
        start, end = span.start, span.end if span.end is not None else t1
        if end < t0 or start > t1:
            continue
        color = FAULT_COLORS.get(span.kind, "#eeeeee")
        gid = f"fault-{'partition' if span.kind in _CUTS else span.kind}"
        if span.kind == "crash":
            for n in span.nodes:
                ax.add_patch(Rectangle((start, n - 0.35), end - start, 0.7, color=color, alpha=0.6, gid=gid))
        else:
            hatch = "//" if span.kind in ("loss", "skew") else None
            ax.axvspan(start, end, color=color, alpha=0.35, hatch=hatch, lw=0, gid=gid)
            if span.kind in _CUTS:
                cut = span.nodes if span.kind != "bridge" else ()
                for n in cut:
                    ax.add_patch(Rectangle((start, n - 0.35), end - start, 0.7, color=color, alpha=0.6,
                                           gid="fault-cut-lane"))
        ax.text(max(start, t0), nodes - 0.45, f" {span.kind}", fontsize=8, va="bottom", color="#7f2704")

    # -- lanes ---------------------------------------------------------------------------------
    for n in range(nodes):
        ax.axhline(n, color="black", lw=0.8, gid="lane")
    ax.set_yticks(range(nodes), [f"n{n}" for n in range(nodes)])
    ax.set_ylim(nodes - 0.4, -0.6)
    ax.set_ylabel("replica")

    # -- messages ------------------------------------------------------------------------------
    for m in cluster.sim.network.messages:
        if m.src == m.dst or m.sent > t1:
            continue
        kind = getattr(m.payload, "kind", "")
        is_gossip = kind in _GOSSIP
        if is_gossip and not gossip:
            continue
        if m.arrives is not None and m.dropped_because is None:
            end_t, end_y, gid = m.arrives, m.dst, "msg"
            color = GOSSIP_COLOR if is_gossip else MSG_COLOR
        else:
            # dropped: draw half the way, then a cross
            lat = cluster.cfg.latency if m.arrives is None else m.arrives - m.sent
            end_t, end_y, gid = m.sent + lat / 2, (m.src + m.dst) / 2, "msg-dropped"
            color = DROP_COLOR
        if end_t < t0:
            continue
        ax.annotate("", xy=(end_t, end_y), xytext=(m.sent, m.src), gid=gid,
                    arrowprops={"arrowstyle": "-|>", "color": color, "lw": 0.6 if is_gossip else 0.9,
                                "alpha": 0.5 if is_gossip else 0.9, "shrinkA": 0, "shrinkB": 0,
                                "mutation_scale": 7})
        if gid == "msg-dropped":
            ax.plot([end_t], [end_y], marker="x", color=DROP_COLOR, ms=5, gid="drop-mark")
        if labels:
            ax.text((m.sent + end_t) / 2, (m.src + end_y) / 2, kind, fontsize=6, color=color)
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=MSG_COLOR, label="message"),
               Line2D([], [], color=DROP_COLOR, marker="x", label="dropped")]
    if gossip:
        handles.insert(1, Line2D([], [], color=GOSSIP_COLOR, label="anti-entropy"))
    ax.legend(handles=handles, loc="upper right", fontsize=7, framealpha=0.8)

    # -- client timeline ---------------------------------------------------------------------------
    if clients:
        cax = axes[1][0]
        for span in result.cluster.nemesis.spans:
            if span.kind in _CUTS and span.start <= t1 and (span.end or t1) >= t0:
                cax.axvspan(span.start, span.end or t1, color=FAULT_COLORS[span.kind], alpha=0.35, lw=0,
                            gid="fault-partition-clients")
        min_w = (t1 - t0) / 400  # an operation answered at once still shows
        for op in cluster.ops:
            end = op.complete if op.complete is not None else t1
            if end < t0 or op.invoke > t1:
                continue
            outcome = op.outcome or "info"
            color = CAS_MISMATCH_COLOR if outcome == "fail" and op.answered else OUTCOME_COLORS[outcome]
            cax.add_patch(Rectangle((op.invoke, op.client - 0.3), max(end - op.invoke, min_w), 0.6,
                                    color=color, gid=f"op-{outcome}"))
        cax.set_yticks(range(n_clients), [f"c{c} @n{cl.node}" for c, cl in enumerate(cluster.clients)])
        cax.set_ylim(n_clients - 0.4, -0.6)
        cax.set_ylabel("client")
        legend = [Rectangle((0, 0), 1, 1, color=c, label=k) for k, c in OUTCOME_COLORS.items()]
        legend.append(Rectangle((0, 0), 1, 1, color=CAS_MISMATCH_COLOR, label="fail: cas saw another value"))
        cax.legend(handles=legend, loc="upper right", fontsize=7, ncol=4, framealpha=0.8)
        cax.set_xlabel("virtual time (s)")
    else:
        ax.set_xlabel("virtual time (s)")
    ax.set_xlim(t0, t1)
    fig.tight_layout()
    return fig



def figure_png(fig: Any, dpi: int = 100) -> bytes:
    """A figure as PNG bytes (what the widget shows; needs no GUI backend)."""
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def _show_figures_in_notebooks() -> None:
    """A pyplot-free Figure has no picture of itself for IPython: register one, unless a
    backend (e.g. `%matplotlib inline`) already did."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython ships with the lab extra
        return
    shell = get_ipython()
    if shell is None:
        return
    from matplotlib.figure import Figure

    png = shell.display_formatter.formatters["image/png"]
    try:
        png.lookup_by_type(Figure)
    except KeyError:
        png.for_type(Figure, figure_png)


plot_spacetime = spacetime  # the name dsai.viz exports (beside plot_timeline)
