"""benchmarks/dropin_monte_carlo.py runs and prints its row (its figures are not checked: speed goals
live in benchmarks/, not in timed tests)."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def test_dropin_benchmark_times_a_ray_program_on_the_simulator():
    program = ROOT / "tests" / "corpus" / "ray_docs" / "pattern_map_reduce.py"
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "dropin_monte_carlo.py"), "--sim-only",
                          "--json", "--program", str(program)],
                         capture_output=True, text=True, check=True, timeout=300).stdout
    row = json.loads(out)
    assert row["program"] == "pattern_map_reduce.py" and row["sim_s"] > 0 and "ray_s" not in row
