"""Real nbgrader accepts our masters, and its release agrees with ours.

nbgrader is not a dependency: this test runs the executable named by the
environment variable ``NBGRADER``, installed in a separate virtualenv
(``.ci/run`` calls ``tests/grading/nbgrader_compat.sh``, which does)::

    python3 -m venv /tmp/dsai-nbgrader-venv
    /tmp/dsai-nbgrader-venv/bin/pip install --quiet nbgrader==0.9.6
    NBGRADER=/tmp/dsai-nbgrader-venv/bin/nbgrader \
        .venv/bin/python -m pytest tests/grading/test_grading_nbgrader_compat.py
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from dsai.grading import cells as C
from dsai.grading.release import find_masters, read_notebook, release_notebook

REPO = Path(__file__).resolve().parents[2]
NBGRADER = os.environ.get("NBGRADER", "")

pytestmark = pytest.mark.skipif(
    not NBGRADER, reason="NBGRADER is unset: set it to an nbgrader executable from a separate "
                         "virtualenv (pip install nbgrader==0.9.6) to run this check")


@pytest.fixture(scope="module")
def nbgrader_release(tmp_path_factory):
    course = tmp_path_factory.mktemp("course")
    shutil.copytree(REPO / "instructor", course, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("release", "gradebook.db", "*.log"))
    env = dict(os.environ)
    # nbgrader runs `alembic` from its own bin folder to create the gradebook.
    env["PATH"] = f"{Path(NBGRADER).parent}{os.pathsep}{env.get('PATH', '')}"
    lessons = [m.stem for m in find_masters(course / "source")]
    for lesson in lessons:
        done = subprocess.run([NBGRADER, "generate_assignment", lesson, "--force"], cwd=course,
                              env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, f"nbgrader rejected {lesson}:\n{done.stdout}\n{done.stderr}"
    return course, lessons


def test_nbgrader_generate_assignment_accepts_every_master(nbgrader_release):
    course, lessons = nbgrader_release
    for lesson in lessons:
        assert (course / "release" / lesson / f"{lesson}.ipynb").is_file()


def test_nbgrader_and_dsai_release_the_same_cells(nbgrader_release):
    course, lessons = nbgrader_release
    for lesson in lessons:
        theirs = read_notebook(course / "release" / lesson / f"{lesson}.ipynb")
        ours = release_notebook(read_notebook(course / "source" / lesson / f"{lesson}.ipynb"))
        assert [C.grade_id(c) for c in theirs.cells] == [C.grade_id(c) for c in ours.cells]
        for t, o in zip(theirs.cells, ours.cells):
            if C.role(o) in (C.ANSWER, C.MANUAL):
                # Same regions replaced; only the stub's message differs (ours has a hint).
                plain = re.sub(r"raise NotImplementedError\(.*\)", "raise NotImplementedError()",
                               o.source)
                assert plain == t.source, C.grade_id(o)
            else:
                assert o.source == t.source, C.grade_id(o)  # hidden tests removed alike
            if C.grade_id(o) and C.role(o) not in (C.ANSWER, C.MANUAL):
                # Same checksum algorithm: the grader's tamper check agrees with nbgrader's.
                assert o.metadata.nbgrader["checksum"] == t.metadata.nbgrader["checksum"]
