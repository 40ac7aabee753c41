"""The CAP widget's callbacks are plain functions: run, draw, tabulate, judge."""

from __future__ import annotations

from dsai.viz.cap_widget import (cap_explorer, compare_modes, metrics_html, metrics_rows, plot_comparison,
                                 run_and_render, verdict_text)
from dsai.viz.spacetime import count_gids


def test_run_and_render_cp_refuses_and_stays_linearizable():
    fig, metrics, verdict = run_and_render("cp", "partition", 1, ops=60)
    assert verdict["valid"] is True and verdict_text(verdict).startswith("linearizable")
    assert metrics["availability_by_side"]["minority"] < 0.5
    assert len(fig.axes) == 2 and count_gids(fig)["fault-partition"] == 1
    rows = dict(metrics_rows(metrics))
    assert rows["stale reads"] == "0" and rows["availability"].endswith("%")
    assert "<table>" in metrics_html(metrics)


def test_run_and_render_ap_answers_and_diverges():
    fig, metrics, verdict = run_and_render("ap-lww", "partition", 3)
    assert metrics["availability"] == 1.0 and metrics["availability_by_side"]["minority"] == 1.0
    assert verdict["valid"] is False
    assert verdict_text(verdict).startswith("NOT linearizable: ") and "not linearizable: " not in verdict_text(verdict)


def test_compare_modes_measures_the_tradeoff():
    table = compare_modes("partition", range(3), ops=50)
    assert table["cp"]["not_linearizable"] == 0.0 and table["cp"]["availability"] < 1.0
    assert table["ap-lww"]["availability"] == table["ap-vv"]["availability"] == 1.0
    assert table["ap-lww"]["not_linearizable"] > 0
    g = count_gids(plot_comparison(table))
    assert g["bar-availability"] == g["bar-not-linearizable"] == 3


def test_widget_runs_without_a_browser(monkeypatch):
    import dsai.viz.cap_widget as cw

    calls = []
    monkeypatch.setattr(cw, "run_and_render", lambda m, n, s: calls.append((m, n, s)) or
                        ("fig", {"availability": 1.0, "availability_by_side": {"majority": 1.0, "minority": 1.0},
                                 "latency": {"p50": 0.0, "p99": 0.0}, "counts": {}, "converged": True,
                                 "converge_time": 0.0, "stale_reads": 3, "lost_writes": 0, "acked_writes": 5,
                                 "sibling_reads": 0, "msgs_per_op": 2.0},
                         {"valid": False, "explanation": "not linearizable: boom", "ops": 9}))
    box = cap_explorer("ap-vv", "isolate", 7)
    box.run()
    assert calls == [("ap-vv", "isolate", 7)]
    verdict_html = box.children[1].value
    assert "NOT linearizable: boom" in verdict_html and "crimson" in verdict_html
    assert "stale reads" in box.children[2].children[1].value
