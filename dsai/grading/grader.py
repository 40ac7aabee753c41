"""The autograder: many independent jobs, each fenced, none able to stop the batch.

``dsai grade DIR --out grades.csv [--timeout S]`` grades every
``DIR/<student>/<lesson>.ipynb`` (DIR may be a zip of those folders). Each
submission is reconciled with its master (`dsai.grading.restore`: scores,
roles and tests come from the master alone), copied into a scratch folder and
graded in fenced sessions (`dsai.grading.session`), one fresh process per test
cell, sandboxed (`dsai.grading.sandbox`) unless the work is declared trusted.
A test's verdict comes from `dsai.grading.harness`, not from the student's
kernel; tests are scored by nbgrader's rule (`dsai.grading.scoring`).
Submissions run in parallel, each with a per-cell timeout and a total time
budget; a broken one becomes a row that says why. The gradebook is written
once, atomically, after the last submission.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import contextlib
import csv
import hashlib
import io
import os
import re
import shutil
import stat
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from nbformat import NotebookNode

from dsai.errors import GradingError
from dsai.grading import cells as C
from dsai.grading import sandbox as S
from dsai.grading.release import read_notebook, release_notebook
from dsai.grading.restore import parse_submission, restore
from dsai.grading.scoring import Score, score_verdict
from dsai.grading.session import run_session

__all__ = ["Submission", "Result", "Lesson", "find_submissions", "grade_submission",
           "grade_all", "write_gradebook", "write_feedback", "main", "COLUMNS",
           "default_budget", "student_label"]

COLUMNS = ["student", "notebook", "grade_id", "score", "max_score", "status", "message"]
TOTAL = "TOTAL"
MAX_NOTEBOOK_MB = 50     # a bigger notebook is refused (outputs left in, most likely)
MAX_FOLDER_MB = 200      # a student's folder copied into the session
MAX_NAME = 100           # characters of a usable student folder name
_USABLE = re.compile(r"^\w[\w .,@+'-]*$")


def default_budget(timeout: float) -> float:
    """A submission's total time: four cells' worth, at least two minutes."""
    return max(4 * timeout, 120.0)


def student_label(name: str) -> tuple[str, str]:
    """``(label, problem)``: the name to print for a student folder, and why it is unusable.

    A usable name is UTF-8, at most ``MAX_NAME`` characters, starts with a letter
    or digit and holds only letters, digits, spaces and ``. , @ + ' - _`` (nothing a
    shell or a spreadsheet would interpret). Any other name gets a stable label
    derived from its bytes and a problem sentence; only that submission fails.
    """
    raw = os.fsencode(name)
    try:
        text = raw.decode("utf-8")
        why = ("longer than {MAX_NAME} characters" if len(text) > MAX_NAME else
               "" if _USABLE.match(text) else
               "it has characters a shell or a spreadsheet would interpret")
    except UnicodeDecodeError:
        why = "it is not valid UTF-8"
    if not why:
        return name, ""
    label = f"unusable-name-{hashlib.sha256(raw).hexdigest()[:10]}"
    shown = ascii(raw)[2:-1]
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    return label, (f"the folder name '{shown}' cannot be a student id "
                   f"({why.format(MAX_NAME=MAX_NAME)}); rename the folder to letters, "
                   f"digits, spaces, '.', '-' or '_' (at most {MAX_NAME} characters) "
                   "and grade again")


@dataclass(frozen=True)
class Submission:
    """One student's notebook for one lesson (``problem``: why it cannot be graded)."""

    student: str
    lesson: str
    path: Path
    problem: str = ""

    def __repr__(self) -> str:
        return f"Submission({self.student}/{self.lesson}.ipynb)"


