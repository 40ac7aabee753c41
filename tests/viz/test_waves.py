"""The welcome widget: n equal tasks on c CPUs take ceil(n/c) waves, measured against the formula."""

from __future__ import annotations

import pytest

import dsai.mockray as ray
from dsai.viz import waves as T


@pytest.fixture(autouse=True)
def no_cluster():
    ray.shutdown()
    yield
    ray.shutdown()


@pytest.mark.parametrize("tasks", [1, 3, 4, 5, 8, 13, 16])
@pytest.mark.parametrize("cpus", [1, 2, 4, 8])
def test_measured_makespan_is_ceil_tasks_over_cpus_waves(tasks, cpus):
    run = T.run_tasks(tasks, cpus, 1.5)
    assert run.makespan == pytest.approx(T.waves_formula(tasks, cpus, 1.5))
    assert len([e for e in run.events if e["cat"] == "task::task"]) == tasks


def test_plot_title_has_measurement_and_formula():
    fig = T.plot_tasks(6, 4, 1.0)
    title = fig.axes[0].get_title()
    assert title == "6 tasks of 1 s on 4 CPUs: measured 2 s; formula ceil(6/4) x 1 s = 2 s"
    assert repr(T.run_tasks(6, 4, 1.0)) == "TasksRun(tasks=6, cpus=4, seconds=1.0, makespan=2.00 s)"


def test_widget_without_a_browser():
    box = T.tasks_widget(4, 2, 1.0)
    (tasks_w, cpus_w, secs_w), image = box.children[0].children, box.children[1]
    before = bytes(image.value)
    assert before.startswith(b"\x89PNG")
    cpus_w.value = 4
    assert bytes(image.value) != before


@pytest.mark.parametrize("bad, match", [(dict(tasks=0), "tasks must be"), (dict(cpus=1.5), "cpus must be"),
                                        (dict(seconds=-1), "seconds must be")])
def test_bad_arguments(bad, match):
    with pytest.raises(T.TasksError, match=match):
        T.run_tasks(**(dict(tasks=2, cpus=2, seconds=1.0) | bad))


def test_refuses_a_running_cluster():
    ray.init(num_cpus=1)
    with pytest.raises(T.TasksError, match="ray.shutdown"):
        T.run_tasks(3, 3, 0.5)
