"""The fault widget's logic: one fault per run, its cost measured, drawn over virtual time."""

from __future__ import annotations

import pytest

from dsai.viz.ps_faults import FaultRunError, fault_explorer, fault_run, fault_summary, plot_fault_run
from dsai.viz.spacetime import count_gids


def test_no_fault_is_the_baseline():
    run = fault_run("none")
    r = run.result
    assert run.fault_time is None and r.lost_updates == 0 and not r.events
    assert r.gradients_by_worker() == {0: 60, 1: 60, 2: 60, 3: 60}
    assert dict(fault_summary(run))["fault"] == "none"


@pytest.mark.parametrize("fault", ["worker", "worker node"])
def test_a_dead_worker_stops_contributing_and_training_goes_on(fault):
    run = fault_run(fault, at_ms=20.0)
    by_worker = run.result.gradients_by_worker()
    assert 0 < by_worker[1] < 60 and by_worker[0] == by_worker[2] == by_worker[3] == 60
    assert run.result.test_accuracy > 0.85
    assert run.fault_time == pytest.approx(0.020, abs=0.0003)
    if fault == "worker node":
        assert run.fault_time == 0.020  # the node dies exactly then
    assert "worker 1" in run.result.events[0]


@pytest.mark.parametrize("every", [1, 5, 12, 20])
def test_a_restored_server_loses_less_than_one_checkpoint_interval(every):
    run = fault_run("server", at_ms=33.5, checkpoint_every=every)
    lost = run.result.lost_updates
    assert lost == 28 % every  # killed at version 28, restored from the last multiple of `every`
    assert 0 <= lost <= every - 1
    applied = [u.applied for u in sorted(run.result.history, key=lambda u: u.time)]
    drops = [a - b for a, b in zip(applied, applied[1:]) if b < a]
    # the last update before the kill was applied to version 27; the next one to the checkpoint's
    assert drops == ([lost - 1] if lost >= 2 else [])


def test_the_default_server_fault_loses_updates():
    run = fault_run()
    assert run.fault == "server" and run.result.lost_updates == 4  # measured: version 28, checkpoint 24
    rows = dict(fault_summary(run))
    assert rows["server updates lost"] == "4 (checkpoint every 12)"


def test_same_settings_same_run():
    a, b = fault_run("worker", 1.5), fault_run("worker", 1.5)
    assert [(u.worker, u.time, u.applied) for u in a.result.history] == \
        [(u.worker, u.time, u.applied) for u in b.result.history]


def test_the_figure_marks_the_fault_on_every_panel():
    run = fault_run("worker node", at_ms=2.5)
    fig = plot_fault_run(run)
    g = count_gids(fig)
    assert g["fault"] == 3 and g["version"] == 1 and g["loss-mean"] == 1
    gantt, loss, version = fig.axes
    assert [t.get_text() for t in gantt.get_yticklabels()] == ["head (driver)", "server 0", "worker 0",
                                                              "worker 1", "worker 2", "worker 3"]
    assert version.get_xlabel() == "virtual time (ms)" and "worker node killed at 2.50 ms" in gantt.get_title()


def test_bad_requests_say_what_to_fix():
    with pytest.raises(FaultRunError, match="unknown fault 'disk'"):
        fault_run("disk")
    with pytest.raises(FaultRunError, match="at_ms must be >= 0"):
        fault_run("worker", -1.0)
    with pytest.raises(FaultRunError, match="checkpoint_every must be a whole number"):
        fault_run("server", 1.0, 0)


def test_the_widget_runs_without_a_browser():
    box = fault_explorer("worker", 2.0, 6)
    box.run()
    html = box.children[1].value
    assert "worker at" in html and "<table>" in html
