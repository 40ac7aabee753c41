"""dsai.viz: pictures of distributed runs (matplotlib and ipywidgets live only here).

`plot_timeline(events)` draws `ray.timeline()` as a Gantt chart.
`plot_spacetime(result)` draws a `dsai.cap` run as a space-time (Lamport) diagram;
`cap_explorer()` is the CAP lesson's widget (its callbacks are plain functions).
`plot_traffic(runs)` draws measured all-reduce traffic as bars per node.
"""

from dsai.viz.cap_widget import cap_explorer, compare_modes, run_and_render
from dsai.viz.gantt import plot_timeline
from dsai.viz.spacetime import plot_spacetime
from dsai.viz.traffic import plot_traffic, traffic_bars

__all__ = ["plot_timeline", "plot_spacetime", "cap_explorer", "run_and_render", "compare_modes",
           "plot_traffic", "traffic_bars"]
