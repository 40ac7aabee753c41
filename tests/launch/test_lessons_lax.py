"""Every student notebook runs where the student has no work to do (nbval, lax mode).

A release's exercise stubs raise by design; every other cell must run, on the simulator
(`make test`) and on real Ray (`make test-lessons-ray`, DSAI_BACKEND=ray). Lessons are
globbed from notebooks/, so a lesson merged later is covered with no edit here.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from _launch import REPO, lesson_report_json, report, student_lessons

BACKEND = "real Ray" if os.environ.get("DSAI_BACKEND", "").strip().lower() == "ray" else "the simulator"


@pytest.mark.parametrize("lesson", [p.name for p in student_lessons()] or ["no-lessons"])
def test_student_notebook_runs_lax(lesson):
    if lesson == "no-lessons":
        pytest.fail("no notebooks/*.ipynb to run")
    done = subprocess.run([sys.executable, str(REPO / "tests" / "launch" / "lax_lesson.py"),
                           str(REPO / "notebooks" / lesson)], capture_output=True, text=True)
    result = lesson_report_json(done.stdout)
    report(f"{lesson} on {BACKEND}: {result['passed']} cells passed, {result['failed']} "
           f"failed (lax, exercises excused)")
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
