"""End to end on the real lessons: validate every master, grade a typical submission.

Runs `dsai.ray` (the simulator) in real grading sessions, one per test cell.
"""

from __future__ import annotations

import csv
from pathlib import Path

from dsai.grading import cells as C
from dsai.grading import grader, sandbox, validate
from dsai.grading.release import dumps, find_masters, read_notebook

REPO = Path(__file__).resolve().parents[2]
SOURCE = REPO / "instructor" / "source"
LESSON = "01_tasks_and_actors"


def test_every_master_passes_its_tests_and_every_release_fails_them():
    report = validate.validate_lessons(find_masters(SOURCE), timeout=60, jobs=2)
    assert LESSON in report
    assert report == {name: [] for name in report}, report


def test_a_typical_submission_gets_points_and_useful_feedback(tmp_path):
    nb = read_notebook(REPO / "notebooks" / f"{LESSON}.ipynb")
    answers = {
        # Forgot ray.get: a list of ObjectRefs.
        "square": "@ray.remote\ndef square(x):\n    return x * x\n\n"
                  "squares = [square.remote(i) for i in range(8)]",
        "counter": "@ray.remote\nclass Counter:\n    def __init__(self):\n        self.n = 0\n\n"
                   "    def add(self, n):\n        self.n += n\n        return self.n\n\n"
                   "    def get(self):\n        return self.n",
        # Fetched the value instead of keeping the ref.
        "pipeline": "data = np.arange(10.0)\ndata_ref = ray.put(data)\n"
                    "scaled_ref = scale.remote(data_ref, 2.0)\n"
                    "total_ref = ray.get(total.remote(scaled_ref))",
        # ray.get inside the loop: the tasks run one after another.
        "timing": "start = sim.now()\nfor i in range(4):\n    ray.get(work.remote(i))\n"
                  "task_seconds = sim.now() - start\nworker = Worker.remote()\n"
                  "start = sim.now()\nray.get([worker.work.remote(i) for i in range(4)])\n"
                  "actor_seconds = sim.now() - start",
    }
    for cell in nb.cells:
        if C.grade_id(cell) in answers:
            cell.source = answers[C.grade_id(cell)]
    path = tmp_path / "subs" / "ada" / f"{LESSON}.ipynb"
    path.parent.mkdir(parents=True)
    path.write_text(dumps(nb))
    # Issue 18: wrong answers that pass only if ray.get, ray.ObjectRef, sim.now and
    # check are the student's (the first grader gave such a notebook 10/10).
    blank = read_notebook(REPO / "notebooks" / f"{LESSON}.ipynb")
    forgeries = {
        "square": "import dsai.mockray, dsai.sim, dsai.grading, dsai.grading.checks\n"
                  "class Liar:\n    def __eq__(self, other):\n        return True\n"
                  "@ray.remote\ndef square(x):\n    return 0\n"
                  "squares = [0, 1, 4, 9, 16, 25, 36, 49]\n"
                  "ray.get = dsai.mockray.get = lambda refs, *a, **k: Liar()\n"
                  "ray.ObjectRef = dsai.mockray.ObjectRef = object\n"
                  "sim.now = dsai.sim.now = lambda: 1.0\n"
                  "check = dsai.grading.check = dsai.grading.checks.check = "
                  "lambda *a, **k: True",
        "counter": "@ray.remote\nclass Counter:\n    def add(self, n):\n        return 0\n"
                   "    def get(self):\n        return 0",
        "pipeline": "data = np.arange(10.0)\ndata_ref = scaled_ref = total_ref = object()",
    }
    for cell in blank.cells:
        if C.grade_id(cell) in forgeries:
            cell.source = forgeries[C.grade_id(cell)]
    forged = tmp_path / "subs" / "forger" / f"{LESSON}.ipynb"
    forged.parent.mkdir()
    forged.write_text(dumps(blank))
    out = tmp_path / "grades.csv"
    assert grader.main([str(tmp_path / "subs"), "--out", str(out), "--source", str(SOURCE),
                        "--timeout", "60"]
                       + ([] if sandbox.probe() is None else ["--trusted"])) == 0
    rows = list(csv.DictReader(out.open()))
    assert [r["score"] for r in rows if r["student"] == "forger"] == ["0"] * 5
    scores = {r["grade_id"]: r["score"] for r in rows if r["student"] == "ada"}
    assert scores == {"square-test": "0", "counter-test": "3", "pipeline-test": "0",
                      "timing-test": "0", "TOTAL": "3"}
    feedback = (tmp_path / "feedback" / "ada" / f"{LESSON}.md").read_text()
    assert "got a list of ObjectRefs; call ray.get(refs)" in feedback
    assert "total_ref should be an ObjectRef, not a value" in feedback
    assert "four tasks on four CPUs should take about 1 s, not 4.0 s" in feedback
    assert "BEGIN HIDDEN" not in feedback and "-45.0" not in feedback
