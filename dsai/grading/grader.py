"""The autograder: many independent jobs, each fenced, none able to stop the batch.

``dsai grade DIR --out grades.csv [--timeout S]`` grades every
``DIR/<student>/<lesson>.ipynb`` (DIR may be a zip of those folders). Each
submission is reconciled with its master (`dsai.grading.restore`), copied
into a scratch folder and run in a fresh kernel (`dsai.grading.kernel`) with
a per-cell timeout and a memory cap; test cells are scored by nbgrader's
rule (`dsai.grading.scoring`). Submissions run in parallel, up to one kernel
per core; a broken one becomes a row that says why. The gradebook is written
once, atomically, after the last submission, so nothing a notebook writes
while it runs can end up in it.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import os
import shutil
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from nbformat import NotebookNode

from dsai.errors import GradingError
from dsai.grading import cells as C
from dsai.grading.kernel import Kernel
from dsai.grading.release import read_notebook, release_notebook
from dsai.grading.restore import parse_submission, restore
from dsai.grading.scoring import Score, score_test

__all__ = ["Submission", "Result", "Lesson", "find_submissions", "grade_submission",
           "grade_all", "write_gradebook", "write_feedback", "main", "COLUMNS"]

COLUMNS = ["student", "notebook", "grade_id", "score", "max_score", "status", "message"]
TOTAL = "TOTAL"


@dataclass(frozen=True)
class Submission:
    """One student's notebook for one lesson."""

    student: str
    lesson: str
    path: Path

    def __repr__(self) -> str:
        return f"Submission({self.student}/{self.lesson}.ipynb)"


@dataclass
class Lesson:
    """A master, its release and the graded questions, in notebook order."""

    name: str
    folder: Path
    master: NotebookNode
    release: NotebookNode
    questions: list[tuple[str, float]]  # (grade_id, points)

    @classmethod
    def load(cls, master_path: Path) -> "Lesson":
        master = read_notebook(master_path)
        questions = [(C.grade_id(c), C.points(c)) for c in master.cells
                     if C.role(c) in (C.TEST, C.MANUAL, C.TASK)]
        return cls(master_path.stem, master_path.parent, master,
                   release_notebook(master, master_path.stem), questions)

    def __repr__(self) -> str:
        return f"Lesson({self.name!r}, {len(self.questions)} questions)"


@dataclass
class Result:
    """A graded (or ungradeable) submission."""

    submission: Submission
    scores: dict[str, Score] = field(default_factory=dict)
    error: str = ""
    notes: list[str] = field(default_factory=list)
    answer_errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    restarts: int = 0

    @property
    def total(self) -> float:
        return sum(s.score for s in self.scores.values())

    def __repr__(self) -> str:
        what = f"error {self.error[:40]!r}" if self.error else f"{self.total:g} points"
        return f"Result({self.submission.student}/{self.submission.lesson}: {what})"


def find_submissions(root: Path) -> list[Submission]:
    """``root/<student>/<lesson>.ipynb``, sorted; a single wrapping folder is looked through."""
    def scan(base: Path) -> list[Submission]:
        return sorted((Submission(nb.parent.name, nb.stem, nb)
                       for nb in base.glob("*/*.ipynb")  # skip macOS "._x" and "__MACOSX"
                       if not nb.name.startswith(".")
                       and not nb.parent.name.startswith((".", "__"))),
                      key=lambda s: (s.student, s.lesson))
    found = scan(root)
    subdirs = [d for d in root.iterdir() if d.is_dir() and not d.name.startswith((".", "__"))]
    if not found and len(subdirs) == 1:  # a zip often wraps everything in one folder
        found = scan(subdirs[0])
    return found


def _scratch_copy(sub: Submission, lesson: Lesson, scratch: Path) -> None:
    """The student's folder, then the lesson's data files (those win), minus notebooks."""
    def copy_tree(src: Path) -> None:
        for item in src.iterdir():
            if item.name.startswith(".") or item.suffix == ".ipynb":
                continue
            target = scratch / item.name
            if item.is_dir():
                shutil.copytree(item, target, dirs_exist_ok=True)
            else:
                shutil.copy2(item, target)
    copy_tree(sub.path.parent)
    copy_tree(lesson.folder)


