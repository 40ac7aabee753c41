"""A pipeline schedule as it ran: one lane per stage, forward and backward steps, and the bubble between them.

`schedule_lanes(steps, stages)` turns measured steps (`PipelineRun.steps`,
read from `ray.timeline()`) into lanes of bars and idle gaps (a pure
function); `plot_pipeline(run)` draws them: forwards blue, backwards orange (odd
model chunks of an interleaved schedule lighter), each wide enough bar
labelled with its micro-batch (and chunk), and the idle time of each stage
hatched grey, which is the bubble the title measures.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

__all__ = ["LaneBar", "Lane", "schedule_lanes", "plot_pipeline", "COLOURS"]

COLOURS = {"F": "#1f77b4", "B": "#ff7f0e", "idle": "#d9d9d9"}


@dataclass(frozen=True)
class LaneBar:
    start: float
    end: float
    kind: str  # "F", "B" or "idle"
    label: str  # "3" (micro-batch 3) or "3.1" (micro-batch 3, chunk 1); "" for idle
    chunk: int = 0


@dataclass(frozen=True)
class Lane:
    stage: int
    bars: list[LaneBar]

    @property
    def busy(self) -> float:
        return sum(b.end - b.start for b in self.bars if b.kind != "idle")

    @property
    def idle(self) -> float:
        return sum(b.end - b.start for b in self.bars if b.kind == "idle")


def schedule_lanes(steps: Sequence[Any], stages: int) -> list[Lane]:
    """Lanes of F/B bars and the idle gaps between them, from the makespan's start to its end.

    `steps` are `dsai.parallel.schedule.Step`s (device, op, start, end).
    """
    if not steps:
        return [Lane(d, []) for d in range(stages)]
    t0 = min(s.start for s in steps)
    t1 = max(s.end for s in steps)
    lanes = []
    for d in range(stages):
        bars, at = [], t0
        for s in sorted((s for s in steps if s.device == d), key=lambda s: s.start):
            if s.start > at + 1e-12:
                bars.append(LaneBar(at, s.start, "idle", ""))
            label = str(s.op.microbatch) + (f".{s.op.chunk}" if s.op.chunk else "")
            bars.append(LaneBar(s.start, s.end, s.op.kind, label, s.op.chunk))
            at = s.end
        if t1 > at + 1e-12:
            bars.append(LaneBar(at, t1, "idle", ""))
        lanes.append(Lane(d, bars))
    return lanes


def plot_pipeline(run: Any, *, title: str | None = None, ax: Any = None) -> Any:
    """Draw a `PipelineRun`'s measured schedule (or a list of steps); returns the Figure."""
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    steps = run.steps if hasattr(run, "steps") else list(run)
    stages = run.stages if hasattr(run, "stages") else 1 + max(s.device for s in steps)
    lanes = schedule_lanes(steps, stages)
    if ax is None:
        fig = Figure(figsize=(9, 0.6 * stages + 1.4))
        ax = fig.subplots()
    else:
        fig = ax.figure
    t0 = min(s.start for s in steps)
    t1 = max(s.end for s in steps)
    shortest = (t1 - t0) / 45  # a label needs about this much room on a 9-inch axis
    for lane in lanes:
        y = stages - 1 - lane.stage  # stage 0 on top
        # One collection per lane, kind and chunk parity (fast to draw); odd chunks lighter.
        for kind, odd in (("idle", False), ("F", False), ("F", True), ("B", False), ("B", True)):
            spans = [((b.start - t0) * 1e3, (b.end - b.start) * 1e3) for b in lane.bars
                     if b.kind == kind and (b.chunk % 2 == 1) == odd]
            if spans:
                ax.broken_barh(spans, (y - 0.4, 0.8), facecolors=COLOURS[kind], alpha=0.6 if odd else 1.0,
                               edgecolors="none" if kind == "idle" else "white",
                               hatch="//" if kind == "idle" else None, gid=f"bar-{kind}")
        for b in lane.bars:
            if b.label and b.end - b.start >= shortest and len(steps) <= 400:
                ax.text((b.start + b.end) / 2 * 1e3 - t0 * 1e3, y, b.label, ha="center", va="center",
                        fontsize=7, color="white" if b.kind == "F" else "black")
    ax.set_yticks(range(stages), [f"stage {d}" for d in reversed(range(stages))])
    ax.set_xlabel("virtual time (ms)")
    if title is None and hasattr(run, "bubble_fraction") and run.bubble_fraction is not None:
        title = (f"{run.schedule}: p={run.stages}, m={run.microbatches}"
                 + (f", v={run.chunks}" if run.chunks > 1 else "")
                 + f" — bubble {run.bubble_fraction:.3f} measured, {run.theory_bubble_fraction:.3f} theory")
    ax.set_title(title or "pipeline schedule", fontsize=10, loc="left")
    ax.legend(handles=[Patch(color=COLOURS["F"], label="forward"), Patch(color=COLOURS["B"], label="backward"),
                       Patch(facecolor=COLOURS["idle"], hatch="//", label="idle (bubble)")],
              loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8, frameon=False)
    fig.tight_layout()
    return fig