def _imports(cells: list[NotebookNode]) -> list[str]:
    names: list[str] = ["dsai.grading.checks"]
    for cell in cells:
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names += [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names += [node.module] + [f"{node.module}.{a.name}" for a in node.names]
    return list(dict.fromkeys(names))


def _bound_names(source: str) -> set[str]:
    try:
        tree = ast.parse(C.strip_hidden_tests(source))
    except (SyntaxError, GradingError):
        return set()
    out: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(node.name)
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                out.add(sub.id)
    return out


@dataclass
class Lesson:
    """A master, its release and the graded questions, in notebook order."""

    name: str
    folder: Path
    master: NotebookNode
    release: NotebookNode
    questions: list[tuple[str, float]]  # (grade_id, points), from the master only
    answer_names: set[str] = field(default_factory=set)  # names the answers define
    preload: list[str] = field(default_factory=list)     # modules the master imports

    @property
    def points(self) -> dict[str, float]:
        return dict(self.questions)

    @classmethod
    def load(cls, master_path: Path) -> "Lesson":
        master = read_notebook(master_path)
        questions = [(C.grade_id(c), C.points(c)) for c in master.cells
                     if C.role(c) in (C.TEST, C.MANUAL, C.TASK)]
        code = [c for c in master.cells if c.cell_type == "code" and C.grade_id(c)]
        answers = set().union(*(_bound_names(c.source) for c in code
                                if C.role(c) in (C.ANSWER, C.MANUAL)))
        trusted = [c for c in code if C.role(c) in (C.READONLY, C.TEST)]
        return cls(master_path.stem, master_path.parent, master,
                   release_notebook(master, master_path.stem), questions, answers,
                   _imports(trusted))

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
    """``root/<student>/<lesson>.ipynb``, sorted; a single wrapping folder is looked through.

    A student folder that is a symlink, or a name that cannot serve as a student
    id, becomes a Submission with a ``problem`` (one error row), never a crash.
    """
    def scan(base: Path) -> list[Submission]:
        found = []
        for folder in base.iterdir():
            if folder.name.startswith((".", "__")):  # skip macOS "._x" and "__MACOSX"
                continue
            label, problem = student_label(folder.name)
            if folder.is_symlink():
                problem = problem or (f"the folder {label} is a symbolic link; submit a real "
                                      "folder with the notebook in it")
            if not folder.is_dir():
                continue
            for nb in folder.glob("*.ipynb"):
                if not nb.name.startswith("."):
                    found.append(Submission(label, nb.stem, nb, problem))
        return sorted(found, key=lambda s: (s.student, s.lesson))
    found = scan(root)
    subdirs = [d for d in root.iterdir() if d.is_dir() and not d.name.startswith((".", "__"))]
    if not found and len(subdirs) == 1:  # a zip often wraps everything in one folder
        found = scan(subdirs[0])
    return found


def _copy_tree(src: Path, dest: Path, budget: list[int]) -> None:
    """Copy regular files and folders only: a symlink could point at the masters."""
    for item in sorted(src.iterdir()):
        if item.name.startswith(".") or item.suffix == ".ipynb" or item.is_symlink():
            continue
        target = dest / item.name
        if item.is_dir():
            target.mkdir(exist_ok=True)
            target.chmod(0o755)
            _copy_tree(item, target, budget)
        elif item.is_file():
            budget[0] -= item.stat().st_size
            if budget[0] < 0:
                raise GradingError(f"the submission's folder holds more than {MAX_FOLDER_MB} MB "
                                   "of files; submit the notebook and its small data files only")
            shutil.copyfile(item, target)
            target.chmod(0o644)


def _scratch_copy(sub: Submission, lesson: Lesson, scratch: Path) -> None:
    """The student's folder, then the lesson's data files (those win), minus notebooks."""
    budget = [MAX_FOLDER_MB * 2**20]
    _copy_tree(sub.path.parent, scratch, budget)
    _copy_tree(lesson.folder, scratch, [2**62])


def _read_notebook_file(path: Path, name: str) -> bytes:
    """The notebook's bytes, refusing anything but a regular file (symlinks included)."""
    try:
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        fd = os.open(path, flags)  # a fifo opens at once, then fails the regular-file test
    except OSError as e:
        if path.is_symlink():
            raise GradingError(f"{name} is a symbolic link, not a notebook file; submit the "
                               "notebook itself") from e
        raise GradingError(f"{name} cannot be opened ({e.strerror})") from e
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise GradingError(f"{name} is not a regular file; submit the notebook itself")
        if info.st_size > MAX_NOTEBOOK_MB * 2**20:
            raise GradingError(f"{name} is {info.st_size / 2**20:.0f} MB, more than "
                               f"{MAX_NOTEBOOK_MB} MB; clear its outputs and resubmit")
        return f.read(MAX_NOTEBOOK_MB * 2**20 + 1)


def _plan(cells: list[NotebookNode]) -> tuple[list[dict], dict[int, str]]:
    """The session job's cells (tests with visible lines only) and each test's hidden rest."""
    specs, hidden = [], {}
    for cell in cells:
        if cell.cell_type != "code":
            continue
        role, gid = C.role(cell), C.grade_id(cell)
        if role == C.TEST:
            visible = C.visible_line_count(cell.source, gid or "test")
            lines = cell.source.split("\n")
            hidden[len(specs)] = "\n".join(lines[visible:])
            specs.append({"kind": "test", "source": "\n".join(lines[:visible]),
                          "visible_lines": visible, "gid": gid})
        elif role == C.READONLY:
            specs.append({"kind": "setup", "source": cell.source, "gid": gid})
        else:
            specs.append({"kind": "answer" if role in (C.ANSWER, C.MANUAL) else "extra",
                          "source": cell.source, "gid": gid})
    return specs, hidden


def _where(spec: dict) -> str:
    return {"answer": f"answer {spec['gid']!r}", "setup": f"read-only cell {spec['gid']!r}",
            "test": f"test {spec['gid']!r}"}.get(spec["kind"], "one of your own cells")


def _stop_reason(how: str, timeout: float, limits: S.Limits) -> str:
    return {"timeout": f"ran longer than {timeout:g} s and was stopped",
            "died": "ended the grading process (memory limit "
                    f"{limits.memory_mb} MB, os._exit, a signal or a crash)",
            "flood": "sent the grader more output than it reads; it was stopped",
            }.get(how, "was stopped")


async def grade_submission(sub: Submission, lesson: Lesson | None, *, timeout: float = 30.0,
                           memory_mb: int | None = 2048, budget: float | None = None,
                           sandboxed: bool = True) -> Result:
    """Grade one submission, one fenced session per test; every failure becomes the Result."""
    result = Result(sub)
    start = time.monotonic()
    budget = budget if budget is not None else default_budget(timeout)
    deadline = start + budget
    limits = S.Limits(memory_mb=memory_mb)
    scratch = Path(tempfile.mkdtemp(prefix="dsai-scratch-"))
    scratch.chmod(0o755)  # the session's user (uid 1000 in its namespace) reads it
    try:
        name = f"{sub.student}/{sub.lesson}.ipynb"
        if sub.problem:
            raise GradingError(sub.problem)
        if lesson is None:
            raise GradingError(f"no master for lesson {sub.lesson!r}: expected "
                               f"<source>/{sub.lesson}/{sub.lesson}.ipynb")
        nb = parse_submission(_read_notebook_file(sub.path, name), name)
        restored = restore(lesson.master, lesson.release, nb, name)
        result.notes = restored.notes
        _scratch_copy(sub, lesson, scratch)
        specs, hidden = _plan(restored.cells)
        base = {"answer_names": sorted(lesson.answer_names), "preload": lesson.preload}
        tests = [i for i, s in enumerate(specs) if s["kind"] == "test"]
        reported: set[int] = set()
        skip: set[int] = set()
        out_of_time = False

        def note_errors(records: dict[int, dict]) -> None:
            for i, rec in sorted(records.items()):
                spec = specs[i]
                if rec["status"] in ("timeout", "died"):  # stopped by the session itself
                    skip.add(i)
                    if i not in reported and spec["kind"] != "test":
                        reported.add(i)
                        result.answer_errors.append(
                            f"{_where(spec)} {_stop_reason(rec['status'], timeout, limits)}")
                    continue
                if i in reported or spec["kind"] == "test" or rec["status"] == "ok":
                    continue
                reported.add(i)
                detail = f"{rec['ename']}: {rec['evalue']}" if rec["evalue"] else rec["ename"]
                result.answer_errors.append(f"{_where(spec)} raised {detail}")

        async def session(last: int, test: int | None):
            cells = [dict(s, skip=True) if i in skip else s for i, s in enumerate(specs[:last])]
            job = dict(base, cells=cells, test=test)
            return await run_session(job, hidden.get(test, "") if test is not None else "",
                                     scratch, sandboxed=sandboxed, timeout=timeout,
                                     deadline=deadline, limits=limits)

        targets = tests + ([None] if not tests or any(
            s["kind"] != "test" for s in specs[tests[-1] + 1:]) else [])
        for test in targets:
            while not out_of_time:
                out = await session(len(specs) if test is None else test + 1, test)
                note_errors(out.records)
                if out.stopped == "budget":
                    out_of_time = True
                    break
                if out.verdict is not None or not out.stopped or out.at is None:
                    break
                if out.at == test:
                    skip.add(test)  # later sessions run without this test's visible lines
                    break
                # A cell before the test hung or ended the process and no checkpoint
                # caught it: skip it from now on, so each cell costs at most one session.
                result.restarts += 1
                skip.add(out.at)
                if out.at not in reported:
                    reported.add(out.at)
                    result.answer_errors.append(
                        f"{_where(specs[out.at])} {_stop_reason(out.stopped, timeout, limits)}")
            if test is None:
                continue
            spec = specs[test]
            pts = lesson.points[spec["gid"]]
            if out_of_time:
                result.scores[spec["gid"]] = Score(
                    0.0, pts, "timeout", f"not graded: this submission used up its {budget:g} s "
                    "(each submission has a total time limit; make every cell finish quickly)")
            elif out.verdict is not None:
                result.scores[spec["gid"]] = score_verdict(
                    out.verdict, pts, spec["source"], spec["visible_lines"])
            else:
                status = out.stopped if out.stopped in ("timeout", "died") else "failed"
                result.scores[spec["gid"]] = Score(
                    0.0, pts, status, f"the test {_stop_reason(out.stopped, timeout, limits)}")
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


async def grade_all(subs: list[Submission], lessons: dict[str, Lesson], *, timeout: float = 30.0,
                    memory_mb: int | None = 2048, jobs: int | None = None,
                    budget: float | None = None, sandboxed: bool = True,
                    progress: io.TextIOBase | None = None) -> list[Result]:
    """Grade ``subs`` with at most ``jobs`` at once; results in input order."""
    jobs = max(1, jobs or os.cpu_count() or 1)
    gate = asyncio.Semaphore(jobs)
    done = 0

    async def one(sub: Submission) -> Result:
        nonlocal done
        async with gate:
            r = await grade_submission(sub, lessons.get(sub.lesson), timeout=timeout,
                                       memory_mb=memory_mb, budget=budget, sandboxed=sandboxed)
        done += 1
        if progress is not None:
            lesson = lessons.get(sub.lesson)
            out_of = sum(p for _, p in lesson.questions) if lesson else 0
            what = f"ERROR {r.error}" if r.error else f"{r.total:g}/{out_of:g} points"
            print(f"[{done}/{len(subs)}] {sub.student}/{sub.lesson}.ipynb: {what} "
                  f"({r.seconds:.1f} s)", file=progress, flush=True)
        return r

    return list(await asyncio.gather(*(one(s) for s in subs)))


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x1b]")


