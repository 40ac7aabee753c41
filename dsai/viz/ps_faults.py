"""A parameter server under fire: kill a worker, its node or the server mid-training and measure what it cost.

The fault-tolerance lesson's widget. Everything is a plain function, usable
and tested without a browser; `fault_explorer()` only wires controls to them:

* `fault_run(fault, at_ms, checkpoint_every)` trains `dsai.ps` on the digits
  on a fresh simulated cluster (a node per actor) and injects one fault about
  `at_ms` virtual milliseconds in:

  - ``"worker"``: Ray kills worker 1's actor (`PSConfig.kill_worker`); the
    others go on, and its shard of the data is no longer trained on;
  - ``"worker node"``: worker 1's whole node dies (`dsai.sim.kill_node`),
    exactly at `at_ms`; Ray reports the actor dead, as above;
  - ``"server"``: Ray kills the server and restarts it; its constructor loads
    the last checkpoint, saved every `checkpoint_every` versions, so the
    updates since then are lost (`PSConfig.kill_server`);
  - ``"none"``: the baseline.

  The `dsai.ps` kills count gradients, not seconds: `at_ms` is turned into
  the number of gradients a fault-free run had applied by then.
* `fault_summary(run)` -> the figures to compare, as (name, value) rows;
* `plot_fault_run(run)` -> the timeline, the training loss and the server's
  version over virtual time, with the fault marked (a restored server's
  version drops back to its checkpoint: the lost updates, visible).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any

from dsai.errors import DsaiError

__all__ = ["FAULTS", "FaultRun", "fault_run", "fault_summary", "plot_fault_run", "fault_explorer",
           "FaultRunError"]

FAULTS = ("none", "worker", "worker node", "server")
_WORKER = 1  # the worker the faults hit (any but 0 would do; 0 is the first in every order)


class FaultRunError(DsaiError, ValueError):
    """A fault run was asked for with a fault or a time it cannot inject."""


@dataclass
class FaultRun:
    """One training run with one fault: the result, the timeline, and when the fault struck."""

    fault: str
    at_ms: float
    checkpoint_every: int
    result: Any  # dsai.ps.TrainResult
    events: list = field(repr=False)  # ray.timeline() of the run
    fault_time: float | None  # virtual seconds since the run began; None: no fault happened

    def __repr__(self) -> str:
        when = "-" if self.fault_time is None else f"{1000 * self.fault_time:.2f} ms"
        return (f"<FaultRun {self.fault} at {when}: accuracy {self.result.test_accuracy:.1%}, "
                f"{len(self.result.history)} gradients applied, {self.result.lost_updates} updates lost>")


def _config(mode: str, steps: int, seed: int, checkpoint_every: int, **faults: Any) -> Any:
    from dsai.ps import PSConfig

    # softmax regression on the digits: small enough that a run answers a slider within a second
    return PSConfig(mode=mode, workers=4, steps=steps, hidden=(), seed=seed, eval_every=4,
                    checkpoint_every=checkpoint_every, **faults)


@functools.lru_cache(maxsize=16)
def _baseline_times(mode: str, steps: int, seed: int) -> tuple[float, ...]:
    """When each gradient was applied in the fault-free run (seconds since it began)."""
    from dsai.ps import simulate

    return tuple(sorted(u.time for u in simulate(_config(mode, steps, seed, 0)).history))


def _gradients_by(t: float, mode: str, steps: int, seed: int) -> int:
    times = _baseline_times(mode, steps, seed)
    return max(1, min(len(times) - 1, sum(x <= t for x in times)))


_WHEN = re.compile(r"\(t=([0-9.]+) s\)")


def fault_run(fault: str = "server", at_ms: float = 33.5, checkpoint_every: int = 12, *, mode: str = "sync",
              steps: int = 60, seed: int = 0) -> FaultRun:
    """Train with one fault about `at_ms` virtual milliseconds in; see the module docstring."""
    from dsai import ray, sim
    from dsai.ps import simulate, start_cluster, train

    if fault not in FAULTS:
        raise FaultRunError(f"unknown fault {fault!r}; choose one of {', '.join(map(repr, FAULTS))}")
    if not at_ms >= 0:
        raise FaultRunError(f"at_ms must be >= 0 virtual milliseconds, got {at_ms!r}")
    if isinstance(checkpoint_every, bool) or not isinstance(checkpoint_every, int) or checkpoint_every < 1:
        raise FaultRunError(f"checkpoint_every must be a whole number of server versions >= 1, got "
                            f"{checkpoint_every!r}")
    at = at_ms / 1000.0
    faults: dict[str, Any] = {}
    if fault == "worker":
        faults["kill_worker"] = (_WORKER, _gradients_by(at, mode, steps, seed))
    elif fault == "server":
        faults["kill_server"] = (0, _gradients_by(at, mode, steps, seed))
    cfg = _config(mode, steps, seed, checkpoint_every, **faults)
    if fault == "worker node":
        names = start_cluster(cfg)  # head, the server, then the workers: one node each
        sim.at(sim.now() + at, sim.kill_node, names[1 + cfg.shards + _WORKER])
        result = train(cfg)
    else:
        result = simulate(cfg)
    when = None
    if fault == "worker node":
        when = at  # the node died exactly then (the driver notices at its next report)
    elif fault != "none":
        found = [float(m.group(1)) for e in result.events for m in [_WHEN.search(e)] if m]
        when = found[0] if found else None
    return FaultRun(fault, float(at_ms), checkpoint_every, result, ray.timeline(), when)


def fault_summary(run: FaultRun) -> list[tuple[str, str]]:
    """What a fault cost, measured: (name, value) rows."""
    r = run.result
    by_worker = r.gradients_by_worker()
    return [
        ("fault", "none" if run.fault_time is None else f"{run.fault} at {1000 * run.fault_time:.2f} ms"),
        ("test accuracy", f"{r.test_accuracy:.1%}"),
        ("gradients applied", f"{len(r.history)} (worker {_WORKER}: {by_worker.get(_WORKER, 0)})"),
        ("server updates lost", f"{r.lost_updates} (checkpoint every {run.checkpoint_every})"
         if run.fault == "server" else str(r.lost_updates)),
        ("training time", f"{1000 * r.seconds:.2f} ms (virtual)"),
    ]


def _ms_axis(ax: Any) -> None:
    from matplotlib.ticker import FuncFormatter

    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{1000 * x:g}"))


_TASK_COLORS = {"Worker.step": "#1f77b4", "ParameterServer.push": "#ff7f0e"}


def _role(node: str, cfg: Any) -> str:
    """What runs on a node of `dsai.ps.start_cluster`'s cluster: head, server shards, then workers."""
    if node == "head":
        return "head (driver)"
    m = re.fullmatch(r"node-(\d+)", node)
    if not m:
        return node
    i = int(m.group(1)) - 1
    return f"server {i}" if i < cfg.shards else f"worker {i - cfg.shards}"


