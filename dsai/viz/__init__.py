"""dsai.viz: pictures of distributed runs (matplotlib and ipywidgets live only here).

`plot_timeline(events)` draws `ray.timeline()` as a Gantt chart.
`plot_spacetime(result)` draws a `dsai.cap` run as a space-time (Lamport) diagram;
`cap_explorer()` is the CAP lesson's widget (its callbacks are plain functions).
`amdahl_widget()` measures Amdahl's law on simulated clusters (lesson 01).
`straggler_widget()` races get-all against a ray.wait loop (lesson 02).
`tasks_widget()` shows n tasks on c CPUs in ceil(n/c) waves (lesson 00).
"""

from dsai.viz.amdahl import amdahl_speedup, amdahl_widget, plot_amdahl
from dsai.viz.cap_widget import cap_explorer, compare_modes, run_and_render
from dsai.viz.futures import max_in_flight, straggler_widget
from dsai.viz.gantt import plot_timeline
from dsai.viz.spacetime import plot_spacetime
from dsai.viz.waves import tasks_widget

__all__ = ["plot_timeline", "plot_spacetime", "cap_explorer", "run_and_render", "compare_modes"]
__all__ += ["amdahl_speedup", "amdahl_widget", "plot_amdahl", "straggler_widget", "max_in_flight", "tasks_widget"]
