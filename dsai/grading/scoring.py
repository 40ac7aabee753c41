"""Scoring: nbgrader's rule, so a gradebook means the same under either tool.

A test cell that raises scores 0; one that returns a number (its last
expression) scores that many points, partial credit; otherwise it earns full
points. One deliberate difference: nbgrader also gives 0 when a test writes
to stderr, which punishes harmless warnings (a ``DeprecationWarning`` from a
library); here stderr is not a failure.

`explain` turns a failure into a sentence for the student's feedback file,
never quoting a hidden test: a failure on a line the student could see names
that line, a failure in the hidden part says only its exception type. Which
line failed comes from the traceback object in the session
(`dsai.grading.harness`), never from text the student's code could print.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Score", "score_verdict", "partial_credit", "explain"]


@dataclass(frozen=True)
class Score:
    """One question's result: ``status`` is passed, partial, failed, timeout or died."""

    score: float
    max_score: float
    status: str
    reason: str = ""

    def __repr__(self) -> str:
        return f"Score({self.score:g}/{self.max_score:g} {self.status})"


def partial_credit(value: str | None, max_points: float) -> float | None:
    """Points claimed by a test's last expression, as text (nbgrader's get_partial_grade).

    None when the cell returned nothing. A value that is not a number or a
    negative number gives full points, as in nbgrader; more than ``max_points``
    is the test author's error and is capped.
    """
    if value is None:
        return None
    try:
        claimed = float(value)
    except (TypeError, ValueError):
        return max_points
    if claimed != claimed or claimed < 0:  # NaN or negative
        return max_points
    return min(claimed, max_points)


def explain(verdict: dict, source: str, visible_lines: int) -> str:
    """Why a test failed, safe to show the student (no hidden test text)."""
    line = verdict.get("line")
    if isinstance(line, int) and 1 <= line <= visible_lines:
        code = source.split("\n")[line - 1].strip()
        ename, evalue = verdict.get("ename") or "an error", verdict.get("evalue") or ""
        detail = f"{ename}: {evalue}" if evalue else ename
        return f"line {line} `{code}` raised {detail}"
    ename = verdict.get("ename")
    return f"a hidden test failed ({ename})" if ename else "a hidden test failed"


def score_verdict(verdict: dict, max_points: float, source: str, visible_lines: int) -> Score:
    """Score one test from its session's verdict by nbgrader's rule."""
    if verdict.get("verdict") != "ok":
        return Score(0.0, max_points, "failed", explain(verdict, source, visible_lines))
    claimed = partial_credit(verdict.get("value"), max_points)
    if claimed is None or claimed >= max_points:
        return Score(max_points, max_points, "passed")
    return Score(claimed, max_points, "partial",
                 f"the test awarded {claimed:g} of {max_points:g} points")
