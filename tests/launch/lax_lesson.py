"""Run one student notebook the way CI checks a lesson: nbval in lax mode, exercise cells excused.

A student version is meant to fail where the student has work to do: an answer cell's stub
raises NotImplementedError and the test cell after it fails. Every other cell must run.
So the copy run here tags nbgrader answer and test cells `raises-exception` (nbval and
JupyterLab both honour the tag: the error is allowed and the run goes on) and leaves every
other cell as it is, so an error anywhere else fails the lesson.

    python tests/launch/lax_lesson.py notebooks/01_tasks_and_actors.ipynb [--workdir DIR]

prints one JSON line, {"notebook", "passed", "failed", "exit", "peak_kernel_mib"}, and exits
with pytest's status. The peak is the largest resident set among this process's finished
children: the kernel, the only child nbval starts. Needs nbformat, pytest and nbval.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
from pathlib import Path

EXCUSED_TAG = "raises-exception"


def is_exercise_cell(cell: dict) -> bool:
    """An nbgrader answer cell (solution) or test cell (grade): allowed to raise in a release."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.get("cell_type") == "code" and bool(meta.get("solution") or meta.get("grade"))


def excuse_exercises(src: Path, dst: Path) -> int:
    """Copy the notebook, tagging exercise cells; return how many were tagged."""
    import nbformat

    nb = nbformat.read(src, as_version=4)
    tagged = 0
    for cell in nb.cells:
        if is_exercise_cell(cell):
            tags = cell.metadata.setdefault("tags", [])
            if EXCUSED_TAG not in tags:
                tags.append(EXCUSED_TAG)
            tagged += 1
    nbformat.write(nb, dst)
    return tagged


class _Count:
    """A pytest plugin that counts outcomes of the cells' call phase."""

    def __init__(self) -> None:
        self.passed = self.failed = 0

    def pytest_runtest_logreport(self, report) -> None:
        if report.when == "call" and report.passed:
            self.passed += 1
        elif report.failed:
            self.failed += 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", type=Path)
    parser.add_argument("--workdir", type=Path, default=None,
                        help="where the tagged copy goes (default: a temporary folder)")
    args = parser.parse_args(argv)
    import pytest

    with tempfile.TemporaryDirectory(prefix="dsai-lax-") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        copy = workdir / args.notebook.name
        excuse_exercises(args.notebook, copy)
        count = _Count()
        code = pytest.main(["-q", "--nbval-lax", "-p", "no:cacheprovider",
                            "--rootdir", str(workdir), str(copy)], plugins=[count])
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
    print(json.dumps({"notebook": args.notebook.name, "passed": count.passed,
                      "failed": count.failed, "exit": int(code),
                      "peak_kernel_mib": round(peak_kib / 1024, 1)}))
    return int(code)


if __name__ == "__main__":
    sys.exit(main())
