"""Faults on a timeline: which attempts a crash killed, and what ran again (the fault-tolerance lesson's pictures).

`timeline_figure(events)` draws `ray.timeline()` as a Gantt chart on a
pyplot-free Figure (no global state, no GUI backend, so a notebook cell
stays fast), with the killed and failed attempts hatched; `attempt_counts`
counts what ran, died and ran again, per task name, so a notebook can print
the numbers the picture shows.
"""

from __future__ import annotations

from typing import Any, Iterable

from dsai.viz.gantt import plot_timeline, timeline_bars
from dsai.viz.spacetime import _show_figures_in_notebooks

__all__ = ["timeline_figure", "attempt_counts"]


def timeline_figure(events: Iterable[dict], title: str | None = None, *, since: float | None = None,
                    width: float = 10.0) -> Any:
    """A Gantt chart of `events` (e.g. `ray.timeline()`); `since` (virtual seconds) drops earlier attempts."""
    from matplotlib.figure import Figure

    _show_figures_in_notebooks()
    events = [e for e in events if since is None or e.get("ph") != "X" or float(e["ts"]) >= since * 1e6]
    rows, _ = timeline_bars(events)
    fig = Figure(figsize=(width, min(0.4 * max(len(rows), 1) + 1.5, 12.0)))
    plot_timeline(events, ax=fig.subplots(), title=title)
    fig.tight_layout()
    return fig


def attempt_counts(events: Iterable[dict]) -> dict[str, dict[str, int]]:
    """Per task name: attempts by status ('ok', 'killed', 'failed'), from the timeline's bars."""
    _, bars = timeline_bars(list(events))
    out: dict[str, dict[str, int]] = {}
    for b in bars:
        row = out.setdefault(b.name, {})
        row[b.status] = row.get(b.status, 0) + 1
    return {name: dict(sorted(row.items())) for name, row in sorted(out.items())}
