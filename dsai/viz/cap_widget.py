"""The CAP lesson's widget: pick a mode, a nemesis and a seed; see the run, its metrics and the verdict.

Everything the widget does is a plain function, usable (and tested) without
a browser; `cap_explorer()` only wires ipywidgets controls to them:

* `run_and_render(mode, nemesis, seed)` -> (figure, metrics, verdict)
* `metrics_rows(metrics)` -> the table the widget shows, as (name, value) rows
* `verdict_text(verdict)` -> one line: linearizable or not, and why
* `compare_modes(nemesis, seeds)` -> per mode: availability, share of
  non-linearizable seeds, lost writes (the lesson's summary figure)
"""

from __future__ import annotations

from typing import Any

from dsai.cap import MODES, NEMESES, run
from dsai.viz.spacetime import spacetime

__all__ = ["run_and_render", "metrics_rows", "metrics_html", "verdict_text", "compare_modes",
           "plot_comparison", "cap_explorer"]


def run_and_render(mode: str = "cp", nemesis: str = "partition", seed: int = 0, *, ops: int = 100,
                   nodes: int = 5, window: tuple[float, float] | None = None,
                   gossip: bool = False) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """One seeded run, drawn: (space-time Figure, metrics dict, verdict dict with valid/explanation)."""
    result = run(mode=mode, nemesis=nemesis, seed=int(seed), ops=ops, nodes=nodes)
    fig = spacetime(result, window, gossip=gossip)
    v = result.verdict
    verdict = {"valid": v.valid, "explanation": v.explanation, "ops": v.ops}
    return fig, result.metrics, verdict


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.0f}%"


def metrics_rows(metrics: dict[str, Any]) -> list[tuple[str, str]]:
    """The metrics a student compares across modes, as (name, value) text rows."""
    side = metrics["availability_by_side"]
    lat = metrics["latency"]
    counts = ", ".join(f"{f} " + "/".join(str(row[k]) for k in ("ok", "fail", "info"))
                       for f, row in metrics["counts"].items())
    conv = f"{1000 * metrics['converge_time']:.0f} ms" if metrics["converged"] else "not converged"
    return [
        ("availability", _pct(metrics["availability"])),
        ("  majority side", _pct(side["majority"])),
        ("  minority side", _pct(side["minority"])),
        ("ops ok/fail/info", counts),
        ("stale reads", str(metrics["stale_reads"])),
        ("lost writes", f"{metrics['lost_writes']} of {metrics['acked_writes']}"),
        ("sibling reads", str(metrics["sibling_reads"])),
        ("messages / op", f"{metrics['msgs_per_op']:.1f}"),
        ("latency p50 / p99", "-" if lat["p50"] is None else f"{1000 * lat['p50']:.1f} / {1000 * lat['p99']:.1f} ms"),
        ("converged after heal", conv),
    ]


def metrics_html(metrics: dict[str, Any]) -> str:
    import html

    body = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>" for k, v in metrics_rows(metrics))
    return f"<table>{body}</table>"


def verdict_text(verdict: dict[str, Any]) -> str:
    """'linearizable ...' or 'NOT linearizable: <the checker's explanation>'."""
    valid = verdict["valid"]
    if valid is True:
        return f"linearizable: the checker found one order for all {verdict['ops']} operations"
    if valid is False:
        return "NOT linearizable: " + verdict["explanation"].removeprefix("not linearizable: ")
    return "unknown: " + verdict["explanation"]


def compare_modes(nemesis: str = "partition", seeds: range | list[int] = range(10), *,
                  modes: tuple[str, ...] = ("cp", "ap-lww", "ap-vv"), ops: int = 60) -> dict[str, dict[str, float]]:
    """Measured, per mode over `seeds`: mean availability (overall, minority side), the share of
    seeds whose history is not linearizable, and the total of stale reads and lost writes."""
    out = {}
    for mode in modes:
        runs = [run(mode=mode, nemesis=nemesis, seed=s, ops=ops) for s in seeds]
        minority = [r.metrics["availability_by_side"]["minority"] for r in runs]
        minority = [m for m in minority if m is not None]
        out[mode] = {
            "availability": round(sum(r.metrics["availability"] for r in runs) / len(runs), 4),
            "minority_availability": round(sum(minority) / len(minority), 4) if minority else None,
            "not_linearizable": round(sum(r.valid is False for r in runs) / len(runs), 4),
            "stale_reads": sum(r.metrics["stale_reads"] for r in runs),
            "lost_writes": sum(r.metrics["lost_writes"] for r in runs),
            "msgs_per_op": round(sum(r.metrics["msgs_per_op"] for r in runs) / len(runs), 2),
        }
    return out


def plot_comparison(table: dict[str, dict[str, float]]) -> Any:
    """Bars: availability and share of non-linearizable seeds, per mode (the CAP trade-off at a glance)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 3))
    ax = fig.subplots()
    modes = list(table)
    xs = range(len(modes))
    ax.bar([x - 0.2 for x in xs], [table[m]["availability"] for m in modes], 0.4, label="availability",
           color="#2ca02c", gid="bar-availability")
    ax.bar([x + 0.2 for x in xs], [table[m]["not_linearizable"] for m in modes], 0.4,
           label="seeds not linearizable", color="#d62728", gid="bar-not-linearizable")
    ax.set_xticks(list(xs), modes)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("mode")
    ax.set_ylabel("fraction (0 to 1)")
    ax.set_title("Under partitions: availability against consistency")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def cap_explorer(mode: str = "cp", nemesis: str = "partition", seed: int = 0) -> Any:
    """Controls (mode, nemesis, seed, Run) above the diagram, the metrics and the verdict."""
    import ipywidgets as w
    from IPython.display import display

    mode_w = w.Dropdown(options=[m for m in MODES], value=mode, description="mode")
    nemesis_w = w.Dropdown(options=list(NEMESES), value=nemesis, description="nemesis")
    seed_w = w.BoundedIntText(value=seed, min=0, max=10**6, description="seed")
    button = w.Button(description="Run", button_style="primary")
    verdict_w = w.HTML()
    metrics_w = w.HTML()
    out = w.Output()

    def on_run(_: Any = None) -> None:
        fig, metrics, verdict = run_and_render(mode_w.value, nemesis_w.value, seed_w.value)
        colour = "green" if verdict["valid"] is True else "crimson"
        verdict_w.value = f"<b style='color:{colour}'>{verdict_text(verdict)}</b>"
        metrics_w.value = metrics_html(metrics)
        out.clear_output(wait=True)
        with out:
            display(fig)

    button.on_click(on_run)
    box = w.VBox([w.HBox([mode_w, nemesis_w, seed_w, button]), verdict_w, w.HBox([out, metrics_w])])
    box.run = on_run  # so a notebook (or a test) can press Run
    return box
