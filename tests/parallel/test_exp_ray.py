"""dsai.parallel.exp_ray: the bubble read from real Ray's timeline, and the command's arguments.

(The comparison itself runs on a real cluster: `python tests/cluster/local_cluster.py
--nodes 2 -- dsai experiments --backend ray`, whose table README.md shows.)
"""

import pytest

from dsai.parallel.exp_ray import timeline_bubble
from dsai.parallel.experiments import main


def _span(tid, op, start_ms, dur_ms):
    return {"ph": "X", "cat": f"task::PipelineStage.{op}", "name": op, "tid": tid,
            "ts": start_ms * 1e3, "dur": dur_ms * 1e3}


def test_timeline_bubble_is_idle_stage_time_over_stages_times_makespan():
    # Stage a busy 0-30 ms, stage b busy 10-40 ms: makespan 40, busy 60 of 80 -> bubble 0.25.
    events = [_span("a", "forward", 0, 10), _span("a", "forward", 10, 10), _span("b", "forward", 10, 10),
              _span("b", "backward", 20, 10), _span("a", "backward", 20, 10), _span("b", "backward", 30, 10),
              {"ph": "X", "cat": "task::other", "name": "x", "tid": "c", "ts": 0, "dur": 1e9},
              _span("a", "forward", -100, 10)]  # before the run began: not counted
    bubble, makespan = timeline_bubble(events, since_us=0, stages=2, expected=6)
    assert bubble == pytest.approx(0.25)
    assert makespan == pytest.approx(0.040)


def test_timeline_bubble_says_when_steps_are_missing():
    with pytest.raises(RuntimeError, match="holds 1 stage steps since the run began, the schedule 4"):
        timeline_bubble([_span("a", "forward", 0, 1)], 0, stages=2, expected=4)


def test_backend_ray_runs_its_own_set_not_the_simulators_sections(capsys):
    assert main(["--backend", "ray", "--only", "allreduce"]) == 2
    assert "--backend ray runs its own set" in capsys.readouterr().err


def test_training_rows_have_sync_and_async_with_their_staleness():
    # The simulator's side of the comparison (the real side runs on a cluster).
    from dsai.parallel.exp_ray import STEPS, _training_rows

    rows = {r["mode"]: r for r in _training_rows(lambda line: None)}
    assert set(rows) == {"sync", "async"}
    for r in rows.values():
        assert r["gradients"] == 2 * STEPS and r["seconds_per_step"] > 0 and 0.1 < r["test_accuracy"] <= 1
    assert rows["sync"]["max_staleness"] == 0 and rows["sync"]["mean_staleness"] == 0
    assert rows["async"]["max_staleness"] >= 1 and rows["async"]["mean_staleness"] > 0
