"""`dsai run SCRIPT [ARGS...]`: run an unchanged Ray driver program against a simulated cluster.

A Ray program is a driver script: it connects to a cluster (`ray.init`),
submits work and exits. This command runs such a script as `python SCRIPT
ARGS...` would (`__name__ == "__main__"`, `sys.argv`, the script's directory
first on `sys.path`, its exit status, an uncaught exception's traceback), but
with `import ray` resolving to the simulator (`dsai.dropin`), so the same
program runs deterministically in one process, on virtual time, with no
cluster to start.

    dsai run train.py --epochs 3               # as `python train.py --epochs 3` would
    dsai run --seed 7 --num-cpus 4 train.py    # the cluster ray.init() starts, unless the script says

`python -m dsai.run ...` does the same.
"""

from __future__ import annotations

import argparse
import os
import runpy
import sys
import traceback
from pathlib import Path
from typing import Any

from dsai import dropin
from dsai.mockray import exit_drain

__all__ = ["main", "run_script"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="dsai run",
        description="Run an unchanged `import ray` program on the simulator. The options fill in "
                    "what the script's ray.init() leaves out (what it passes itself wins); "
                    "without them ray.init's own defaults apply (seed 0, 8 CPUs, no GPUs).")
    p.add_argument("--seed", type=int, default=None, help="seed of the simulation (ray.init default: 0)")
    p.add_argument("--num-cpus", type=int, default=None, help="CPUs of the head node (default: 8)")
    p.add_argument("--num-gpus", type=int, default=None, help="GPUs of the head node (default: 0)")
    p.add_argument("script", help="the Python file to run")
    p.add_argument("args", nargs=argparse.REMAINDER, help="arguments passed to the script as sys.argv[1:]")
    return p


def _exit_status(e: SystemExit) -> int:
    """The status `python` would exit with after `sys.exit(code)` (a message goes to stderr)."""
    code = e.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _print_traceback(exc: BaseException, script: str) -> None:
    """Print `exc` as Python would for an uncaught exception: the script's frames, not the runner's.

    Frames before the script's first one (runpy, this module) and the import
    hook's own frames (Python hides importlib's the same way) are left out.
    """
    tb = exc.__traceback__
    target = os.path.realpath(script)
    while tb is not None and os.path.realpath(tb.tb_frame.f_code.co_filename) != target:
        tb = tb.tb_next
    # No frame of the script (a SyntaxError in it): Python prints no stack either.
    report = traceback.TracebackException(type(exc), exc, tb)
    hook = os.path.realpath(dropin.__file__)
    report.stack = traceback.StackSummary.from_list(
        [f for f in report.stack if os.path.realpath(f.filename) != hook])
    # The script imported `ray`, so its errors are named as Ray names them:
    # `ray.exceptions.RayTaskError(ValueError): ...`, not `dsai.mockray.exceptions...`.
    text = "".join(report.format())
    text = "".join("ray." + line[len(_SIM_PACKAGE):] if line.startswith(_SIM_PACKAGE) else line
                   for line in text.splitlines(keepends=True))
    print(text, end="", file=sys.stderr)


_SIM_PACKAGE = "dsai.mockray."


def run_script(script: str, args: list[str] | None = None, **defaults: Any) -> int:
    """Run `script` as `__main__` with `import ray` on the simulator; return its exit status.

    `defaults` are `ray.init` keywords for what the script leaves out (see
    `dsai.dropin.install`). The simulated cluster is shut down at the end, as
    Ray shuts down at interpreter exit, after the same short grace for work the
    script submitted and never waited for (dsai.mockray.exit_drain).
    """
    path = Path(script)
    if not path.is_file():
        print(f"dsai run: can't open file {script!r}: no such file", file=sys.stderr)
        return 2
    saved_argv, saved_path0 = sys.argv, sys.path[0] if sys.path else None
    sys.argv = [script, *(args or [])]
    # As `python script.py` does: the script's directory first on sys.path.
    script_dir = str(path.resolve().parent)
    if sys.path:
        sys.path[0] = script_dir
    else:
        sys.path.insert(0, script_dir)
    try:
        with dropin.simulate_ray(**defaults):
            try:
                runpy.run_path(str(path), run_name="__main__")
            except SystemExit as e:
                return _exit_status(e)
            except KeyboardInterrupt as e:
                _print_traceback(e, str(path))
                return 130
            except BaseException as e:  # noqa: BLE001 - an uncaught exception of the script
                _print_traceback(e, str(path))
                return 1
            finally:
                exit_drain.at_exit()  # as at interpreter exit: submitted work still runs a little
        return 0
    finally:
        sys.argv = saved_argv
        if saved_path0 is not None:
            sys.path[0] = saved_path0
        sys.stdout.flush()
        sys.stderr.flush()


def main(argv: list[str] | None = None) -> int:
    opts = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    defaults = {key: value for key, value in (("seed", opts.seed), ("num_cpus", opts.num_cpus),
                                              ("num_gpus", opts.num_gpus)) if value is not None}
    return run_script(opts.script, opts.args, **defaults)


if __name__ == "__main__":
    sys.exit(main())