async def grade_submission(sub: Submission, lesson: Lesson | None, *, timeout: float = 30.0,
                           memory_mb: int | None = 2048) -> Result:
    """Grade one submission in a fresh kernel; every failure becomes part of the Result."""
    result = Result(sub)
    start = time.monotonic()
    scratch = Path(tempfile.mkdtemp(prefix=f"dsai-grade-{sub.student}-"))
    try:
        if lesson is None:
            raise GradingError(f"no master for lesson {sub.lesson!r}: expected "
                               f"<source>/{sub.lesson}/{sub.lesson}.ipynb")
        nb = parse_submission(sub.path.read_bytes(), f"{sub.student}/{sub.path.name}")
        restored = restore(lesson.master, lesson.release, nb, f"{sub.student}/{sub.path.name}")
        result.notes = restored.notes
        _scratch_copy(sub, lesson, scratch)
        async with Kernel(scratch, timeout=timeout, memory_mb=memory_mb) as kernel:
            for cell in restored.cells:
                if cell.cell_type != "code":
                    continue
                run = await kernel.run(cell.source)
                role, gid = C.role(cell), C.grade_id(cell)
                if role == C.TEST:
                    visible = C.visible_line_count(cell.source, gid or "test")
                    result.scores[gid] = score_test(run, C.points(cell), cell.source, visible)
                elif run.status != "ok" and role in (C.ANSWER, C.PLAIN, C.READONLY):
                    where = {C.ANSWER: f"answer {gid!r}", C.READONLY: f"read-only cell {gid!r}",
                             }.get(role, "one of your own cells")
                    detail = f"{run.ename}: {run.evalue}" if run.evalue else run.ename
                    result.answer_errors.append(
                        f"{where} raised {detail}" if run.status == "error"
                        else f"{where}: {run.evalue}")
            result.restarts = kernel.restarts
        for gid, pts in lesson.questions:
            result.scores.setdefault(gid, Score(0.0, pts, "manual", "graded by hand"))
    except GradingError as e:
        result.error = str(e)
    except Exception as e:  # one broken submission must never stop the batch
        result.error = f"grading failed: {type(e).__name__}: {e}"
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        result.seconds = time.monotonic() - start
    return result


def _quiet_abandoned_polls(loop: asyncio.AbstractEventLoop, context: dict) -> None:
    # nbclient leaves an output-polling task behind when a cell times out or its
    # kernel dies; its queue.Empty is expected and already handled by Kernel.run.
    if type(context.get("exception")).__name__ == "Empty":
        return
    loop.default_exception_handler(context)


async def grade_all(subs: list[Submission], lessons: dict[str, Lesson], *, timeout: float = 30.0,
                    memory_mb: int | None = 2048, jobs: int | None = None,
                    progress: io.TextIOBase | None = None) -> list[Result]:
    """Grade ``subs`` with at most ``jobs`` kernels at once; results in input order."""
    jobs = max(1, jobs or os.cpu_count() or 1)
    gate = asyncio.Semaphore(jobs)
    asyncio.get_running_loop().set_exception_handler(_quiet_abandoned_polls)
    done = 0

    async def one(sub: Submission) -> Result:
        nonlocal done
        async with gate:
            r = await grade_submission(sub, lessons.get(sub.lesson), timeout=timeout,
                                       memory_mb=memory_mb)
        done += 1
        if progress is not None:
            lesson = lessons.get(sub.lesson)
            out_of = sum(p for _, p in lesson.questions) if lesson else 0
            what = f"ERROR {r.error}" if r.error else f"{r.total:g}/{out_of:g} points"
            print(f"[{done}/{len(subs)}] {sub.student}/{sub.lesson}.ipynb: {what} "
                  f"({r.seconds:.1f} s)", file=progress, flush=True)
        return r

    return list(await asyncio.gather(*(one(s) for s in subs)))


def _one_line(text: str) -> str:
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


def _rows(results: list[Result], lessons: dict[str, Lesson]) -> list[list[str]]:
    rows = []
    for r in sorted(results, key=lambda r: (r.submission.student, r.submission.lesson)):
        sub, lesson = r.submission, lessons.get(r.submission.lesson)
        questions = lesson.questions if lesson else []
        for gid, pts in questions:
            s = r.scores.get(gid, Score(0.0, pts, "error", r.error))
            score = "" if s.status == "manual" else f"{s.score:g}"
            rows.append([sub.student, sub.lesson, gid, score, f"{pts:g}",
                         "error" if r.error else s.status, "" if r.error else _one_line(s.reason)])
        total_max = sum(p for _, p in questions)
        message = _one_line(r.error or "; ".join(r.notes))
        rows.append([sub.student, sub.lesson, TOTAL, f"{r.total:g}", f"{total_max:g}",
                     "error" if r.error else "graded", message])
    return rows


