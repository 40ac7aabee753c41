"""Lessons 00, 01 and 02 run on real Ray: every cell of each master executes without an error.

On the simulator `make test` already runs the masters under strict nbval; here
the same notebooks run with `DSAI_BACKEND=ray`, where cells that need the
simulator print why they are skipped (`course.needs_simulator`) and the
visible tests check what holds on wall-clock time. Each notebook starts its
own Ray cluster in its own kernel, so the shared cluster is stopped first.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LESSONS = ["00_welcome", "01_tasks_and_actors", "02_async_futures"]


@pytest.mark.ray_only(reason="the simulator runs these masters under strict nbval in make test")
@pytest.mark.own_cluster
@pytest.mark.parametrize("lesson", LESSONS)
def test_lesson_master_runs_on_real_ray(lesson):
    import nbformat
    from nbclient import NotebookClient

    from dsai import ray

    ray.shutdown()  # the kernel starts its own cluster; two at once overload a small machine
    path = REPO / "instructor" / "source" / lesson / f"{lesson}.ipynb"
    nb = nbformat.read(path, as_version=4)
    # The kernel inherits this process's environment: DSAI_BACKEND=ray, and RAY_ADDRESS=local
    # (set by conftest), so it starts a private cluster of its own.
    assert os.environ.get("DSAI_BACKEND") == "ray"
    NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    errors = [(c.metadata.get("nbgrader", {}).get("grade_id"), o["ename"], o["evalue"])
              for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert errors == [], errors
