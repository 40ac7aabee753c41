"""The benchmark scripts run and print what they promise (their figures are not checked: speed
goals live in benchmarks/, not in timed tests)."""

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"


def test_microbenchmark_prints_every_row_of_ray_microbenchmark():
    out = subprocess.run([sys.executable, str(BENCH / "microbenchmark.py"), "--sim-only", "--scale", "0.01",
                          "--json"], capture_output=True, text=True, check=True, timeout=300).stdout
    rows = json.loads(out)["rows"]
    assert [r["row"] for r in rows] == [
        "single client tasks sync", "single client tasks async", "1:1 actor calls sync",
        "1:1 actor calls async", "single client put+get", "single client wait 1k refs"]
    assert all(r["sim_ops_s"] > 0 for r in rows)


def test_scale_benchmark_reports_the_makespan_theory_predicts():
    out = subprocess.run([sys.executable, str(BENCH / "scale.py"), "--tasks", "2000", "--nodes", "7"],
                         capture_output=True, text=True, check=True, timeout=300).stdout
    tasks, nodes, _wall, _us, makespan, _mib = out.strip().splitlines()[-1].replace(",", "").split()
    # ceil(2000 / 7) = 286 one-second rounds, each after its spec's 0.1 ms trip, plus the last reply's
    assert (int(tasks), int(nodes), float(makespan)) == (2000, 7, 286.029)
    assert "expected" not in out


def test_ps_benchmark_prints_its_rows():
    out = subprocess.run([sys.executable, str(BENCH / "ps_benchmark.py"), "--rounds", "1", "--json"],
                         capture_output=True, text=True, check=True, timeout=300).stdout
    rows = json.loads(out)["rows"]
    assert rows[0]["row"].startswith("sync PS, 4 workers") and rows[0]["test_accuracy"] >= 0.95
    assert [r["row"].split(" (")[1].split(",")[0] for r in rows[1:]] == ["sync", "ssp", "async", "ssp"]
    assert "10 Mbit/s" in rows[-1]["row"]  # the bandwidth slider's far end


def test_allreduce_benchmark_times_a_correct_ring():
    out = subprocess.run([sys.executable, str(BENCH / "allreduce.py"), "--sim-only", "--rounds", "1",
                          "--elements", "131072", "--skip-experiments", "--json"],
                         capture_output=True, text=True, check=True, timeout=300).stdout
    (row,) = json.loads(out)["rows"]
    assert row["backend"] == "simulator" and row["correct"] and row["wall_s"] > 0
    assert row["virtual_s"] > 0


def test_lessons_benchmark_times_every_code_cell_of_a_lesson():
    out = subprocess.run([sys.executable, str(BENCH / "lessons.py"), "--json", "00_welcome"],
                         capture_output=True, text=True, check=True, timeout=300).stdout
    report = json.loads(out)
    cells = report["cells"]
    assert list(report["totals"]) == ["00_welcome"] and cells
    assert all(r["lesson"] == "00_welcome" and r["seconds"] >= 0 for r in cells)
    assert report["totals"]["00_welcome"] == round(sum(r["seconds"] for r in cells), 3)
