"""dsai.viz: pictures of distributed runs (matplotlib and ipywidgets live only here).

`plot_timeline(events)` draws `ray.timeline()` as a Gantt chart.
`plot_spacetime(result)` draws a `dsai.cap` run as a space-time (Lamport) diagram;
`cap_explorer()` is the CAP lesson's widget (its callbacks are plain functions).
`plot_learning_curves` / `plot_staleness` draw parameter-server runs; `ps_explorer()`
is the data-parallelism lesson's widget.
`plot_traffic(runs)` draws measured all-reduce traffic as bars per node.
`plot_pipeline(run)` draws a measured pipeline schedule, `plot_memory(bars)` memory per device;
`model_parallel_explorer()` is the model-parallelism lesson's widget.
"""

from dsai.viz.cap_widget import cap_explorer, compare_modes, run_and_render
from dsai.viz.ps_plots import plot_learning_curves, plot_staleness
from dsai.viz.ps_widget import ps_explorer
from dsai.viz.gantt import plot_timeline
from dsai.viz.spacetime import plot_spacetime
from dsai.viz.traffic import plot_traffic, traffic_bars
from dsai.viz.memory_plot import measured_bars, plot_memory, zero_bars
from dsai.viz.mp_explorer import model_parallel_explorer, render_memory, render_schedule
from dsai.viz.pipeline_plot import plot_pipeline

__all__ = ["plot_timeline", "plot_spacetime", "cap_explorer", "run_and_render", "compare_modes",
           "plot_traffic", "traffic_bars"]
__all__ += ["plot_learning_curves", "plot_staleness", "ps_explorer"]
__all__ += ["plot_pipeline", "plot_memory", "zero_bars", "measured_bars", "model_parallel_explorer",
            "render_schedule", "render_memory"]
