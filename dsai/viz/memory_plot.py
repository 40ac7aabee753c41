"""Memory per device as stacked bars: parameters, gradients, optimizer state and activations.

`zero_bars(parameters, devices)` gives the bars of data parallelism and the
three ZeRO stages by formula (a pure function); `measured_bars(runs)` the
same from measured runs' device ledgers; `plot_memory(bars)` stacks each
bar's categories, and draws a device's capacity as a dashed line if given.
"""

from __future__ import annotations

from typing import Any

from dsai.parallel.device import CATEGORIES
from dsai.parallel.memory import MIXED_ADAM, ZERO_STAGES, Precision, zero_bytes

__all__ = ["STAGE_NAMES", "zero_bars", "measured_bars", "plot_memory", "COLOURS"]

STAGE_NAMES = {0: "DP", 1: "ZeRO-1", 2: "ZeRO-2", 3: "ZeRO-3"}
COLOURS = {"parameters": "#1f77b4", "gradients": "#ff7f0e", "optimizer": "#2ca02c", "activations": "#9467bd"}


def zero_bars(parameters: float, devices: int, precision: Precision = MIXED_ADAM,
              activations: float = 0.0) -> dict[str, dict[str, float]]:
    """Bytes per device by category for DP and ZeRO 1-3 (activations, not sharded, added as given)."""
    return {STAGE_NAMES[s]: {**zero_bytes(parameters, devices, s, precision), "activations": activations}
            for s in ZERO_STAGES}


def measured_bars(runs: list[Any]) -> dict[str, dict[str, float]]:
    """The busiest device's bytes by category, from `ZeroRun`s (or anything with `.stage` and `.memory`)."""
    out = {}
    for r in runs:
        busiest = max(r.memory, key=lambda m: m["used"])
        out[STAGE_NAMES.get(r.stage, str(r.stage))] = {c: busiest["bytes"][c] for c in CATEGORIES}
    return out


def _unit(top: float) -> tuple[float, str]:
    for scale, name in ((1e9, "GB"), (1e6, "MB"), (1e3, "kB")):
        if top >= scale:
            return scale, name
    return 1.0, "bytes"


def plot_memory(bars: dict[str, dict[str, float]], *, title: str = "memory per device",
                capacity: float | None = None, highlight: str | None = None, ax: Any = None) -> Any:
    """Stacked bars, one per key of `bars`; returns the Figure."""
    from matplotlib.colors import to_rgba
    from matplotlib.figure import Figure

    if ax is None:
        fig = Figure(figsize=(6, 3.4))
        ax = fig.subplots()
    else:
        fig = ax.figure
    names = list(bars)
    top = max([sum(b.values()) for b in bars.values()] + [capacity or 0])
    scale, unit = _unit(top)
    bottoms = [0.0] * len(names)
    for c in CATEGORIES:
        heights = [bars[n].get(c, 0.0) / scale for n in names]
        if not any(heights):
            continue
        colours = [to_rgba(COLOURS[c], 1.0 if highlight in (None, n) else 0.4) for n in names]
        ax.bar(names, heights, bottom=bottoms, color=colours, label=c, gid=f"bar-{c}")
        bottoms = [b + h for b, h in zip(bottoms, heights)]
    for x, total in enumerate(bottoms):
        ax.text(x, total, f"{total:.3g}", ha="center", va="bottom", fontsize=8)
    if capacity:
        ax.axhline(capacity / scale, color="crimson", linestyle="--", linewidth=1, gid="capacity")
        ax.text(len(names) - 0.5, capacity / scale, "device capacity", color="crimson", fontsize=8,
                ha="right", va="bottom")
    if highlight in names:
        ax.get_xticklabels()[names.index(highlight)].set_fontweight("bold")
    ax.set_ylabel(f"bytes per device ({unit})")
    ax.set_ylim(0, top / scale * 1.15)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