def _draw_timeline(ax: Any, events: list, cfg: Any) -> None:
    """A compact Gantt chart: one row per node, one broken bar per task name and outcome (fast to draw)."""
    from matplotlib.patches import Patch

    from dsai.viz.gantt import timeline_bars

    rows, bars = timeline_bars(events)
    nodes = sorted({row.node for row in rows}, key=lambda n: (n != "head", len(n), n))
    y = {n: i for i, n in enumerate(nodes)}
    groups: dict[tuple[int, str, bool], list] = {}
    for b in bars:
        killed = b.status in ("killed", "failed")
        groups.setdefault((y[rows[b.row].node], b.name, killed), []).append((b.start, b.duration))
    for (i, name, killed), spans in sorted(groups.items()):
        ax.broken_barh(spans, (i - 0.4, 0.8), facecolors=_TASK_COLORS.get(name, "#bbbbbb"),
                       edgecolor="#d62728" if killed else "none", hatch="xx" if killed else None,
                       lw=1.2 if killed else 0, gid="attempt-killed" if killed else "attempts")
    ax.set_yticks(range(len(nodes)), [_role(n, cfg) for n in nodes])
    ax.set_ylim(len(nodes) - 0.5, -0.5)
    handles = [Patch(facecolor=c, label=n) for n, c in _TASK_COLORS.items()]
    handles.append(Patch(facecolor="white", edgecolor="#d62728", hatch="xx", label="killed"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)


def plot_fault_run(run: FaultRun) -> Any:
    """Three panels over virtual time (ms): the timeline, the training loss, the server's version."""
    import numpy as np
    from matplotlib.figure import Figure

    from dsai.viz.spacetime import _show_figures_in_notebooks

    _show_figures_in_notebooks()
    r = run.result
    fig = Figure(figsize=(10, 7.5))
    gantt, loss_ax, version_ax = fig.subplots(3, 1, sharex=True, gridspec_kw={"height_ratios": [3, 2, 2]})
    _draw_timeline(gantt, run.events, r.config)
    what = "no fault" if run.fault_time is None else f"{run.fault} killed at {1000 * run.fault_time:.2f} ms"
    gantt.set_title(f"Parameter server ({r.config.mode}, {r.config.workers} workers): {what}")

    times = np.array([u.time for u in r.history])
    losses = np.array([u.loss for u in r.history])
    order = np.argsort(times, kind="stable")
    times, losses = times[order], losses[order]
    known = np.isfinite(losses)  # a worker that died mid-step never reported its gradient's loss
    loss_times, losses = times[known], losses[known]
    loss_ax.plot(loss_times, losses, ".", ms=2, color="#9ecae1", label="mini-batch loss", gid="loss-points")
    if len(losses) >= 8:
        k = 8
        smooth = np.convolve(losses, np.ones(k) / k, mode="valid")
        loss_ax.plot(loss_times[k - 1:], smooth, color="#08519c", label="mean of the last 8", gid="loss-mean")
    loss_ax.set_ylabel("training loss\n(cross-entropy)")
    loss_ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)

    applied = np.array([u.applied for u in r.history])[order] + 1
    version_ax.step(times, applied, where="post", color="#2ca02c", gid="version")
    version_ax.set_ylabel("server version\n(updates applied)")
    version_ax.set_xlabel("virtual time (ms)")
    for ax in (gantt, loss_ax, version_ax):
        if run.fault_time is not None:
            ax.axvline(run.fault_time, color="#d62728", ls="--", lw=1.2, gid="fault")
        ax.grid(axis="x", alpha=0.3)
        _ms_axis(ax)
    if r.lost_updates:
        version_ax.annotate(f"{r.lost_updates} updates lost", (run.fault_time, applied.max()),
                            xytext=(8, -14), textcoords="offset points", color="#d62728", fontsize=9)
    fig.subplots_adjust(left=0.13, right=0.8, top=0.95, bottom=0.07, hspace=0.12)  # no tight_layout: one draw less
    return fig


