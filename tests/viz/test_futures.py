"""Get-all against a ray.wait loop, measured on the simulator and compared with queueing arithmetic."""

from __future__ import annotations

import time

import pytest

import dsai.mockray as ray
from dsai.viz import futures as F


@pytest.fixture(autouse=True)
def no_cluster():
    ray.shutdown()
    yield
    ray.shutdown()


def _single_server(arrivals, consume):
    """When one consumer, serving results in arrival order, finishes each: d_i = max(a_i, d_{i-1}) + c."""
    done, t = [], 0.0
    for a in arrivals:
        t = max(a, t) + consume
        done.append(t)
    return done


def test_durations_are_seeded_and_the_straggler_comes_first():
    d = F.task_durations(4.0, tasks=8, seed=0)
    assert d == F.task_durations(4.0, tasks=8, seed=0) and d[0] == 4.0 and len(d) == 8
    assert all(0.5 <= x <= 1.5 for x in d[1:])
    assert d != F.task_durations(4.0, tasks=8, seed=1)


@pytest.mark.parametrize("straggler", [0.5, 1.0, 2.5, 4.0, 8.0])
@pytest.mark.parametrize("seed", [0, 3])
def test_get_all_waits_for_the_straggler_and_the_wait_loop_does_not(straggler, seed):
    runs = F.compare(straggler, seed=seed)
    get_all, loop = runs["get all"], runs["wait loop"]
    jobs_end = max(e["ts"] + e["dur"] for e in get_all.events if e["cat"] == "task::job") / 1e6
    assert get_all.arrivals == pytest.approx([jobs_end] * 8)
    assert get_all.processed == pytest.approx(_single_server(get_all.arrivals, 0.25))
    assert get_all.first == pytest.approx(jobs_end + 0.25) and get_all.total == pytest.approx(jobs_end + 8 * 0.25)
    # the loop gets each result when its task ends, in that order
    ends = sorted(e["ts"] + e["dur"] for e in loop.events if e["cat"] == "task::job")
    assert loop.arrivals == pytest.approx([t / 1e6 for t in ends])
    assert loop.processed == pytest.approx(_single_server(loop.arrivals, 0.25))
    assert loop.first <= get_all.first and loop.total <= get_all.total and loop.mean < get_all.mean
    if straggler >= 4.0:  # everything else is processed while the straggler runs
        assert loop.total == pytest.approx(straggler + 0.25)


def test_runs_on_the_lessons_cluster_and_leaves_it_running():
    ray.init(num_cpus=4)

    @ray.remote
    def earlier():
        time.sleep(3.0)

    ray.get(earlier.remote())
    runs = F.compare(4.0)
    assert ray.is_initialized()
    assert {e["cat"] for e in runs["wait loop"].events} == {"task::job", "task::Consumer.handle"}
    assert min(e["ts"] for e in runs["wait loop"].events) == 0
    ray.shutdown()
    alone = F.compare(4.0)
    assert [r.processed for r in alone.values()] == [r.processed for r in runs.values()]


def test_rows_plot_and_repr():
    runs = F.compare(4.0)
    rows = F.comparison_rows(runs)
    assert rows[0] == ("get all", "4.25 s", "5.12 s", "6.00 s")
    assert rows[1][0] == "wait loop" and rows[1][1] == "0.80 s"
    assert repr(runs["wait loop"]).startswith("StrategyRun('wait loop', tasks=8, first=0.80 s")
    from dsai.viz.spacetime import count_gids

    fig = F.plot_comparison(runs)
    assert len(fig.axes) == 2 and count_gids(fig)["processed"] == 16
    assert "virtual time" in fig.axes[1].get_xlabel()


def test_widget_without_a_browser():
    box = F.straggler_widget(2.0)
    slider, table, image = box.children
    assert "<td>get all</td>" in table.value and bytes(image.value).startswith(b"\x89PNG")
    slider.value = 8.0
    assert "<td>10.00 s</td>" in table.value


@pytest.mark.parametrize("bad, match", [(dict(straggler=0), "straggler must be a positive"),
                                        (dict(tasks=1), "tasks must be a whole number"),
                                        (dict(strategy="get some"), "strategy must be one of"),
                                        (dict(consume=-1), "consume must be")])
def test_bad_arguments(bad, match):
    kwargs = dict(strategy="wait loop", straggler=1.0) | bad
    with pytest.raises(F.FuturesError, match=match):
        F.run_strategy(**kwargs)


def _span(name, start, dur):
    return {"ph": "X", "cat": f"task::{name}", "name": name, "pid": 1, "tid": 1, "ts": start * 1e6,
            "dur": dur * 1e6}


def test_max_in_flight():
    events = [_span("f", 0, 1), _span("f", 0.5, 1), _span("f", 1, 1), _span("g", 0.6, 1), {"ph": "M"}]
    assert F.max_in_flight(events, "f") == 2  # the first ends as the third starts
    assert F.max_in_flight(events) == 3
    assert F.max_in_flight([], "f") == 0
    # float microseconds: a span can end a hair after the start of the task that replaced it
    hand_over = [dict(_span("f", 0, 0), dur=2000000.0000000002), _span("f", 2.0, 1.0)]
    assert hand_over[0]["ts"] + hand_over[0]["dur"] > hand_over[1]["ts"]
    assert F.max_in_flight(hand_over, "f") == 1


def test_max_in_flight_on_a_run():
    ray.init(num_cpus=8)

    @ray.remote
    def f(i):
        time.sleep(1.0)
        return i

    ray.get([f.remote(i) for i in range(5)])
    assert F.max_in_flight(ray.timeline(), "f") == 5


def test_list_schedule_makespan_matches_a_bounded_run():
    assert F.list_schedule_makespan([1.0, 0.5, 2.0, 1.5], 2) == 2.5
    assert F.list_schedule_makespan([], 3) == 0.0
    with pytest.raises(F.FuturesError, match="workers must be"):
        F.list_schedule_makespan([1.0], 0)
    ray.init(num_cpus=4)

    @ray.remote
    def piece(s):
        time.sleep(s)
        return s

    from dsai import sim

    lengths = [1.0, 0.5, 2.0, 1.5, 0.5, 1.0, 1.0, 0.5, 2.5]
    for k in (1, 2, 3):
        t0 = sim.now()
        in_flight = []
        for d in lengths:
            if len(in_flight) >= k:
                _, in_flight = ray.wait(in_flight, num_returns=1)
            in_flight.append(piece.remote(d))
        ray.get(in_flight)
        spans = [e for e in ray.timeline() if e["ts"] >= t0 * 1e6]
        assert sim.now() - t0 == pytest.approx(F.list_schedule_makespan(lengths, k))
        assert F.max_in_flight(spans, "piece") == k
