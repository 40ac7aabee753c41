"""Grading a class: wall time of `dsai grade` on 30 submissions of a real lesson.

Issue 18 asked for the figure on this 2-core machine (the kernel-per-submission
grader took about 3.5 minutes for ~50 submissions, most of it timeouts). The
class: 12 solved, 12 blank, and 6 hostile (2 with a cell that hangs ignoring
Ctrl-C, 2 that print 200 MB, 2 that allocate without bound). Prints the wall
time, seconds per submission (mean, max), the grader's peak memory and how
the submissions scored; asserts nothing.

    python benchmarks/grading.py                      # 01_tasks_and_actors, timeout 10 s
    python benchmarks/grading.py --timeout 5 --jobs 2
"""

from __future__ import annotations

import argparse
import csv
import resource
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

HOSTILE = {
    "hang": "import time\nwhile True:\n    try:\n        time.sleep(100)\n"
            "    except BaseException:\n        pass",
    "print": "for _ in range(200):\n    print('x' * 2**20)",
    "memory": "blocks = []\nwhile True:\n    blocks.append(bytearray(2**28))",
}


def build_class(folder: Path, lesson: str) -> int:
    from nbformat.v4 import new_code_cell

    from dsai.grading import cells as C
    from dsai.grading.release import dumps, read_notebook
    master = read_notebook(REPO / "instructor" / "source" / lesson / f"{lesson}.ipynb")
    solutions = {C.grade_id(c): c.source for c in master.cells
                 if C.role(c) == C.ANSWER and c.cell_type == "code"}
    kinds = ["solved"] * 12 + ["blank"] * 12 + ["hang", "hang", "print", "print",
                                                "memory", "memory"]
    for n, kind in enumerate(kinds):
        nb = read_notebook(REPO / "notebooks" / f"{lesson}.ipynb")
        if kind != "blank":
            for cell in nb.cells:
                if C.grade_id(cell) in solutions:
                    cell.source = solutions[C.grade_id(cell)]
        if kind in HOSTILE:
            first = next(i for i, c in enumerate(nb.cells) if C.role(c) == C.ANSWER)
            nb.cells.insert(first + 1, new_code_cell(HOSTILE[kind]))
        path = folder / f"student{n:02d}-{kind}" / f"{lesson}.ipynb"
        path.parent.mkdir(parents=True)
        path.write_text(dumps(nb), encoding="utf-8")
    return len(kinds)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--lesson", default="01_tasks_and_actors")
    p.add_argument("--timeout", type=float, default=10.0)
    p.add_argument("--jobs", type=int, default=None)
    args = p.parse_args()
    from dsai.grading import cgroup, grader, sandbox
    why = sandbox.probe()
    mode = ["--trusted"] if why else []
    print(f"sandbox: {'none (' + why + '), graded --trusted' if why else 'bubblewrap'}; "
          f"session cgroup: {cgroup.available() or 'none'}")
    with tempfile.TemporaryDirectory(prefix="dsai-bench-") as tmp:
        subs, out = Path(tmp) / "subs", Path(tmp) / "out" / "grades.csv"
        n = build_class(subs, args.lesson)
        argv = [str(subs), "--out", str(out), "--source", str(REPO / "instructor" / "source"),
                "--timeout", str(args.timeout)] + mode
        if args.jobs:
            argv += ["--jobs", str(args.jobs)]
        start = time.perf_counter()
        grader.main(argv)
        wall = time.perf_counter() - start
        rows = [r for r in csv.DictReader(out.open()) if r["grade_id"] == "TOTAL"]
    totals = Counter((r["student"].split("-")[1], r["score"]) for r in rows)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\n{n} submissions of {args.lesson}, timeout {args.timeout:g} s per cell: "
          f"{wall:.1f} s wall ({wall / n:.1f} s per submission), grader peak {peak:.0f} MB")
    for (kind, score), count in sorted(totals.items()):
        print(f"  {kind:7s} scored {score:>3s}: {count}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
