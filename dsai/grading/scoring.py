"""Scoring: nbgrader's rule, so a gradebook means the same under either tool.

A test cell that raises scores 0; one that returns a number (its last
expression) scores that many points, partial credit; otherwise it earns full
points. One deliberate difference: nbgrader also gives 0 when a test writes
to stderr, which punishes harmless warnings (a ``DeprecationWarning`` from a
library); here stderr is not a failure.

`explain` turns a failure into a sentence for the student's feedback file,
never quoting a hidden test: a failure on a line the student could see names
that line, a failure in the hidden part says only its exception type.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dsai.grading.kernel import CellRun

__all__ = ["Score", "score_test", "partial_credit", "explain", "failing_line"]

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dataclass(frozen=True)
class Score:
    """One question's result: ``status`` is passed, partial, failed, timeout or died."""

    score: float
    max_score: float
    status: str
    reason: str = ""

    def __repr__(self) -> str:
        return f"Score({self.score:g}/{self.max_score:g} {self.status})"


def partial_credit(outputs: list, max_points: float) -> float | None:
    """Points claimed by a test's ``execute_result`` (nbgrader's get_partial_grade).

    None when the cell returned nothing. A value that is not a number, a list
    of several values or a negative number gives full points, as in nbgrader;
    more than ``max_points`` is the test author's error and is capped.
    """
    for out in outputs:
        if out.get("output_type") != "execute_result":
            continue
        text = out.get("data", {}).get("text/plain", "")
        if isinstance(text, list):
            if len(text) != 1:
                return max_points
            text = text[0]
        try:
            value = float(text)
        except (TypeError, ValueError):
            return max_points
        if value < 0:
            return max_points
        return min(value, max_points)
    return None


def failing_line(traceback: list[str]) -> int | None:
    """The line of the test cell that raised, from IPython's traceback text."""
    text = _ANSI.sub("", "\n".join(traceback))
    m = re.search(r"Cell In\s*\[\d*\],\s*line (\d+)", text)
    return int(m.group(1)) if m else None


def explain(run: CellRun, source: str, visible_lines: int) -> str:
    """Why a test failed, safe to show the student (no hidden test text)."""
    if run.status in ("timeout", "died"):
        return run.evalue
    line = failing_line(run.traceback)
    if line is not None and line <= visible_lines:
        code = source.split("\n")[line - 1].strip()
        detail = f"{run.ename}: {run.evalue}" if run.evalue else run.ename
        return f"line {line} `{code}` raised {detail}"
    return f"a hidden test failed ({run.ename})"


def score_test(run: CellRun, max_points: float, source: str, visible_lines: int) -> Score:
    """Score one test cell run by nbgrader's rule (stderr is not a failure)."""
    if run.status != "ok":
        return Score(0.0, max_points, "failed" if run.status == "error" else run.status,
                     explain(run, source, visible_lines))
    claimed = partial_credit(run.outputs, max_points)
    if claimed is None or claimed >= max_points:
        return Score(max_points, max_points, "passed")
    return Score(claimed, max_points, "partial",
                 f"the test awarded {claimed:g} of {max_points:g} points")
