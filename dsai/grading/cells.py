"""Cells with roles: a lesson master is a contract between author, student and grader.

A master notebook uses nbgrader's cell metadata (schema version 3) so that an
instructor who has nbgrader can run its commands on the same files. Each cell
plays one role:

======== ============================================ =========================
role     nbgrader metadata                            what happens to it
======== ============================================ =========================
answer   ``solution: true, grade: false``             student writes code here
test     ``grade: true, solution: false`` (code)      restored, run, scored
manual   ``grade: true, solution: true``              scored by a human
readonly ``locked: true``                             restored, run as written
task     ``task: true`` (markdown)                    scored by a human
plain    no ``nbgrader`` metadata                     instructions (markdown)
======== ============================================ =========================

Markers inside cells, one per line, single ``#`` as in the issue (any number
of ``#`` is accepted, as nbgrader does)::

    # BEGIN SOLUTION  optional hint shown to the student
    ...the answer...
    # END SOLUTION

    # BEGIN HIDDEN TESTS
    ...tests the student never sees...
    # END HIDDEN TESTS

The checksum is nbgrader's own (`nbgrader.utils.compute_checksum`), so the
two tools agree on which cells were tampered with.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from nbformat import NotebookNode

from dsai.errors import GradingError

__all__ = [
    "ANSWER", "TEST", "MANUAL", "READONLY", "TASK", "PLAIN",
    "role", "grade_id", "points", "compute_checksum",
    "Region", "split_regions", "strip_hidden_tests", "visible_line_count",
    "SOLUTION_BEGIN", "SOLUTION_END", "HIDDEN_BEGIN", "HIDDEN_END",
    "describe",
]

ANSWER, TEST, MANUAL, READONLY = "answer", "test", "manual", "readonly"
TASK, PLAIN = "task", "plain"

SOLUTION_BEGIN = "BEGIN SOLUTION"
SOLUTION_END = "END SOLUTION"
HIDDEN_BEGIN = "BEGIN HIDDEN TESTS"
HIDDEN_END = "END HIDDEN TESTS"

# A marker is a whole comment line: "# BEGIN SOLUTION", "### END HIDDEN TESTS".
_MARKER = re.compile(r"^(?P<indent>\s*)#+\s*"
                     r"(?P<word>BEGIN SOLUTION|END SOLUTION|BEGIN HIDDEN TESTS|END HIDDEN TESTS)"
                     r"\b(?P<rest>.*)$")


def _meta(cell: NotebookNode) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def role(cell: NotebookNode) -> str:
    """The cell's role (module docstring table), read from its nbgrader metadata."""
    meta = _meta(cell)
    if not meta:
        return PLAIN
    if meta.get("task"):
        return TASK
    solution, grade = bool(meta.get("solution")), bool(meta.get("grade"))
    if solution and grade:
        return MANUAL
    if solution:
        return ANSWER
    if grade:
        return TEST
    if meta.get("locked"):
        return READONLY
    return PLAIN


def grade_id(cell: NotebookNode) -> str | None:
    """The cell's nbgrader ``grade_id``, or None for a plain cell."""
    gid = _meta(cell).get("grade_id")
    return str(gid) if gid not in (None, "") and role(cell) != PLAIN else None


def points(cell: NotebookNode) -> float:
    """Points a grade cell is worth (0 for cells that are not graded)."""
    meta = _meta(cell)
    return float(meta.get("points", 0) or 0) if meta.get("grade") else 0.0


def _is_locked(cell: NotebookNode) -> bool:
    # nbgrader.utils.is_locked: answers never, tests always, else the flag.
    r = role(cell)
    if r in (ANSWER, MANUAL):
        return False
    if r == TEST:
        return True
    return bool(_meta(cell).get("locked", False))


def compute_checksum(cell: NotebookNode) -> str:
    """nbgrader's checksum of a cell: source, type, role flags, id and points."""
    meta = _meta(cell)
    m = hashlib.md5()
    m.update(cell.source.encode("utf-8"))
    m.update(cell.cell_type.encode("utf-8"))
    m.update(str(bool(meta.get("grade", False))).encode("utf-8"))
    m.update(str(bool(meta.get("solution", False))).encode("utf-8"))
    m.update(str(_is_locked(cell)).encode("utf-8"))
    m.update(str(meta.get("grade_id", "")).encode("utf-8"))
    if meta.get("grade", False):
        m.update(str(float(meta["points"])).encode("utf-8"))
    return m.hexdigest()


@dataclass(frozen=True)
class Region:
    """A run of lines in a cell: ``kind`` is "text", "solution" or "hidden"."""

    kind: str
    lines: tuple[str, ...]
    indent: str = ""
    hint: str = ""


def split_regions(source: str, where: str = "cell") -> list[Region]:
    """Split a cell's source at its markers; raise GradingError on bad nesting.

    ``where`` names the cell in error messages (e.g. "cell 7 'square'").
    """
    regions: list[Region] = []
    text: list[str] = []
    open_kind, open_at, body, indent, hint = None, 0, [], "", ""
    for lineno, line in enumerate(source.split("\n"), start=1):
        m = _MARKER.match(line)
        if m is None:
            if (SOLUTION_BEGIN in line or HIDDEN_BEGIN in line or SOLUTION_END in line
                    or HIDDEN_END in line):
                raise GradingError(
                    f"{where}, line {lineno}: {line.strip()!r} mentions a marker but is not a "
                    "marker line; nbgrader would treat it as one. Put the marker alone on a "
                    "comment line, e.g. '# BEGIN SOLUTION'")
            (body if open_kind else text).append(line)
            continue
        word = m.group("word")
        if word.startswith("BEGIN"):
            if open_kind:
                raise GradingError(f"{where}, line {lineno}: {word!r} inside an open region "
                                   f"begun on line {open_at}; close it first")
            if text:
                regions.append(Region("text", tuple(text)))
                text = []
            open_kind = "solution" if word == SOLUTION_BEGIN else "hidden"
            open_at, body, indent, hint = lineno, [], m.group("indent"), m.group("rest").strip()
        else:
            expected = "solution" if word == SOLUTION_END else "hidden"
            if open_kind != expected:
                raise GradingError(f"{where}, line {lineno}: {word!r} without a matching BEGIN")
            regions.append(Region(open_kind, tuple(body), indent, hint))
            open_kind = None
    if open_kind:
        end = SOLUTION_END if open_kind == "solution" else HIDDEN_END
        raise GradingError(f"{where}: region begun on line {open_at} is never closed; "
                           f"add a '# {end}' line")
    if text:
        regions.append(Region("text", tuple(text)))
    return regions


def strip_hidden_tests(source: str, where: str = "cell") -> str:
    """The source without its hidden-test regions (markers included)."""
    keep = [r for r in split_regions(source, where) if r.kind != "hidden"]
    return "\n".join(line for r in keep for line in r.lines)


def visible_line_count(source: str, where: str = "cell") -> int:
    """How many leading lines of a master test cell a student can see.

    Lines after the first hidden-test marker may be hidden; a failure there is
    reported without its text.
    """
    count = 0
    for r in split_regions(source, where):
        if r.kind == "hidden":
            return count
        count += len(r.lines)
    return count


def describe(cell: NotebookNode, index: int) -> str:
    """Name a cell in messages: index, role, id and its first words."""
    gid = grade_id(cell)
    first = next((ln.strip() for ln in cell.source.split("\n") if ln.strip()), "")
    first = first if len(first) <= 40 else first[:37] + "..."
    ident = f" {gid!r}" if gid else ""
    return f"cell {index} ({cell.cell_type}, {role(cell)}{ident}: {first!r})"