def fault_explorer(fault: str = "server", at_ms: float = 33.5, checkpoint_every: int = 12) -> Any:
    """Controls (fault, when, checkpoint interval) above the three panels and the measured costs."""
    import html

    import ipywidgets as w
    from IPython.display import display

    end_ms = 1000 * _baseline_times("sync", 60, 0)[-1]
    fault_w = w.Dropdown(options=list(FAULTS), value=fault, description="kill")
    at_w = w.FloatSlider(value=at_ms, min=0.0, max=round(end_ms, 1), step=0.1, description="at (ms)",
                         continuous_update=False, readout_format=".1f")
    every_w = w.IntSlider(value=checkpoint_every, min=1, max=40, description="checkpoint every",
                          continuous_update=False, style={"description_width": "initial"})
    summary_w = w.HTML()
    out = w.Output()

    def on_change(_: Any = None) -> None:
        run = fault_run(fault_w.value, at_w.value, every_w.value)
        rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>" for k, v in fault_summary(run))
        summary_w.value = f"<table>{rows}</table>"
        out.clear_output(wait=True)
        with out:
            display(plot_fault_run(run))

    for control in (fault_w, at_w, every_w):
        control.observe(on_change, names="value")
    box = w.VBox([w.HBox([fault_w, at_w, every_w]), summary_w, out])
    box.run = on_change  # so a notebook (or a test) can draw the current setting
    return box
