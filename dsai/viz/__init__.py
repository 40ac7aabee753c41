"""dsai.viz: pictures of distributed runs (matplotlib and ipywidgets live only here).

`plot_timeline(events)` draws `ray.timeline()` as a Gantt chart.
`plot_spacetime(result)` draws a `dsai.cap` run as a space-time (Lamport) diagram;
`cap_explorer()` is the CAP lesson's widget, `fault_explorer()` the fault-tolerance
lesson's (their callbacks are plain functions).
`plot_learning_curves` / `plot_staleness` draw parameter-server runs; `ps_explorer()`
is the data-parallelism lesson's widget.
`plot_traffic(runs)` draws measured all-reduce traffic as bars per node.
`amdahl_widget()` measures Amdahl's law on simulated clusters (lesson 01).
`straggler_widget()` races get-all against a ray.wait loop (lesson 02);
`event_loop_widget()` times blocking vs awaiting calls on async and threaded actors (lesson 02).
`tasks_widget()` shows n tasks on c CPUs in ceil(n/c) waves (lesson 00).
`plot_pipeline(run)` draws a measured pipeline schedule, `plot_memory(bars)` memory per device;
`model_parallel_explorer()` is the model-parallelism lesson's widget.
"""

from dsai.viz.amdahl import amdahl_speedup, amdahl_widget, plot_amdahl
from dsai.viz.cap_widget import cap_explorer, compare_modes, run_and_render
from dsai.viz.faults import attempt_counts, timeline_figure
from dsai.viz.event_loop import event_loop_widget
from dsai.viz.futures import max_in_flight, straggler_widget
from dsai.viz.gantt import plot_timeline
from dsai.viz.memory_plot import measured_bars, plot_memory, zero_bars
from dsai.viz.mp_explorer import model_parallel_explorer, render_memory, render_schedule
from dsai.viz.pipeline_plot import plot_pipeline
from dsai.viz.ps_faults import fault_explorer, fault_run, plot_fault_run
from dsai.viz.ps_plots import plot_learning_curves, plot_staleness
from dsai.viz.ps_widget import ps_explorer
from dsai.viz.quorums import pacelc_latencies, plot_latencies, plot_quorum_grid, quorum_grid
from dsai.viz.spacetime import plot_spacetime
from dsai.viz.traffic import plot_traffic, traffic_bars
from dsai.viz.waves import tasks_widget

__all__ = [
    "amdahl_speedup", "amdahl_widget", "plot_amdahl", "cap_explorer", "compare_modes",
    "run_and_render", "attempt_counts", "timeline_figure", "max_in_flight", "straggler_widget",
    "plot_timeline", "measured_bars", "plot_memory", "zero_bars", "model_parallel_explorer",
    "render_memory", "render_schedule", "plot_pipeline", "fault_explorer", "fault_run",
    "plot_fault_run", "plot_learning_curves", "plot_staleness", "ps_explorer",
    "pacelc_latencies", "plot_latencies", "plot_quorum_grid", "quorum_grid", "plot_spacetime",
    "plot_traffic", "traffic_bars", "tasks_widget", "event_loop_widget",
]
