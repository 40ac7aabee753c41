"""`dsai check-history`: is each recorded history explained by one correct copy of the data?

    dsai check-history FILE... --model cas-register|kv [--timeout S] [--json] [--format F] [--max-states N]

One verdict per file: ``--json`` prints one JSON object per line with at least
``file`` and ``valid`` (true, false or "unknown"); otherwise one readable line.
A file that cannot be read or does not follow the history format is never
judged valid: it is reported with ``"valid": "unknown"`` and an ``error``; so
is a file with no events at all (vacuously linearizable, but surely a mistake).

Exit status: 0 every file is linearizable; 1 some file is not (and every file
was decided); 2 some file is unknown (timeout) or bad input (bad file or usage).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from dsai.check.linearizability import MAX_STATES, check
from dsai.check.models import MODELS
from dsai.check.formats import FORMATS, read_any
from dsai.errors import HistoryError

__all__ = ["main", "check_file"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="dsai check-history",
        description="Check histories (JSON Lines, Jepsen's operation model) for linearizability.",
        epilog="exit status: 0 all linearizable, 1 some not linearizable, 2 unknown or bad input",
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="history files, one event per line")
    p.add_argument("--model", required=True, choices=sorted(MODELS), help="sequential specification to check against")
    p.add_argument("--timeout", type=float, default=None, metavar="S",
                   help="wall-clock seconds per file; when it runs out the verdict is 'unknown'")
    p.add_argument("--json", action="store_true", help="print one JSON object per file")
    p.add_argument("--max-states", type=int, default=MAX_STATES, metavar="N",
                   help=f"memory budget: search states cached at once (default {MAX_STATES}, ~150-270 bytes "
                        "each); when it runs out the verdict is 'unknown'")
    p.add_argument("--format", default="jsonl", choices=list(FORMATS),
                   help="input format: jsonl (dsai, default), jepsen-log (Jepsen's text log), edn (Jepsen maps)")
    return p


def check_file(path: str, model: str, timeout: float | None = None, fmt: str = "jsonl",
               max_states: int | None = MAX_STATES) -> dict[str, Any]:
    """Check one file; the JSON object `dsai check-history --json` prints for it."""
    try:
        history = read_any(path, fmt)
        if len(history) == 0:  # vacuously linearizable, but almost surely the wrong file
            raise HistoryError(f"{path}: the history has no events, so there is nothing to check; "
                               "is this the file the run wrote (and the right --format)?")
        result = check(history, model, timeout=timeout, max_states=max_states)
    except HistoryError as exc:
        return {"file": path, "valid": "unknown", "model": model, "error": str(exc)}
    return {"file": path, **result.to_json()}


def _line(report: dict[str, Any]) -> str:
    if "error" in report:
        return f"{report['file']}: ERROR (not checked): {report['error']}"
    verdict = {True: "linearizable", False: "NOT linearizable", "unknown": "UNKNOWN"}[report["valid"]]
    head = f"{report['file']}: {verdict} ({report['model']}, {report['ops']} ops, {report['keys']} key(s), {report['elapsed_s']:.2f} s)"
    if report["valid"] is True:
        return head
    why = report["explanation"].split(": ", 1)[-1]  # the verdict is already in the head
    return f"{head}\n  {why}"


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad usage, 0 on --help
        return int(exc.code or 0)
    if args.timeout is not None and not args.timeout > 0:
        print(f"dsai check-history: --timeout must be a positive number of seconds, got {args.timeout:g}",
              file=sys.stderr)
        return 2
    if args.max_states < 1:
        print(f"dsai check-history: --max-states must be at least 1, got {args.max_states}", file=sys.stderr)
        return 2
    reports = [check_file(path, args.model, args.timeout, args.format, args.max_states) for path in args.files]
    for report in reports:
        if args.json:
            print(json.dumps(report, ensure_ascii=False))
        else:
            print(_line(report))
    if any(r["valid"] == "unknown" for r in reports):
        return 2
    return 1 if any(r["valid"] is False for r in reports) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