def write_gradebook(path: Path, results: list[Result], lessons: dict[str, Lesson]) -> None:
    """Write the CSV at once (temp file + rename): a reader never sees half a gradebook."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        w.writerows(_rows(results, lessons))
    os.replace(tmp, path)


def feedback_text(r: Result, lesson: Lesson | None) -> str:
    """The student's feedback: each question, why it failed, and what was repaired."""
    sub = r.submission
    lines = [f"# Feedback: {sub.lesson} ({sub.student})", ""]
    if r.error:
        lines += ["This notebook could not be graded:", "", r.error, ""]
        return "\n".join(lines)
    out_of = sum(p for _, p in lesson.questions) if lesson else 0
    lines += [f"Total: {r.total:g} / {out_of:g} points", ""]
    for gid, s in r.scores.items():
        score = "to be graded by hand" if s.status == "manual" else f"{s.score:g} / {s.max_score:g}"
        reason = f": {s.reason}" if s.reason and s.status != "manual" else ""
        lines.append(f"- `{gid}`: {score} ({s.status}){reason}".replace("\n", "\n  "))
    if r.answer_errors:
        lines += ["", "Errors in your code:", ""] + [f"- {e}".replace("\n", "\n  ")
                                                      for e in r.answer_errors]
    if r.notes:
        lines += ["", "Notes:", ""] + [f"- {n}" for n in r.notes]
    return "\n".join(lines) + "\n"


def write_feedback(folder: Path, results: list[Result], lessons: dict[str, Lesson]) -> None:
    """``folder/<student>/<lesson>.md`` for every result."""
    for r in results:
        target = folder / r.submission.student / f"{r.submission.lesson}.md"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(feedback_text(r, lessons.get(r.submission.lesson)), encoding="utf-8")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dsai grade", description=__doc__.split("\n")[0])
    p.add_argument("submissions", type=Path, help="folder (or .zip) of <student>/<lesson>.ipynb")
    p.add_argument("--out", type=Path, default=Path("grades.csv"), help="gradebook CSV")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds per cell (default 30)")
    p.add_argument("--memory", type=int, default=2048,
                   help="memory cap per kernel in MB, RLIMIT_AS, Linux only "
                        "(default 2048; 0: none)")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                   help="submissions graded at once (default: number of cores)")
    p.add_argument("--source", type=Path, default=Path("instructor/source"),
                   help="masters, <lesson>/<lesson>.ipynb (default: instructor/source)")
    p.add_argument("--feedback", type=Path, default=None,
                   help="feedback folder (default: 'feedback' beside --out)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="dsai-submissions-") as unpacked:
        root = args.submissions
        if root.is_file() and zipfile.is_zipfile(root):
            with zipfile.ZipFile(root) as z:
                z.extractall(unpacked)
            root = Path(unpacked)
        if not root.is_dir():
            print(f"dsai grade: {args.submissions} is neither a folder nor a zip of "
                  "<student>/<lesson>.ipynb", file=sys.stderr)
            return 2
        subs = find_submissions(root)
        if not subs:
            print(f"dsai grade: no <student>/<lesson>.ipynb found in {args.submissions}",
                  file=sys.stderr)
            return 2
        lessons: dict[str, Lesson] = {}
        for name in sorted({s.lesson for s in subs}):
            path = args.source / name / f"{name}.ipynb"
            if path.is_file():
                try:
                    lessons[name] = Lesson.load(path)
                except GradingError as e:
                    print(f"dsai grade: master {path} is broken: {e}", file=sys.stderr)
                    return 2
        print(f"grading {len(subs)} submissions, {args.jobs} at a time, "
              f"timeout {args.timeout:g} s per cell", file=sys.stderr)
        results = asyncio.run(grade_all(subs, lessons, timeout=args.timeout,
                                        memory_mb=args.memory or None, jobs=args.jobs,
                                        progress=sys.stderr))
    write_gradebook(args.out, results, lessons)
    feedback = args.feedback or args.out.parent / "feedback"
    write_feedback(feedback, results, lessons)
    wall = time.monotonic() - start
    per = [r.seconds for r in results]
    broken = [r for r in results if r.error]
    print(f"wrote {args.out} and {feedback}/: {len(results)} submissions in {wall:.1f} s "
          f"({sum(per) / len(per):.1f} s per submission, max {max(per):.1f} s)"
          + (f"; {len(broken)} could not be graded" if broken else ""), file=sys.stderr)
    return 1 if broken else 0
