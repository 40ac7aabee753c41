"""Lesson speed: each master notebook run cell by cell in a fresh kernel, the slowest cells reported.

Prints figures, asserts nothing (the machine is shared; its speed swings 2x+).
Goals from issue 15: every cell under 3 s on a 2-core machine, all masters
together under 3 minutes. Run from the repository root:

    python benchmarks/lessons.py [--slowest 10] [--json] [LESSON ...]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL_CELL_S = 3.0
GOAL_TOTAL_S = 180.0


def time_notebook(path: Path) -> list[dict]:
    """Run `path` in a fresh kernel (cwd: its folder); one row per code cell with its wall time."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    rows = []
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            start = time.perf_counter()
            client.execute_cell(cell, index)
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
            rows.append({"lesson": path.stem, "cell": index, "grade_id": grade_id,
                         "seconds": round(time.perf_counter() - start, 3)})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lessons", nargs="*", help="lesson names (default: every master)")
    parser.add_argument("--slowest", type=int, default=10, help="how many of the slowest cells to list")
    parser.add_argument("--json", action="store_true", help="print every row as JSON")
    args = parser.parse_args(argv)
    masters = sorted((ROOT / "instructor" / "source").glob("*/*.ipynb"))
    if args.lessons:
        masters = [m for m in masters if m.stem in args.lessons]
    rows: list[dict] = []
    totals: dict[str, float] = {}
    for master in masters:
        print(f"running {master.stem} ...", file=sys.stderr)
        lesson_rows = time_notebook(master)
        rows += lesson_rows
        totals[master.stem] = round(sum(r["seconds"] for r in lesson_rows), 3)
    if args.json:
        print(json.dumps({"totals": totals, "cells": rows}, indent=1))
        return 0
    print(f"{'lesson':<24}{'cells':>6}{'total s':>9}{'slowest s':>11}")
    for name, total in totals.items():
        mine = [r["seconds"] for r in rows if r["lesson"] == name]
        print(f"{name:<24}{len(mine):>6}{total:>9.2f}{max(mine):>11.2f}")
    print(f"all masters: {sum(totals.values()):.1f} s (goal: under {GOAL_TOTAL_S:.0f} s)")
    print(f"\nslowest cells (goal: each under {GOAL_CELL_S:.0f} s):")
    for r in sorted(rows, key=lambda r: -r["seconds"])[:args.slowest]:
        over = "  over the goal" if r["seconds"] >= GOAL_CELL_S else ""
        print(f"  {r['seconds']:6.2f} s  {r['lesson']} cell {r['cell']} {r['grade_id']}{over}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