def _one_line(text: str) -> str:
    text = " ".join(part.strip() for part in text.splitlines() if part.strip())
    text = _CONTROL.sub("", text)
    # A spreadsheet would run a cell starting with = + - @ as a formula.
    return "'" + text if text.startswith(("=", "+", "-", "@")) else text


def _rows(results: list[Result], lessons: dict[str, Lesson]) -> list[list[str]]:
    rows = []
    for r in sorted(results, key=lambda r: (r.submission.student, r.submission.lesson)):
        sub, lesson = r.submission, lessons.get(r.submission.lesson)
        questions = lesson.questions if lesson else []
        for gid, pts in questions:
            s = r.scores.get(gid, Score(0.0, pts, "error", r.error))
            score = "" if s.status == "manual" else f"{s.score:g}"
            rows.append([sub.student, _one_line(sub.lesson), gid, score, f"{pts:g}",
                         "error" if r.error else s.status, "" if r.error else _one_line(s.reason)])
        total_max = sum(p for _, p in questions)
        message = _one_line(r.error or "; ".join(r.notes))
        rows.append([sub.student, _one_line(sub.lesson), TOTAL, f"{r.total:g}", f"{total_max:g}",
                     "error" if r.error else "graded", message])
    return rows


def write_gradebook(path: Path, results: list[Result], lessons: dict[str, Lesson]) -> None:
    """Write the CSV at once (temp file + rename): a reader never sees half a gradebook."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8", errors="backslashreplace") as f:
            w = csv.writer(f)
            w.writerow(COLUMNS)
            w.writerows(_rows(results, lessons))
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


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
    """``folder/<student>/<lesson>.md`` for every result (written atomically, each).

    A file that cannot be written (a notebook name too long for the file system)
    is reported on stderr; the others are written all the same.
    """
    for r in results:
        target = folder / r.submission.student / f"{r.submission.lesson}.md"
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".feedback.", dir=target.parent)
            with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as f:
                f.write(feedback_text(r, lessons.get(r.submission.lesson)))
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)
        except OSError as e:
            print(f"dsai grade: no feedback file for {r.submission!r}: {e.strerror}",
                  file=sys.stderr)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dsai grade", description=__doc__.split("\n")[0])
    p.add_argument("submissions", type=Path, help="folder (or .zip) of <student>/<lesson>.ipynb")
    p.add_argument("--out", type=Path, default=Path("grades.csv"), help="gradebook CSV")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds per cell (default 30)")
    p.add_argument("--submission-timeout", type=float, default=None,
                   help="seconds per submission, all its sessions together "
                        "(default: 4 x --timeout, at least 120)")
    p.add_argument("--memory", type=int, default=2048,
                   help="memory cap per process in MB, RLIMIT_AS, Linux only "
                        "(default 2048; 0: none)")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                   help="submissions graded at once (default: number of cores)")
    p.add_argument("--source", type=Path, default=Path("instructor/source"),
                   help="masters, <lesson>/<lesson>.ipynb (default: instructor/source)")
    p.add_argument("--feedback", type=Path, default=None,
                   help="feedback folder (default: 'feedback' beside --out)")
    p.add_argument("--trusted", action="store_true",
                   help="run submissions without the sandbox, with your permissions: only for "
                        "work you trust (or inside a container that is the sandbox)")
    return p


_NO_SANDBOX = """dsai grade: cannot isolate student code here: {why}.
Student code would run with your permissions (read the masters and other
submissions, change your files, reach the network). Choose one:
  - install bubblewrap (Debian/Ubuntu: sudo apt-get install bubblewrap) and rerun;
  - grade in the container, instructor/grader.Dockerfile (instructor/README.md, "Security");
  - pass --trusted if you trust every submission (e.g. your own test notebooks)."""


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    start = time.monotonic()
    why = None if args.trusted else S.probe()
    if why is not None:
        print(_NO_SANDBOX.format(why=why), file=sys.stderr)
        return 2
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
        mode = "trusted, no sandbox" if args.trusted else "sandboxed"
        print(f"grading {len(subs)} submissions ({mode}), {args.jobs} at a time, "
              f"timeout {args.timeout:g} s per cell", file=sys.stderr)
        results = asyncio.run(grade_all(subs, lessons, timeout=args.timeout,
                                        memory_mb=args.memory or None, jobs=args.jobs,
                                        budget=args.submission_timeout,
                                        sandboxed=not args.trusted, progress=sys.stderr))
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
