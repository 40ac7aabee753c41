"""The data-parallelism lesson's widget: change the cluster, re-run the parameter server, see the cost.

Everything the widget does is a plain function, usable (and tested) without
a browser; `ps_explorer()` only wires ipywidgets sliders to them:

* `explore(mode, workers, shards, staleness, slowdown, bandwidth)` -> one
  seeded simulation on a fresh cluster (worker 0 is the straggler, slowed
  `slowdown` times; every node's link carries `bandwidth` Mbit/s), returned
  as a `TrainResult`
* `summary_rows(result)` -> the table beside the plots, as (name, value) rows
* `run_and_render(...)` -> (Figure with the learning curve and the staleness
  histogram, rows): what one slider change shows

Every pull and push crosses the simulated network and costs latency +
bytes / bandwidth (the weights and a gradient are 19 KB each), so on a slow
network the server's link, not the workers, sets the pace: the bandwidth
slider shows the virtual time grow as the link narrows.
"""

from __future__ import annotations

from typing import Any

from dsai.viz.ps_plots import plot_learning_curves, plot_staleness

__all__ = ["explore", "summary_rows", "run_and_render", "ps_explorer", "EXPLORER_STEPS"]

EXPLORER_STEPS = 60  # gradients per worker in a widget run: enough to see the curves part, and fast
BANDWIDTH_MBITS = 10_000.0  # the simulator's default link: 10 Gbit/s


def explore(mode: str = "ssp", workers: int = 4, shards: int = 1, staleness: int = 2,
            slowdown: float = 4.0, bandwidth: float = BANDWIDTH_MBITS, *, steps: int = EXPLORER_STEPS,
            seed: int = 0) -> Any:
    """One seeded parameter-server run on a fresh simulated cluster; worker 0 is the straggler.

    `bandwidth` is each node's link in Mbit/s. The staleness bound only
    applies to mode "ssp" (it is ignored otherwise).
    """
    from dsai import ps

    if isinstance(bandwidth, bool) or not isinstance(bandwidth, (int, float)) or not bandwidth > 0:
        raise ps.PSConfigError(f"bandwidth must be a positive number of Mbit/s (10000 is 10 Gbit/s), "
                               f"got {bandwidth!r}")
    config = ps.PSConfig(mode=mode, workers=int(workers), shards=int(shards),
                         staleness=int(staleness) if mode == "ssp" else 0, steps=steps, seed=seed)
    slow = {0: float(slowdown)} if slowdown != 1.0 else None
    return ps.simulate(config, slowdown=slow, bandwidth=float(bandwidth) * 1e6 / 8)  # bytes/s


def summary_rows(result: Any) -> list[tuple[str, str]]:
    """What the student compares across settings, as (name, value) text rows."""
    c = result.config
    by = result.gradients_by_worker()
    t95 = result.time_to_accuracy(0.95)
    return [
        ("run", c.describe()),
        ("test accuracy", f"{100 * result.test_accuracy:.1f}%"),
        ("virtual time", f"{1000 * result.seconds:.1f} ms"),
        ("time to 95%", "not reached" if t95 is None else f"{1000 * t95:.1f} ms"),
        ("gradients applied", str(len(result.history))),
        ("from the straggler (worker 0)", f"{by.get(0, 0)} of {len(result.history)}"),
        ("max staleness", str(result.max_staleness)),
        ("mean staleness", f"{result.staleness.mean():.2f}" if len(result.history) else "-"),
    ]


def summary_html(result: Any) -> str:
    import html

    body = "".join(f"<tr><td>{html.escape(k)}</td><td><b>{html.escape(v)}</b></td></tr>"
                   for k, v in summary_rows(result))
    return f"<table>{body}</table>"


