"""Pictures of parameter-server runs: accuracy against (virtual) time, and how stale the gradients were.

The learning curve answers "who gets to an accuracy first"; the staleness
histogram answers "what did not waiting cost": BSP stacks everything at 0,
SSP spreads it over 0..s, asynchronous SGD lets the straggler's gradients
trail by as many versions as the fast workers pushed meanwhile.
"""

from __future__ import annotations

from typing import Any, Mapping

__all__ = ["plot_learning_curves", "plot_staleness", "COLOURS"]

COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf"]


def _unit(results: Mapping[str, Any]) -> tuple[float, str]:
    simulated = all(getattr(r, "simulated", True) for r in results.values())
    longest = max((r.seconds for r in results.values()), default=0.0)
    clock = "virtual time" if simulated else "wall time"
    return (1000.0, f"{clock} (ms)") if longest < 1.0 else (1.0, f"{clock} (s)")


def plot_learning_curves(results: Mapping[str, Any], *, target: float | None = None,
                         ax: Any = None, title: str | None = None) -> Any:
    """Test accuracy against time, one line per run ({label: TrainResult}); returns the Figure."""
    from matplotlib.figure import Figure

    if ax is None:
        fig = Figure(figsize=(6, 3.4))
        ax = fig.subplots()
    else:
        fig = ax.figure
    scale, label = _unit(results)
    for i, (name, r) in enumerate(results.items()):
        ts = [t * scale for t, _, _ in r.curve]
        accs = [100 * a for _, _, a in r.curve]
        ax.plot(ts, accs, marker=".", ms=3, lw=1.5, color=COLOURS[i % len(COLOURS)],
                label=f"{name}: {100 * r.test_accuracy:.1f}%", gid=f"curve-{name}")
    if target is not None:
        ax.axhline(100 * target, color="grey", ls="--", lw=1, label=f"target {100 * target:.0f}%")
    ax.set_xlabel(label)
    ax.set_ylabel("test accuracy (%)")
    ax.set_ylim(0, 100)
    ax.set_title(title or "Test accuracy against time")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


def plot_staleness(results: Mapping[str, Any], *, ax: Any = None, title: str | None = None) -> Any:
    """Bars: how many applied gradients had each staleness, per run ({label: TrainResult})."""
    from matplotlib.figure import Figure

    if ax is None:
        fig = Figure(figsize=(6, 3.0))
        ax = fig.subplots()
    else:
        fig = ax.figure
    n = max(len(results), 1)
    width = 0.8 / n
    top = 0
    for i, (name, r) in enumerate(results.items()):
        hist = r.staleness_histogram()
        xs = sorted(hist)
        top = max(top, max(xs, default=0))
        ax.bar([x - 0.4 + width * (i + 0.5) for x in xs], [hist[x] for x in xs], width,
               color=COLOURS[i % len(COLOURS)], label=f"{name} (max {r.max_staleness})",
               gid=f"staleness-{name}")
    ax.set_xlabel("staleness (server versions between pull and apply)")
    ax.set_ylabel("gradients applied")
    ax.set_xticks(range(0, top + 1, max(1, (top + 1) // 12 + (1 if top >= 12 else 0))))
    ax.set_title(title or "How stale were the gradients?")
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
