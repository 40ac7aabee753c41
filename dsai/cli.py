"""The `dsai` command: one entry point, one subcommand per course tool.

Each subcommand lives beside the concept it drives and exposes
``main(argv) -> int``; this module only dispatches, importing the one it runs.
"""

from __future__ import annotations

import importlib
import sys

# name -> (module, summary)
COMMANDS: dict[str, tuple[str, str]] = {
    "release": ("dsai.grading.release", "write student versions from the masters"),
    "validate": ("dsai.grading.validate", "masters pass their tests, releases fail them"),
    "grade": ("dsai.grading.grader", "grade DIR/<student>/<lesson>.ipynb into a CSV"),
    "check-history": ("dsai.check.cli", "check JSON Lines histories for linearizability"),
    "cap-run": ("dsai.cap.cli", "one seeded run of the replicated store"),
    "experiments": ("dsai.parallel.experiments", "measured parallelism experiments"),
    "run": ("dsai.run", "run an unchanged `import ray` program on the simulator"),
}


def _usage() -> str:
    width = max(map(len, COMMANDS))
    rows = "\n".join(f"  {name:<{width}}  {summary}" for name, (_, summary) in COMMANDS.items())
    return f"usage: dsai COMMAND [ARGS...]\n\ncommands:\n{rows}\n\n'dsai COMMAND --help' for a command's options."


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(_usage())
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"dsai: unknown command {name!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[name][0])
    return int(module.main(rest) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
