"""Futures in flight: waiting for all results versus handling each as it finishes, with a straggler.

`ray.get(refs)` returns when the *last* task does, so one slow task (a
straggler) holds back every result. A `ray.wait` loop hands each result to
the next stage as soon as it is ready, and the next stage's work overlaps with
the tasks still running. The lesson's widget runs both on the simulated
cluster with one straggler whose length a slider sets, and shows both runs'
timelines and when each result was processed.

Every function is plain and tested without a browser:

* `run_strategy(strategy, straggler)` -> `StrategyRun` (when the driver got
  each result, when the consumer finished processing it, the run's timeline)
* `compare(straggler)` -> both runs; `comparison_rows` -> the side-by-side table
* `plot_comparison(runs)` -> a figure; `straggler_widget()` wires a slider to them
* `max_in_flight(events, name)` -> the most tasks of one name running at once,
  read from `ray.timeline()` (how the lesson measures backpressure), and
  `list_schedule_makespan(durations, k)`, the theory it is compared with

The runs use the lesson's cluster when one is running (the simulator), or
start their own with 4 CPUs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from dsai.errors import DsaiError

__all__ = ["StrategyRun", "STRATEGIES", "task_durations", "run_strategy", "compare", "comparison_rows",
           "plot_comparison", "straggler_widget", "max_in_flight", "list_schedule_makespan"]

STRATEGIES = ("get all", "wait loop")


class FuturesError(DsaiError, ValueError):
    """A bad argument to the futures experiment (the message names it and the fix)."""


@dataclass(frozen=True)
class StrategyRun:
    """One run: times in virtual seconds from the first submission."""

    strategy: str
    durations: tuple[float, ...]  # each task's length; task 0 is the straggler
    arrivals: tuple[float, ...]  # when the driver had each result, in the order it got them
    processed: tuple[float, ...]  # when the consumer finished each result, in order
    events: list = field(repr=False, compare=False)  # this run's timeline spans, times from 0

    @property
    def first(self) -> float:
        """Time to the first processed result."""
        return self.processed[0]

    @property
    def total(self) -> float:
        """Time until every result was processed."""
        return self.processed[-1]

    @property
    def mean(self) -> float:
        """Mean time at which a result was processed (what a user waiting on each one sees)."""
        return sum(self.processed) / len(self.processed)

    def __repr__(self) -> str:
        return (f"StrategyRun({self.strategy!r}, tasks={len(self.durations)}, first={self.first:.2f} s, "
                f"mean={self.mean:.2f} s, total={self.total:.2f} s)")


def task_durations(straggler: float, tasks: int = 8, seed: int = 0) -> tuple[float, ...]:
    """Seeded lengths: task 0 takes `straggler` seconds, the others 0.5-1.5 s (rounded to 0.05 s)."""
    import numpy as np

    if not isinstance(straggler, (int, float)) or not straggler > 0:
        raise FuturesError(f"straggler must be a positive number of seconds, got {straggler!r}")
    if isinstance(tasks, bool) or not isinstance(tasks, int) or not 2 <= tasks <= 64:
        raise FuturesError(f"tasks must be a whole number from 2 to 64, got {tasks!r}")
    rng = np.random.default_rng(seed)
    rest = [round(float(x) * 20) / 20 for x in rng.uniform(0.5, 1.5, tasks - 1)]
    return (float(straggler), *rest)


def _ray() -> tuple[Any, bool]:
    """The simulator, started here (4 CPUs) unless the lesson's cluster runs; True if started here."""
    import dsai.mockray as ray

    if ray.is_initialized():
        return ray, False
    ray.init(num_cpus=4)
    return ray, True


def run_strategy(strategy: str, straggler: float = 4.0, *, tasks: int = 8, consume: float = 0.25,
                 seed: int = 0) -> StrategyRun:
    """Run `tasks` tasks (one straggler) and hand each result to one consumer actor (`consume` s each).

    "get all": `ray.get` the whole list, then hand every result over.
    "wait loop": `ray.wait(pending, num_returns=1)` and hand each result over as it is ready.
    """
    import time

    from dsai import sim

    if strategy not in STRATEGIES:
        raise FuturesError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
    if not isinstance(consume, (int, float)) or consume < 0:
        raise FuturesError(f"consume must be a number of seconds, at least 0, got {consume!r}")
    durations = task_durations(straggler, tasks, seed)
    ray, started = _ray()

    @ray.remote
    def job(seconds: float) -> float:
        time.sleep(seconds)  # the task's work
        return seconds

    @ray.remote
    class Consumer:
        """The next stage (writing to a database, a model update): one result at a time."""

        def handle(self, value: float) -> float:
            time.sleep(consume)
            return value

    try:
        consumer = Consumer.remote()
        t0 = sim.now()
        begin_us = t0 * 1e6
        refs = [job.remote(d) for d in durations]
        arrivals, handled = [], []
        if strategy == "get all":
            values = ray.get(refs)
            arrivals = [sim.now() - t0] * len(values)
            handled = [consumer.handle.remote(v) for v in values]
        else:
            pending = refs
            while pending:
                ready, pending = ray.wait(pending, num_returns=1)
                arrivals.append(sim.now() - t0)
                handled.append(consumer.handle.remote(ray.get(ready[0])))
        ray.get(handled)
        events = []
        for e in ray.timeline():
            if e.get("ph") == "X" and e["ts"] >= begin_us - 1e-3 and e.get("cat") in (
                    "task::job", "task::Consumer.handle"):
                events.append(dict(e, ts=e["ts"] - begin_us))
        ends = sorted(e["ts"] + e["dur"] for e in events if e["cat"] == "task::Consumer.handle")
        processed = tuple(round(t / 1e6, 9) for t in ends)
    finally:
        if started:
            ray.shutdown()
    return StrategyRun(strategy, durations, tuple(round(a, 9) for a in arrivals), processed, events)


