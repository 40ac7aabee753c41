"""A student's fresh copy runs: only exercise cells (stubs and the tests that need them) raise.

Strict nbval on the masters (make test) checks the outputs; this checks what a
student opens on Binder: every instruction, demo, figure and widget cell of
the released notebook runs before any exercise is done.
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LESSONS = ["00_welcome", "01_tasks_and_actors", "02_async_futures"]


@pytest.mark.parametrize("lesson", LESSONS)
def test_only_exercise_cells_fail_in_the_release(lesson, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.delenv("DSAI_BACKEND", raising=False)
    path = REPO / "notebooks" / f"{lesson}.ipynb"
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    failed = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        meta = cell.metadata.get("nbgrader", {})
        errors = [o for o in cell.outputs if o.output_type == "error"]
        if errors:
            failed[meta.get("grade_id")] = (meta.get("solution") or meta.get("grade"), errors[0]["ename"])
    not_exercises = {gid: err for gid, (exercise, err) in failed.items() if not exercise}
    assert not_exercises == {}, f"cells that are not exercises raised: {not_exercises}"
    assert failed, "the release should fail its exercise tests until they are answered"
