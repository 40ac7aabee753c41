"""Release: derive the student's copy from the master, so the two never drift apart.

`release_notebook` is a pure function of the master: answers become a stub
that raises ``NotImplementedError`` with a hint, hidden tests disappear, tests
and instructions are locked, outputs of answer and test cells are cleared
(outputs of explanations stay, so students see figures before running), and
every marked cell records nbgrader's checksum. The grader later compares a
submission against these checksums and restores what was changed.

``dsai release [--source DIR] [--out DIR] [--check]`` writes
``DIR/<lesson>.ipynb`` for every ``source/<lesson>/<lesson>.ipynb``;
``--check`` writes nothing and fails if the files on disk differ.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from dsai.errors import GradingError
from dsai.grading import cells as C

__all__ = ["release_notebook", "stub_for", "find_masters", "read_notebook", "dumps", "main"]

TEXT_STUB = "YOUR ANSWER HERE"
DEFAULT_HINT = "replace this line with your answer"


def stub_for(hint: str, indent: str = "") -> list[str]:
    """The two lines that replace a solution: a comment and a friendly raise."""
    message = hint or DEFAULT_HINT
    return [f"{indent}# YOUR CODE HERE", f"{indent}raise NotImplementedError({message!r})"]


def _release_answer(cell: NotebookNode, where: str) -> None:
    regions = C.split_regions(cell.source, where)
    if any(r.kind == "hidden" for r in regions):
        raise GradingError(f"{where}: hidden tests belong in test cells, not in an answer cell")
    if cell.cell_type != "code":
        cell.source = TEXT_STUB
        return
    lines: list[str] = []
    for r in regions:
        lines.extend(stub_for(r.hint, r.indent) if r.kind == "solution" else r.lines)
    if not any(r.kind == "solution" for r in regions):  # whole cell is the answer
        lines = stub_for("")
    cell.source = "\n".join(lines)


def _lock(cell: NotebookNode) -> None:
    cell.metadata["editable"] = False
    cell.metadata["deletable"] = False


def _clear_outputs(cell: NotebookNode) -> None:
    if cell.cell_type == "code":
        cell.outputs = []
        cell.execution_count = None


def release_notebook(master: NotebookNode, name: str = "master") -> NotebookNode:
    """The student version of a master notebook (the master is not modified)."""
    nb = copy.deepcopy(master)
    for index, cell in enumerate(nb.cells):
        where = f"{name}: {C.describe(cell, index)}"
        r = C.role(cell)
        if r == C.PLAIN:
            if cell.cell_type == "code":
                raise GradingError(
                    f"{where} has no nbgrader metadata; a code cell in a master must be an "
                    "answer, a test or read-only, so that grading restores it. Mark it with "
                    "'nbgrader': {'grade': false, 'solution': false, 'locked': true, "
                    "'grade_id': '<unique-id>', 'schema_version': 3}")
            C.split_regions(cell.source, where)  # markers outside marked cells are errors
            _lock(cell)
            continue
        if r in (C.ANSWER, C.MANUAL):
            _release_answer(cell, where)
            _clear_outputs(cell)
            cell.metadata["deletable"] = False
        elif r == C.TEST:
            if cell.cell_type != "code":
                raise GradingError(f"{where}: a test cell must be a code cell")
            cell.source = C.strip_hidden_tests(cell.source, where)
            _clear_outputs(cell)
            _lock(cell)
        else:  # readonly, task
            if any(reg.kind != "text" for reg in C.split_regions(cell.source, where)):
                raise GradingError(f"{where}: markers are only allowed in answer and test cells")
            _lock(cell)
        meta = cell.metadata["nbgrader"]
        meta["cell_type"] = cell.cell_type
        meta["checksum"] = C.compute_checksum(cell)
    return nb


def read_notebook(path: Path | str) -> NotebookNode:
    """Read a notebook (nbformat 4), naming the file when it cannot be read."""
    try:
        return nbformat.read(str(path), as_version=4)
    except (OSError, ValueError, json.JSONDecodeError) as e:
        raise GradingError(f"{path}: cannot read the notebook ({e})") from e


def dumps(nb: NotebookNode) -> str:
    """Notebook JSON as Jupyter writes it (stable, so releases compare byte for byte)."""
    return nbformat.writes(nb, version=4) + "\n"


def find_masters(source: Path) -> list[Path]:
    """Every ``source/<lesson>/<lesson>.ipynb``, sorted by lesson name."""
    if not source.is_dir():
        raise GradingError(f"masters folder {source} does not exist; pass --source DIR")
    found = sorted(p / f"{p.name}.ipynb" for p in source.iterdir()
                   if p.is_dir() and (p / f"{p.name}.ipynb").is_file())
    if not found:
        raise GradingError(f"no masters in {source}: expected {source}/<lesson>/<lesson>.ipynb")
    return found


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dsai release", description=__doc__.split("\n")[0])
    p.add_argument("--source", type=Path, default=Path("instructor/source"),
                   help="folder of masters, <lesson>/<lesson>.ipynb (default: instructor/source)")
    p.add_argument("--out", type=Path, default=Path("notebooks"),
                   help="where student versions go (default: notebooks)")
    p.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 if --out differs from a fresh release")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        masters = find_masters(args.source)
        released = {m.stem: dumps(release_notebook(read_notebook(m), m.stem)) for m in masters}
    except GradingError as e:
        print(f"dsai release: {e}", file=sys.stderr)
        return 1
    drift = []
    for lesson, text in released.items():
        target = args.out / f"{lesson}.ipynb"
        current = target.read_text(encoding="utf-8") if target.is_file() else None
        if args.check:
            if current != text:
                drift.append(target)
            continue
        args.out.mkdir(parents=True, exist_ok=True)
        if current != text:
            target.write_text(text, encoding="utf-8")
        print(f"released {target}")
    orphans = sorted(p for p in args.out.glob("*.ipynb") if p.stem not in released) \
        if args.out.is_dir() else []
    for orphan in orphans:
        print(f"dsai release: {orphan} has no master ({args.source}/{orphan.stem}/"
              f"{orphan.stem}.ipynb); notebooks there must come from a release", file=sys.stderr)
    drift += orphans if args.check else []
    if drift:
        names = ", ".join(map(str, drift))
        print(f"dsai release --check: {names} differ from a fresh release; run 'dsai release'",
              file=sys.stderr)
        return 1
    return 0
