"""Waves of tasks: n equal tasks on c CPUs finish in ceil(n / c) waves, measured on a simulated cluster.

The welcome lesson's widget, the smallest schedule there is: `tasks` tasks of
`seconds` each on `cpus` CPUs run in ceil(tasks / cpus) waves, so the
makespan is ceil(tasks / cpus) · seconds. `run_tasks` measures it on a fresh
simulated cluster (`dsai.mockray`, the virtual clock), `plot_tasks` draws the
run as a Gantt chart titled with the measurement beside the formula, and
`tasks_widget()` wires three sliders to them. The clusters are the widget's
own, so no lesson cluster may be running (`ray.shutdown()` first).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from dsai.errors import DsaiError

__all__ = ["TasksRun", "run_tasks", "waves_formula", "plot_tasks", "tasks_widget"]


class TasksError(DsaiError, ValueError):
    """A bad argument to the waves experiment (the message names it and the fix)."""


@dataclass(frozen=True)
class TasksRun:
    """`tasks` tasks of `seconds` each on `cpus` CPUs: the measured makespan (virtual s) and timeline."""

    tasks: int
    cpus: int
    seconds: float
    makespan: float
    events: list = field(repr=False, compare=False)

    def __repr__(self) -> str:
        return f"TasksRun(tasks={self.tasks}, cpus={self.cpus}, seconds={self.seconds}, makespan={self.makespan:.2f} s)"


def _whole(name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise TasksError(f"{name} must be a whole number from {low} to {high}, got {value!r}")
    return value


def waves_formula(tasks: int, cpus: int, seconds: float) -> float:
    """The makespan the formula predicts: ceil(tasks / cpus) waves of `seconds` each."""
    return math.ceil(tasks / cpus) * seconds


@lru_cache(maxsize=256)
def _run(tasks: int, cpus: int, seconds: float) -> TasksRun:
    import time

    import dsai.mockray as ray
    from dsai import sim

    if ray.is_initialized():
        raise TasksError("this experiment runs on its own simulated clusters, but a cluster is running; "
                         "call ray.shutdown() first")

    @ray.remote
    def task(i: int) -> int:
        time.sleep(seconds)  # stands in for `seconds` of work
        return i

    ray.init(num_cpus=cpus)
    try:
        t0 = sim.now()
        ray.get([task.remote(i) for i in range(tasks)])
        makespan = sim.now() - t0
        events = ray.timeline()
    finally:
        ray.shutdown()
    return TasksRun(tasks, cpus, seconds, round(makespan, 9), events)


def run_tasks(tasks: int = 8, cpus: int = 4, seconds: float = 1.0) -> TasksRun:
    """Submit `tasks` tasks of `seconds` each to a fresh cluster of `cpus` CPUs; measure the makespan."""
    _whole("tasks", tasks, 1, 64)
    _whole("cpus", cpus, 1, 64)
    if not isinstance(seconds, (int, float)) or not 0 < seconds <= 60:
        raise TasksError(f"seconds must be a number in (0, 60], got {seconds!r}")
    return _run(tasks, cpus, float(seconds))


def plot_tasks(tasks: int = 8, cpus: int = 4, seconds: float = 1.0) -> Any:
    """The run as a Gantt chart; the title puts the measured makespan beside the formula."""
    from matplotlib.figure import Figure

    from dsai.viz.gantt import plot_timeline

    run = run_tasks(tasks, cpus, seconds)
    fig = Figure(figsize=(9, 0.35 * cpus + 1.6))
    ax = fig.subplots()
    waves = math.ceil(tasks / cpus)
    plot_timeline(run.events, ax, legend=False, labels=True,
                  title=f"{tasks} tasks of {seconds:g} s on {cpus} CPUs: measured {run.makespan:g} s; "
                        f"formula ceil({tasks}/{cpus}) x {seconds:g} s = {waves_formula(tasks, cpus, seconds):g} s")
    ax.set_ylabel("CPU (worker)")
    ax.set_yticks(ax.get_yticks(), [f"worker {i + 1}" for i in range(len(ax.get_yticks()))])
    fig.tight_layout()
    return fig


def tasks_widget(tasks: int = 8, cpus: int = 4, seconds: float = 1.0) -> Any:
    """Sliders for tasks, CPUs and task length above the measured Gantt chart."""
    import ipywidgets as w

    from dsai.viz.amdahl import figure_png

    tasks_w = w.IntSlider(value=tasks, min=1, max=16, description="tasks", continuous_update=False)
    cpus_w = w.IntSlider(value=cpus, min=1, max=8, description="CPUs", continuous_update=False)
    secs_w = w.FloatSlider(value=seconds, min=0.5, max=3.0, step=0.5, description="seconds each",
                           continuous_update=False, style={"description_width": "initial"})
    image = w.Image(format="png")

    def update(_: Any = None) -> None:
        image.value = figure_png(plot_tasks(tasks_w.value, cpus_w.value, float(secs_w.value)))

    for control in (tasks_w, cpus_w, secs_w):
        control.observe(update, names="value")
    box = w.VBox([w.HBox([tasks_w, cpus_w, secs_w]), image])
    box.update = update  # so a notebook (or a test) can redraw
    update()
    return box
