"""dsai.viz: pictures of distributed runs (matplotlib and ipywidgets live only here).

`plot_timeline(events)` draws `ray.timeline()` as a Gantt chart.
"""

from dsai.viz.gantt import plot_timeline

__all__ = ["plot_timeline"]
