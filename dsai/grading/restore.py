"""Restore: the master is the source of truth, the submission only supplies answers.

Like a replica rejoining a group, a submission is reconciled against the
authoritative copy before it counts. The graded notebook is built in the
master's order: every test and read-only cell comes from the master (hidden
tests put back), every answer cell from the submission, matched by
``grade_id``. A checksum differing from the released one means the student
edited a locked cell; it is restored, and the feedback says so. Deleted
cells are put back (a deleted answer becomes the release stub). Cells the
student added run where they were, after the marked cell preceding them.
Moving cells changes nothing: marked cells run in the master's order.
Roles, points and grade ids always come from the master: a submission's
metadata only says which of its cells holds which answer.
"""

from __future__ import annotations

import copy
import json
import warnings
from dataclasses import dataclass, field

import nbformat
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell

from dsai.errors import GradingError
from dsai.grading import cells as C

__all__ = ["Restored", "restore", "parse_submission"]


@dataclass
class Restored:
    """The notebook to grade and what reconciling it found."""

    cells: list[NotebookNode]
    notes: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"Restored({len(self.cells)} cells, {len(self.notes)} notes)"


def parse_submission(text: str | bytes, name: str) -> NotebookNode:
    """A submission's JSON as a notebook, or a GradingError saying what is wrong."""
    try:
        data = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise GradingError(f"{name} is not a notebook: not valid JSON ({e})") from e
    if not isinstance(data, dict) or "cells" not in data:
        raise GradingError(f"{name} is not a notebook: no 'cells' list in the JSON")
    try:
        with warnings.catch_warnings():  # e.g. duplicate cell ids, which nbformat repairs
            warnings.simplefilter("ignore")
            return nbformat.reads(json.dumps(data), as_version=4)
    except Exception as e:  # nbformat raises several types for malformed notebooks
        raise GradingError(f"{name} is not a readable notebook ({type(e).__name__}: {e})") from e


def _check_kernel(nb: NotebookNode, name: str, notes: list[str]) -> None:
    spec = nb.metadata.get("kernelspec", {}) or {}
    language = (spec.get("language") or nb.metadata.get("language_info", {}).get("name")
                or "python")
    if str(language).lower() != "python":
        raise GradingError(
            f"{name} was saved with the {spec.get('name', '?')!r} kernel (language "
            f"{language!r}); the lesson is Python. Reopen it with the Python 3 kernel, "
            "run it, save and resubmit")
    if spec.get("name") not in (None, "python3"):
        notes.append(f"saved with kernel {spec.get('name')!r}; graded with 'python3'")


def restore(master: NotebookNode, release: NotebookNode, submission: NotebookNode,
            name: str = "submission") -> Restored:
    """Reconcile ``submission`` with ``master`` (and its ``release``); see module doc."""
    notes: list[str] = []
    _check_kernel(submission, name, notes)
    released = {C.grade_id(c): c for c in release.cells if C.grade_id(c)}

    answers: dict[str, NotebookNode] = {}
    extras: dict[str | None, list[NotebookNode]] = {None: []}
    anchor: str | None = None
    for index, cell in enumerate(submission.cells):
        gid = C.grade_id(cell)
        if gid is not None and gid in released and gid not in answers and gid not in extras:
            if C.role(released[gid]) in (C.ANSWER, C.MANUAL):
                answers[gid] = cell
            elif C.compute_checksum(cell) != released[gid].metadata.nbgrader.get("checksum"):
                notes.append(f"cell {gid!r} was edited; the original was restored before grading")
            extras[gid] = []
            anchor = gid
            continue
        if gid is not None and gid in released:
            notes.append(f"cell {index} repeats grade_id {gid!r} (a copied cell); it ran as "
                         "your own extra cell")
        elif gid is not None:
            notes.append(f"cell {index} has grade_id {gid!r}, unknown to this lesson; it ran as "
                         "your own extra cell")
        # An extra cell is only ever the student's own code: whatever nbgrader metadata it
        # carries (points, "grade": true, a test's grade_id) is dropped, so it can neither
        # add points nor stand in for a test.
        extra = copy.deepcopy(cell)
        extra.metadata.pop("nbgrader", None)
        extras[anchor].append(extra)

    if not answers and not any(k for k in extras if k):
        raise GradingError(f"{name} has none of the lesson's cells (no matching grade_id); "
                           "is it the right notebook?")

    out: list[NotebookNode] = [c for c in extras[None] if c.cell_type == "code"]
    for cell in master.cells:
        gid = C.grade_id(cell)
        if gid is None:
            continue  # plain markdown: nothing to run
        role = C.role(cell)
        if role in (C.ANSWER, C.MANUAL):
            if gid in answers:
                mine = copy.deepcopy(answers[gid])
                if mine.cell_type != cell.cell_type:
                    notes.append(f"answer {gid!r} was turned into a {mine.cell_type} cell; "
                                 f"it was graded as {cell.cell_type}")
                    mine = new_code_cell(mine.source, metadata=mine.metadata) \
                        if cell.cell_type == "code" else copy.deepcopy(released[gid])
                if C.compute_checksum(mine) == released[gid].metadata.nbgrader.get("checksum"):
                    notes.append(f"answer {gid!r} was left unanswered")
            else:
                mine = copy.deepcopy(released[gid])
                notes.append(f"answer cell {gid!r} was deleted; graded as unanswered")
            mine.metadata["nbgrader"] = copy.deepcopy(cell.metadata["nbgrader"])
            out.append(mine)
        else:
            if gid not in extras:
                notes.append(f"cell {gid!r} was deleted; the original was put back")
            out.append(copy.deepcopy(cell))  # the master's: hidden tests included
        out.extend(c for c in extras.get(gid, []) if c.cell_type == "code")
    return Restored(out, notes)
