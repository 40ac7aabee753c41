"""Every lesson, unedited, on the two-node cluster that RAY_ADDRESS names (nbval, lax);
and one lesson with no RAY_ADDRESS, which starts a Ray of its own.

The kernel inherits RAY_ADDRESS, so the lesson's `course.start(num_cpus=4)`
joins the session's cluster instead of starting one: the job table shows the
kernel's driver connecting. Cells that need the simulator print why they skip;
exercise cells of the student version are excused (tests/launch/lax_lesson.py).
Lessons are globbed from notebooks/, so a lesson added later is covered with no
edit here. This is CI's only run of the lessons on real Ray (`make test-cluster`):
joining a running cluster spares each lesson the start of a Ray of its own.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LESSONS = sorted(p.stem for p in (REPO / "notebooks").glob("*.ipynb"))
# The lesson that also runs with no RAY_ADDRESS: its setup starts a one-node Ray, and its
# start_devices restarts that Ray with logical GPUs, the only lesson setup that differs there.
LOCAL_LESSON = "04_model_parallelism"


def _jobs() -> int:
    from ray._private import state

    return len(state.jobs())


def _run_lesson(lesson: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / "tests" / "launch" / "lax_lesson.py"),
                           str(REPO / "notebooks" / f"{lesson}.ipynb")],
                          env=env, capture_output=True, text=True, timeout=900)


def test_every_lesson_is_here():
    assert len(LESSONS) >= 7 and LOCAL_LESSON in LESSONS, LESSONS


@pytest.mark.parametrize("lesson", LESSONS)
def test_lesson_runs_lax_on_the_cluster_ray_address_names(cluster, ray_on_cluster, lesson):
    before = _jobs()
    env = {**os.environ, "DSAI_BACKEND": "ray", "RAY_ADDRESS": cluster.address}
    done = _run_lesson(lesson, env)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert _jobs() > before, "the lesson's kernel never joined the cluster at RAY_ADDRESS"
    alive = [n for n in ray_on_cluster.nodes() if n["Alive"]]
    assert len(alive) == 2  # it joined; it did not start a cluster of its own


def test_a_lesson_without_ray_address_starts_its_own_ray(cluster, ray_on_cluster):
    before = _jobs()
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    done = _run_lesson(LOCAL_LESSON, {**env, "DSAI_BACKEND": "ray"})
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    # Its ray.init(num_cpus=4) would have failed had it found and joined the session's cluster.
    assert _jobs() == before, "the lesson joined the session's cluster though RAY_ADDRESS was unset"
