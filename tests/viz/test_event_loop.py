"""Blocking vs awaiting in an actor, measured on the simulator's virtual clock and compared with the formula."""

from __future__ import annotations

import math

import pytest

import dsai.mockray as ray
from dsai.viz import event_loop as E


@pytest.fixture(autouse=True)
def no_cluster():
    ray.shutdown()
    yield
    ray.shutdown()


CASES = [("async", b) for b in E.BODIES] + [("threaded", b) for b in E.BLOCKING]


@pytest.mark.parametrize("actor,body", CASES)
@pytest.mark.parametrize("calls,k", [(1, 8), (3, 8), (6, 8), (6, 2), (5, 1)])
def test_measured_makespan_matches_the_formula(actor, body, calls, k):
    run = E.run_calls(actor, body, calls, k, 0.5)
    assert len(run.spans) == calls
    assert run.makespan == pytest.approx(run.theory, abs=1e-9), run
    blocks_loop = actor == "async" and body in E.BLOCKING
    # calls that await a task all start; their tasks then queue for the 4 CPUs
    assert run.most_at_once == min(calls, 1 if blocks_loop else k), run


def test_blocking_the_loop_serialises_what_awaiting_overlaps():
    awaiting = E.run_calls("async", "await asyncio.sleep", 4, 8, 0.5)
    blocking = E.run_calls("async", "time.sleep", 4, 8, 0.5)
    assert awaiting.makespan == pytest.approx(0.5) and blocking.makespan == pytest.approx(2.0)
    starts = sorted(s for s, _ in blocking.spans)
    assert starts == pytest.approx([0.0, 0.5, 1.0, 1.5])  # each call starts when the previous one gives the loop back


def test_threads_overlap_blocking_calls_up_to_max_concurrency():
    assert E.run_calls("threaded", "time.sleep", 4, 4, 0.5).makespan == pytest.approx(0.5)
    assert E.run_calls("threaded", "time.sleep", 4, 1, 0.5).makespan == pytest.approx(2.0)  # a plain actor


def test_theory_formulas():
    assert E.theory_makespan("async", "time.sleep", 5, 8, 0.5) == 2.5
    assert E.theory_makespan("async", "ray.get", 5, 8, 0.5) == 2.5
    assert E.theory_makespan("async", "await asyncio.sleep", 5, 2, 0.5) == math.ceil(5 / 2) * 0.5
    assert E.theory_makespan("async", "await ref", 6, 8, 0.5, cpus=4) == 1.0  # the tasks need CPUs
    assert E.theory_makespan("threaded", "time.sleep", 6, 3, 1.0) == 2.0


def test_runs_are_deterministic_and_leave_the_lessons_cluster_running():
    ray.init(num_cpus=4)
    first = E.run_calls("async", "await ref", 6, 3, 0.5)
    assert ray.is_initialized()
    assert E.run_calls("async", "await ref", 6, 3, 0.5) == first


@pytest.mark.parametrize("kwargs,words", [
    (dict(actor="process"), "actor must be one of"),
    (dict(body="spin"), "body must be one of"),
    (dict(actor="threaded", body="await ref"), "cannot 'await ref'"),
    (dict(calls=0), "calls must be a whole number"),
    (dict(max_concurrency=True), "max_concurrency must be a whole number"),
    (dict(seconds=-1), "seconds must be"),
])
def test_bad_input_names_the_value_and_the_fix(kwargs, words):
    with pytest.raises(E.EventLoopError, match=words):
        E.run_calls(**kwargs)


def test_plot_has_one_bar_per_call_and_labels():
    run = E.run_calls("async", "time.sleep", 3, 8, 0.5)
    fig = E.plot_calls(run)
    ax = fig.axes[0]
    assert len(ax.patches) == 3
    assert "virtual time" in ax.get_xlabel() and "1.50 s" in ax.get_title()
    assert "3 calls" in E.summary_text(run) and "1.50 s measured" in E.summary_text(run)


def test_widget_redraws_when_a_control_changes():
    box = E.event_loop_widget(body="time.sleep", calls=4)
    (actor_w, body_w), (calls_w, conc_w) = box.children[0].children, box.children[1].children
    line, image = box.children[2], box.children[3]
    blocking_line, blocking_png = line.value, image.value
    assert "2.00 s measured" in blocking_line
    body_w.value = "await asyncio.sleep"
    assert "0.50 s measured" in line.value and image.value != blocking_png
    actor_w.value = "threaded"  # a threaded actor cannot await: the line says so, nothing crashes
    assert "cannot" in line.value
    body_w.value = "time.sleep"
    conc_w.value = 2
    assert "1.00 s measured" in line.value


def test_widget_offers_only_the_bodies_asked_for():
    box = E.event_loop_widget(body="time.sleep", bodies=("await asyncio.sleep", "time.sleep"))
    assert list(box.children[0].children[1].options) == ["await asyncio.sleep", "time.sleep"]
    with pytest.raises(E.EventLoopError, match="bodies must be some of"):
        E.event_loop_widget(body="ray.get", bodies=("time.sleep",))
