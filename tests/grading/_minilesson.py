"""A tiny synthetic lesson in nbgrader format, and ways to mangle its submissions.

The grading tests run on this instead of a real lesson: it needs nothing but
the standard library in the kernel, so each submission costs one kernel start.
"""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from dsai.grading.release import dumps, release_notebook

LESSON = "mini"
SECRET = "SECRET-HIDDEN-MSG"  # appears only in a hidden test


def _meta(gid: str, *, grade=False, solution=False, locked=False, points=None) -> dict:
    meta = {"grade": grade, "grade_id": gid, "locked": locked, "schema_version": 3,
            "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def master() -> nbformat.NotebookNode:
    cells = [
        new_markdown_cell("# A mini lesson\n\nThree small exercises."),
        new_code_cell("import math\nfrom dsai.grading import check",
                      metadata=_meta("setup", locked=True)),
        new_markdown_cell("Write `square(x)`."),
        new_code_cell("def square(x):\n    # BEGIN SOLUTION multiply x by itself\n"
                      "    return x * x\n    # END SOLUTION",
                      metadata=_meta("square", solution=True)),
        new_code_cell('check(square(3), 9, name="square(3)", hint="multiply x by itself")\n'
                      "assert square(-2) == 4\n"
                      "# BEGIN HIDDEN TESTS\n"
                      f'assert square(12) == 144, "{SECRET}"\n'
                      "# END HIDDEN TESTS",
                      metadata=_meta("square-test", grade=True, locked=True, points=2)),
        new_markdown_cell("Write `evens(n)`: the even numbers below `n`."),
        new_code_cell("# BEGIN SOLUTION\ndef evens(n):\n    return list(range(0, n, 2))\n"
                      "# END SOLUTION",
                      metadata=_meta("evens", solution=True)),
        new_code_cell("assert evens(5) == [0, 2, 4]\n# BEGIN HIDDEN TESTS\n"
                      "assert evens(0) == []\nassert evens(7) == [0, 2, 4, 6]\n"
                      "# END HIDDEN TESTS",
                      metadata=_meta("evens-test", grade=True, locked=True, points=3)),
        new_markdown_cell("Write `parts()`, returning 1, 2 and 3 (partial credit)."),
        new_code_cell("def parts():\n    # BEGIN SOLUTION\n    return [1, 2, 3]\n"
                      "    # END SOLUTION",
                      metadata=_meta("parts", solution=True)),
        new_code_cell("got = parts()\nsum(x in got for x in [1, 2, 3]) * 2 / 3",
                      metadata=_meta("parts-test", grade=True, locked=True, points=2)),
        new_markdown_cell("Why do tasks need no locks? (graded by hand)",
                          metadata=_meta("why-q", locked=True)),
        new_markdown_cell("They share no state.",
                          metadata=_meta("why", grade=True, solution=True, points=1)),
    ]
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    return nb


def write_master(source: Path, nb=None, name: str = LESSON) -> Path:
    path = source / name / f"{name}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps(nb if nb is not None else master()), encoding="utf-8")
    return path


class Student:
    """A released notebook to fill in, as a student would."""

    def __init__(self) -> None:
        self.nb = release_notebook(master(), LESSON)

    def cell(self, gid: str):
        return next(c for c in self.nb.cells
                    if c.metadata.get("nbgrader", {}).get("grade_id") == gid)

    def answer(self, gid: str, source: str) -> "Student":
        self.cell(gid).source = source
        return self

    def solve_all(self) -> "Student":
        for c in master().cells:
            meta = c.metadata.get("nbgrader", {})
            if meta.get("solution") and c.cell_type == "code":
                self.answer(meta["grade_id"], c.source.replace("# BEGIN SOLUTION", "#")
                            .replace("# END SOLUTION", "#"))
        return self

    def delete(self, gid: str) -> "Student":
        self.nb.cells.remove(self.cell(gid))
        return self

    def add_after(self, gid: str, cell) -> "Student":
        self.nb.cells.insert(self.nb.cells.index(self.cell(gid)) + 1, cell)
        return self

    def copy_cell(self, gid: str, source: str) -> "Student":
        dup = copy.deepcopy(self.cell(gid))  # Jupyter's copy keeps the metadata...
        dup.source = source
        dup["id"] = f"copy-of-{gid}"  # ...and gives the cell a new id
        return self.add_after(gid, dup)

    def write(self, root: Path, student: str) -> Path:
        path = root / student / f"{LESSON}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dumps(self.nb), encoding="utf-8")
        return path