def run_and_render(mode: str = "ssp", workers: int = 4, shards: int = 1, staleness: int = 2,
                   slowdown: float = 4.0, bandwidth: float = BANDWIDTH_MBITS, *, steps: int = EXPLORER_STEPS,
                   seed: int = 0) -> tuple[Any, list[tuple[str, str]]]:
    """One slider change: run, then draw the learning curve and the staleness histogram side by side."""
    from matplotlib.figure import Figure

    result = explore(mode, workers, shards, staleness, slowdown, bandwidth, steps=steps, seed=seed)
    fig = Figure(figsize=(10, 3.4))
    left, right = fig.subplots(1, 2)
    label = result.config.describe().split(",")[0] if mode != "ssp" else f"ssp s={result.config.staleness}"
    plot_learning_curves({label: result}, target=0.95, ax=left,
                         title=f"{workers} workers, worker 0 slowed {slowdown:g}x, {_mbits(bandwidth)} links")
    plot_staleness({label: result}, ax=right)
    fig.tight_layout()
    return fig, summary_rows(result)


def _mbits(bandwidth: float) -> str:
    return f"{bandwidth / 1000:g} Gbit/s" if bandwidth >= 1000 else f"{bandwidth:g} Mbit/s"


def ps_explorer(mode: str = "ssp", workers: int = 4, shards: int = 1, staleness: int = 2,
                slowdown: float = 4.0, bandwidth: float = BANDWIDTH_MBITS) -> Any:
    """Sliders (workers, shards, staleness bound, straggler slowdown, link bandwidth) and a
    mode menu above the plots; each change re-runs the seeded simulation and redraws."""
    import ipywidgets as w

    style = {"description_width": "150px"}
    still = {"continuous_update": False}  # each change reruns the simulation: once, where the drag ends
    mode_w = w.Dropdown(options=["sync", "ssp", "async"], value=mode, description="mode", style=style)
    workers_w = w.IntSlider(value=workers, min=1, max=8, description="workers", style=style, **still)
    shards_w = w.IntSlider(value=shards, min=1, max=4, description="server shards", style=style, **still)
    stale_w = w.IntSlider(value=staleness, min=0, max=8, description="staleness bound s", style=style, **still)
    slow_w = w.FloatSlider(value=slowdown, min=1.0, max=8.0, step=0.5,
                           description="worker 0 slowdown (x)", style=style, **still)
    # a log scale: from a congested 10 Mbit/s to the default 10 Gbit/s, a decade a notch apart
    band_w = w.SelectionSlider(options=[("10 Mbit/s", 10.0), ("100 Mbit/s", 100.0), ("1 Gbit/s", 1000.0),
                                        ("10 Gbit/s", 10_000.0)],
                               value=float(bandwidth), description="link bandwidth", style=style, **still)
    table = w.HTML()
    out = w.Output()

    def on_change(_: Any = None) -> None:
        fig, _rows = run_and_render(mode_w.value, workers_w.value, shards_w.value, stale_w.value,
                                    slow_w.value, band_w.value)
        stale_w.disabled = mode_w.value != "ssp"
        result_rows = "".join(f"<tr><td>{k}</td><td><b>{v}</b></td></tr>" for k, v in _rows)
        table.value = f"<table>{result_rows}</table>"
        box.figure = fig  # the latest drawing, so a notebook can store a static copy
        # Set the Output's content directly (no capture): the same whether or not a
        # front end is listening, so a saved notebook re-runs to the same outputs.
        out.outputs = ()
        out.append_display_data(fig)

    controls = [mode_w, workers_w, shards_w, stale_w, slow_w, band_w]
    for c in controls:
        c.observe(on_change, names="value")
    box = w.VBox([w.HBox([w.VBox(controls[:3]), w.VBox(controls[3:])]), w.HBox([out, table])])
    box.figure = None
    box.run = on_change  # so a notebook (or a test) can trigger a redraw
    box.controls = dict(zip(["mode", "workers", "shards", "staleness", "slowdown", "bandwidth"], controls))
    on_change()
    return box
