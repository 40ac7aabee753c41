"""Validation: a test is only worth its points if it can fail.

Like ``nbgrader validate``, but in both directions. For each master:

1. its nbgrader metadata follows nbgrader's schema (version 3): ids present,
   unique and well-formed, points on graded cells, markers balanced;
2. the master itself, run through the grader, passes every test and raises
   nowhere (the solutions are right);
3. its release, run through the grader, fails every autograded test (no
   test gives points for an unanswered question).

``dsai validate [LESSON|MASTER.ipynb ...] [--source DIR] [--timeout S]``
exits 0 when every lesson passes, 1 otherwise, naming each problem.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import tempfile
from pathlib import Path

from nbformat import NotebookNode

from dsai.errors import GradingError
from dsai.grading import cells as C
from dsai.grading.grader import Lesson, Result, Submission, grade_all
from dsai.grading.release import dumps, find_masters

__all__ = ["metadata_problems", "validate_lessons", "main"]

_ID = re.compile(r"^[a-zA-Z0-9_\-]+$")
_KEYS = {"schema_version", "grade", "locked", "solution", "task", "grade_id", "points",
         "checksum", "cell_type"}


def metadata_problems(nb: NotebookNode, name: str) -> list[str]:
    """nbgrader's metadata rules (schema 3), as messages naming the cell."""
    problems, seen = [], {}
    for index, cell in enumerate(nb.cells):
        meta = cell.metadata.get("nbgrader")
        if meta is None:
            continue
        where = f"{name}: {C.describe(cell, index)}"
        if meta.get("schema_version") != 3:
            problems.append(f"{where}: 'schema_version' must be 3 (nbgrader's current schema)")
        missing = [k for k in ("grade", "solution", "locked") if k not in meta]
        if missing:
            problems.append(f"{where}: nbgrader metadata lacks {missing}")
        extra = sorted(set(meta) - _KEYS)
        if extra:
            problems.append(f"{where}: nbgrader metadata has unknown keys {extra}; nbgrader "
                            "would delete them (put course data under metadata 'dsai')")
        if C.role(cell) == C.PLAIN:
            continue
        gid = meta.get("grade_id", "")
        if not gid or not _ID.match(str(gid)):
            problems.append(f"{where}: grade_id {gid!r} must be letters, digits, '-' or '_'")
        elif gid in seen:
            problems.append(f"{where}: grade_id {gid!r} is already used by cell {seen[gid]}")
        else:
            seen[gid] = index
        if meta.get("grade") and not isinstance(meta.get("points"), (int, float)):
            problems.append(f"{where}: a graded cell needs 'points' (a number >= 0)")
        if cell.cell_type == "markdown" and bool(meta.get("grade")) != bool(meta.get("solution")) \
                and not meta.get("task"):
            problems.append(f"{where}: a markdown cell must be both grade and solution, or neither")
    return problems


def _judge(lesson: Lesson, master_run: Result, release_run: Result) -> list[str]:
    problems = []
    for run, what in ((master_run, "master"), (release_run, "release")):
        if run.error:
            problems.append(f"{lesson.name}: the {what} could not be graded: {run.error}")
    if master_run.error or release_run.error:
        return problems
    problems += [f"{lesson.name}: master: {e}" for e in master_run.answer_errors]
    for gid, score in master_run.scores.items():
        if score.status not in ("passed", "manual"):
            problems.append(f"{lesson.name}: master fails its own test {gid!r} "
                            f"({score.score:g}/{score.max_score:g}): {score.reason}")
    for gid, score in release_run.scores.items():
        if score.status != "manual" and score.score > 0:
            problems.append(f"{lesson.name}: test {gid!r} gives {score.score:g} points to the "
                            "unanswered release; make it check the answer")
    return problems


def validate_lessons(masters: list[Path], *, timeout: float = 60.0, memory_mb: int | None = 2048,
                     jobs: int | None = None, progress=None) -> dict[str, list[str]]:
    """Problems per lesson (an empty list: the lesson is valid)."""
    report: dict[str, list[str]] = {}
    lessons: dict[str, Lesson] = {}
    for path in masters:
        try:
            lesson = Lesson.load(path)
        except GradingError as e:
            report[path.stem] = [str(e)]
            continue
        report[lesson.name] = metadata_problems(lesson.master, lesson.name)
        lessons[lesson.name] = lesson
    with tempfile.TemporaryDirectory(prefix="dsai-validate-") as tmp:
        subs = []
        for name, lesson in lessons.items():
            for who, nb in (("master", lesson.master), ("release", lesson.release)):
                path = Path(tmp) / f"{name}--{who}" / f"{name}.ipynb"
                path.parent.mkdir(parents=True)
                path.write_text(dumps(nb), encoding="utf-8")
                subs.append(Submission(who, name, path))
        # The masters and their releases are the instructor's own: no sandbox needed.
        results = asyncio.run(grade_all(subs, lessons, timeout=timeout, memory_mb=memory_mb,
                                        jobs=jobs, progress=progress, sandboxed=False))
    by = {(r.submission.lesson, r.submission.student): r for r in results}
    for name, lesson in lessons.items():
        report[name] += _judge(lesson, by[name, "master"], by[name, "release"])
    return report


def _resolve(targets: list[str], source: Path) -> list[Path]:
    if not targets:
        return find_masters(source)
    paths = []
    for t in targets:
        p = Path(t)
        p = p if p.suffix == ".ipynb" else source / t / f"{t}.ipynb"
        if not p.is_file():
            raise GradingError(f"no master {p}; give a lesson name from {source} or a .ipynb path")
        paths.append(p)
    return paths


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="dsai validate", description=__doc__.split("\n")[0])
    p.add_argument("lessons", nargs="*", help="lesson names or master paths (default: all)")
    p.add_argument("--source", type=Path, default=Path("instructor/source"),
                   help="masters, <lesson>/<lesson>.ipynb (default: instructor/source)")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds per cell (default 60)")
    p.add_argument("--jobs", type=int, default=None, help="kernels at once (default: cores)")
    p.add_argument("--memory", type=int, default=2048,
                   help="memory cap per kernel in MB (default 2048; 0: none, e.g. for real Ray)")
    args = p.parse_args(argv)
    try:
        masters = _resolve(args.lessons, args.source)
    except GradingError as e:
        print(f"dsai validate: {e}", file=sys.stderr)
        return 2
    report = validate_lessons(masters, timeout=args.timeout, jobs=args.jobs,
                              memory_mb=args.memory or None)
    for name, problems in report.items():
        print(f"{name}: {'ok' if not problems else f'{len(problems)} problem(s)'}")
        for problem in problems:
            print(f"  - {problem}")
    return 0 if all(not p for p in report.values()) else 1