def compare(straggler: float = 4.0, *, tasks: int = 8, consume: float = 0.25, seed: int = 0) -> dict[str, StrategyRun]:
    """Both strategies on the same tasks: {"get all": run, "wait loop": run}."""
    return {s: run_strategy(s, straggler, tasks=tasks, consume=consume, seed=seed) for s in STRATEGIES}


def comparison_rows(runs: dict[str, StrategyRun]) -> list[tuple[str, str, str, str]]:
    """(strategy, first result processed, mean, all processed), as text with units."""
    return [(name, f"{r.first:.2f} s", f"{r.mean:.2f} s", f"{r.total:.2f} s") for name, r in runs.items()]


def _table_html(runs: dict[str, StrategyRun]) -> str:
    head = "<tr><th>strategy</th><th>first result handled</th><th>mean</th><th>all handled</th></tr>"
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in comparison_rows(runs))
    return f"<table>{head}{body}</table>"


def plot_comparison(runs: dict[str, StrategyRun]) -> Any:
    """One Gantt chart per strategy, on one time axis, with a tick where each result was processed."""
    from matplotlib.figure import Figure

    from dsai.viz.gantt import plot_timeline

    fig = Figure(figsize=(10, 5.2))
    axes = fig.subplots(len(runs), 1, sharex=True)
    end = max(r.total for r in runs.values())
    for ax, (name, r) in zip(axes, runs.items()):
        plot_timeline(r.events, ax, origin=0.0, legend=ax is axes[0],
                      title=f"{name}: first result handled at {r.first:.2f} s, all at {r.total:.2f} s")
        for t in r.processed:
            ax.axvline(t, color="black", lw=0.8, ls=":", gid="processed")
        ax.set_xlabel("")
        ax.set_ylabel("worker")
    axes[-1].set_xlabel("virtual time since the first submission (s); dotted: a result handled")
    axes[-1].set_xlim(0, end * 1.02)
    fig.tight_layout()
    return fig


def straggler_widget(straggler: float = 4.0, *, tasks: int = 8, consume: float = 0.25) -> Any:
    """A straggler slider above the two measured timelines and the side-by-side table."""
    import ipywidgets as w

    from dsai.viz.amdahl import figure_png

    slider = w.FloatSlider(value=straggler, min=0.5, max=8.0, step=0.5, description="straggler (s)",
                           continuous_update=False, style={"description_width": "initial"})
    table = w.HTML()
    image = w.Image(format="png")

    def update(_: Any = None) -> None:
        runs = compare(slider.value, tasks=tasks, consume=consume)
        table.value = _table_html(runs)
        image.value = figure_png(plot_comparison(runs))

    slider.observe(update, names="value")
    box = w.VBox([slider, table, image])
    box.update = update  # so a notebook (or a test) can redraw
    update()
    return box


def max_in_flight(events: Iterable[dict], name: str | None = None) -> int:
    """The most task spans (of task `name`, e.g. "f" or "Actor.method") running at one instant.

    A span that ends exactly when another starts does not overlap it. Reads
    `ray.timeline()` of either backend (spans with cat "task::<name>").
    """
    points = []
    for e in events:
        if e.get("ph") != "X":
            continue
        cat = str(e.get("cat", ""))
        if not cat.startswith("task::") or (name is not None and cat != f"task::{name}"):
            continue
        # in whole nanoseconds: ts + dur in float microseconds can land a hair past the next
        # task's start (1.3e6 + 0.7e6 > 2e6), which would count a hand-over as an overlap
        start = round(float(e["ts"]) * 1000)
        points.append((start, 1))
        points.append((start + round(float(e["dur"]) * 1000), -1))
    points.sort()  # at equal times, -1 (an end) sorts before +1 (a start)
    now = best = 0
    for _, step in points:
        now += step
        best = max(best, now)
    return best


def list_schedule_makespan(durations: Iterable[float], workers: int) -> float:
    """Makespan when tasks start in order, each on the first of `workers` slots to free up
    (Graham's list scheduling): what a submitter that keeps `workers` tasks in flight achieves."""
    import heapq

    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise FuturesError(f"workers must be a whole number, at least 1, got {workers!r}")
    free = [0.0] * workers  # when each slot is next free
    end = 0.0
    for d in durations:
        start = heapq.heappop(free)
        heapq.heappush(free, start + float(d))
        end = max(end, start + float(d))
    return end
