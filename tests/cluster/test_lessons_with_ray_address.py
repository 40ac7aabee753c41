"""Lessons 01 and 03, unedited, on the two-node cluster that RAY_ADDRESS names (nbval, lax).

The kernel inherits RAY_ADDRESS, so the lesson's `course.start(num_cpus=4)`
joins the session's cluster instead of starting one: the job table shows the
kernel's driver connecting. Cells that need the simulator print why they skip;
exercise cells of the student version are excused (tests/launch/lax_lesson.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _jobs() -> int:
    from ray._private import state

    return len(state.jobs())


@pytest.mark.parametrize("lesson", ["01_tasks_and_actors", "03_data_parallelism"])
def test_lesson_runs_lax_on_the_cluster_ray_address_names(cluster, ray_on_cluster, lesson):
    before = _jobs()
    env = {**os.environ, "DSAI_BACKEND": "ray", "RAY_ADDRESS": cluster.address}
    done = subprocess.run([sys.executable, str(REPO / "tests" / "launch" / "lax_lesson.py"),
                           str(REPO / "notebooks" / f"{lesson}.ipynb")],
                          env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert _jobs() > before, "the lesson's kernel never joined the cluster at RAY_ADDRESS"
    alive = [n for n in ray_on_cluster.nodes() if n["Alive"]]
    assert len(alive) == 2  # it joined; it did not start a cluster of its own
