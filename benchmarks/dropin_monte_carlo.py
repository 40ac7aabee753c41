"""Pure-Python compute on the simulator runs on one core: Ray's Monte Carlo π example, timed on both backends.

The simulator runs every task in the driver's process, one at a time, so a
compute-bound program gets one core however many the machine has; real Ray
runs tasks in worker processes, one per core. This times the same unchanged
program (Ray's documentation example `monte_carlo_pi.py`: 10 tasks of 10M
samples in pure Python) both ways, in wall-clock seconds:

    python benchmarks/dropin_monte_carlo.py              # simulator, then real Ray if installed
    python benchmarks/dropin_monte_carlo.py --sim-only
    python benchmarks/dropin_monte_carlo.py --program tests/corpus/ray_docs/pattern_map_reduce.py

Real Ray's figure includes starting its local cluster; that start alone is
timed too (a program that only calls ray.init()), so the compute can be read
off. Figures swing 2x on a shared machine; run it on a quiet one.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PROGRAM = ROOT / "tests" / "corpus" / "ray_docs" / "monte_carlo_pi.py"


def timed(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return seconds, done.stdout


def ray_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DSAI_BACKEND"}
    # A fresh local cluster per run, with a token of its own (Ray 2.60 enables token auth).
    env.update(RAY_ADDRESS="local", RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=secrets.token_hex(32))
    return env


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--program", type=Path, default=DEFAULT_PROGRAM, help="the Ray program to time")
    p.add_argument("--sim-only", action="store_true", help="skip real Ray")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    opts = p.parse_args(argv)
    program = opts.program.resolve()
    env = {k: v for k, v in os.environ.items() if k != "DSAI_BACKEND"}
    row: dict[str, object] = {"program": program.name, "cores": os.cpu_count(),
                              "load_before": round(os.getloadavg()[0], 1)}
    say = (lambda *a, **k: None) if opts.json else print
    say(f"{row['program']} on {row['cores']} cores (load average {row['load_before']}), wall-clock seconds")
    row["sim_s"], _ = timed([sys.executable, "-m", "dsai.run", program.name], env, program.parent)
    say(f"  simulator (dsai run):          {row['sim_s']:7.1f}", flush=True)
    if not opts.sim_only and importlib.util.find_spec("ray") is not None:
        row["ray_s"], _ = timed([sys.executable, program.name], ray_env(), program.parent)
        say(f"  real Ray 2.60 (python):        {row['ray_s']:7.1f}", flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            start_only = Path(tmp) / "init_only.py"
            start_only.write_text("import ray\nray.init()\n")
            row["ray_init_s"], _ = timed([sys.executable, str(start_only)], ray_env(), Path(tmp))
        say(f"    of which starting Ray alone: {row['ray_init_s']:7.1f}")
        say(f"  simulator / real Ray:          {row['sim_s'] / row['ray_s']:7.2f}x")
    row["load_after"] = round(os.getloadavg()[0], 1)
    say(f"  (load average after: {row['load_after']})")
    if opts.json:
        print(json.dumps(row))
    return 0

if __name__ == "__main__":
    sys.exit(main())
