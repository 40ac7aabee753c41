"""Predictions beside measurements: the same experiments on the simulator and on a real Ray cluster.

    dsai experiments --backend ray [--json]

The simulator predicts (virtual seconds on its alpha-beta network, the bubble
from its timeline, the bytes its network counted); real Ray measures the same
code (wall seconds, the bubble from Ray's own `ray.timeline()`). Each side runs
in a process of its own, because `from dsai import ray` picks one backend per
process: ``python -m dsai.parallel.exp_ray --side sim|ray`` prints one side's
rows as JSON, and `compare` runs both and puts them side by side.

The real side joins the cluster ``RAY_ADDRESS`` names (Ray's convention), or
starts a one-node Ray here. Its cases, all small enough for a laptop:

- all-reduce: the ring over N ranks, spread over the cluster's nodes (rank i
  on node i mod nodes), M = 2^20 float64 each; wall seconds per all-reduce
  (the median of `REPEATS` after one warm-up), the payload the busiest rank
  handed on (the collective's ledger, the same bookkeeping on both backends),
  and the bytes on the wire where the backend counts them (Ray does not
  report per-node transfer bytes to a driver: its object manager's counters
  go to its Prometheus metrics).
- training: the parameter server on the digits, synchronous and
  asynchronous, 2 workers, `STEPS` steps each; seconds per step (run seconds /
  steps), test accuracy, and the staleness of the applied gradients (mean and
  largest: 0 when synchronous; asynchronous, it is what the arrival order made it).
- pipeline: GPipe and 1F1B over 2 stages (one node each where the cluster has
  two: a placement group), 4 micro-batches; the bubble from the timeline and
  the seconds of the step.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

from dsai.parallel.report import Column, Progress, Section

__all__ = ["ALLREDUCE_CASES", "TRAINING_CASES", "PIPELINE_CASES", "REPEATS", "STEPS",
           "side", "compare", "timeline_bubble", "main"]

ELEMENTS = 2**20  # float64 per rank: 8 MiB, as in the simulator's all-reduce section
ALLREDUCE_CASES = [2, 4]  # ring ranks N
TRAINING_CASES = ["sync", "async"]  # PS modes, 2 workers, 1 shard
PIPELINE_CASES = [("gpipe", 2, 4), ("1f1b", 2, 4)]  # (schedule, stages, micro-batches)
REPEATS = 5
STEPS = 20
TIMELINE_WAIT_S = 30.0  # Ray's workers report task events about once a second


def _backend_is_sim() -> bool:
    from dsai import ray

    return ray.__name__ != "ray"


def _connect() -> str:
    """Simulator: a fresh cluster per case (each case starts its own). Real Ray: join or start."""
    from dsai import course, ray

    address = course.existing_cluster()
    if not ray.is_initialized():
        if address is None:
            ray.init(address="local", num_cpus=4, num_gpus=2, log_to_driver=False)
        else:
            ray.init(address=address, log_to_driver=False)
    alive = [n for n in ray.nodes() if n.get("Alive", True)]
    cpus = int(ray.cluster_resources().get("CPU", 0))
    return f"{len(alive)} node(s), {cpus} CPUs" + (f" at {address}" if address else " (local)")


def _allreduce_rows(progress: Progress) -> list[dict[str, Any]]:
    import numpy as np

    from dsai import ray
    from dsai.parallel import exp_allreduce
    from dsai.parallel.collectives import allreduce
    from dsai.parallel.group import CollectiveGroup
    from dsai.parallel.placement import alive_nodes

    rows = []
    for n in ALLREDUCE_CASES:
        if _backend_is_sim():
            r, err = exp_allreduce.measure("ring", n)
            row = exp_allreduce.row(r, err)
            rows.append({"workers": n, "seconds": r.seconds, "payload_bytes": r.payload_sent_max,
                         "wire_bytes": r.wire_sent_max, "theory_seconds": row["theory_seconds"],
                         "max_abs_error_vs_numpy": err})
        else:
            nodes = alive_nodes()
            group = CollectiveGroup(n, [nodes[i % len(nodes)] for i in range(n)])
            rng = np.random.default_rng(0)
            xs = [rng.standard_normal(ELEMENTS) for _ in range(n)]
            seconds, err, payload = [], 0.0, 0
            for repeat in range(REPEATS + 1):  # the first run starts workers: not counted
                group.load(xs)
                r = allreduce(group, "ring")
                if repeat:
                    seconds.append(r.seconds)
                payload = r.payload_sent_max
            expected = np.sum(xs, axis=0)
            err = max(float(np.max(np.abs(v - expected))) for v in group.values())
            for rank in group.ranks:
                ray.kill(rank)
            rows.append({"workers": n, "nodes": len(set(group.nodes)), "seconds": statistics.median(seconds),
                         "payload_bytes": payload, "wire_bytes": None, "max_abs_error_vs_numpy": err})
        progress(f"[ray-compare] all-reduce ring N={n}: {rows[-1]['seconds'] * 1e3:.2f} ms")
    return rows


def _training_rows(progress: Progress) -> list[dict[str, Any]]:
    from dsai import ps

    rows = []
    for mode in TRAINING_CASES:
        config = ps.PSConfig(mode=mode, workers=2, shards=1, steps=STEPS, eval_every=1000)
        result = ps.simulate(config) if _backend_is_sim() else ps.train(config)
        staleness = result.staleness
        rows.append({"mode": mode, "workers": 2, "steps": STEPS, "seconds_per_step": result.seconds / STEPS,
                     "test_accuracy": result.test_accuracy, "gradients": len(result.history),
                     "mean_staleness": float(staleness.mean()) if len(staleness) else 0.0,
                     "max_staleness": result.max_staleness})
        progress(f"[ray-compare] training {mode}: {rows[-1]['seconds_per_step'] * 1e3:.2f} ms per step")
    return rows


def timeline_bubble(events: list[dict], since_us: float, stages: int, expected: int) -> tuple[float, float]:
    """(bubble, makespan in s) from real Ray's timeline: the stages' forward/backward spans
    after `since_us`, one worker process (`tid`) per stage actor; idle stage-time over
    stages x makespan, as `dsai.parallel.schedule.bubble_of` measures it on the simulator."""
    spans = [e for e in events if e.get("ph") == "X" and e["ts"] >= since_us
             and e.get("cat", "").startswith("task::PipelineStage.")
             and e["cat"].rsplit(".", 1)[-1] in ("forward", "backward")]
    if len(spans) != expected:
        raise RuntimeError(f"Ray's timeline holds {len(spans)} stage steps since the run began, "
                           f"the schedule {expected}")
    if len({e["tid"] for e in spans}) != stages:
        raise RuntimeError(f"the steps ran in {len({e['tid'] for e in spans})} worker processes, "
                           f"not one per stage ({stages})")
    start = min(e["ts"] for e in spans)
    makespan = max(e["ts"] + e["dur"] for e in spans) - start
    busy = sum(e["dur"] for e in spans)
    return 1.0 - busy / (stages * makespan), makespan / 1e6


def _pipeline_rows(progress: Progress) -> list[dict[str, Any]]:
    from dsai import ray
    from dsai.parallel import exp_pipeline
    from dsai.parallel.device import start_devices
    from dsai.parallel.pipeline import run_pipeline

    rows = []
    for schedule, p, m in PIPELINE_CASES:
        if _backend_is_sim():
            r = exp_pipeline.measure(schedule, p, m)
            bubble, seconds = r.bubble_fraction, r.makespan
        else:
            start_devices(p, exp_pipeline.SPEC)  # keeps the joined cluster when it has the GPUs
            model, x, y = exp_pipeline.model_and_batch()
            run_pipeline(model, x, y, stages=p, microbatches=m, schedule=schedule,
                         spec=exp_pipeline.SPEC)  # warm-up: starts the stages' worker processes
            since = time.time() * 1e6
            r = run_pipeline(model, x, y, stages=p, microbatches=m, schedule=schedule, spec=exp_pipeline.SPEC)
            deadline = time.monotonic() + TIMELINE_WAIT_S
            while True:  # task events reach the GCS about once a second: wait for all of them
                try:
                    bubble, seconds = timeline_bubble(ray.timeline(), since, p, 2 * p * m)
                    break
                except RuntimeError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(1.0)
        rows.append({"schedule": schedule, "stages": p, "microbatches": m, "bubble_fraction": bubble,
                     "theory_bubble_fraction": r.theory_bubble_fraction, "makespan_s": seconds})
        progress(f"[ray-compare] pipeline {schedule} p={p} m={m}: bubble {bubble:.3f}")
    return rows


def side(progress: Progress) -> dict[str, Any]:
    """This process's backend's rows for every case (see the module docstring)."""
    from dsai import ray

    where = "simulator" if _backend_is_sim() else f"Ray {ray.__version__}: {_connect()}"
    progress(f"[ray-compare] {where}")
    out = {"backend": where, "allreduce": _allreduce_rows(progress),
           "training": _training_rows(progress), "pipeline": _pipeline_rows(progress)}
    ray.shutdown()
    return out


def _run_side(backend: str, progress: Progress) -> dict[str, Any]:
    env = {**os.environ, "DSAI_BACKEND": backend}
    done = subprocess.run([sys.executable, "-m", "dsai.parallel.exp_ray", "--side"], env=env,
                          stdout=subprocess.PIPE, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"the {backend} side of the comparison failed (exit {done.returncode}); "
                           "its messages are above")
    return json.loads(done.stdout.strip().splitlines()[-1])  # the JSON line is the last


def compare(progress: Progress) -> list[Section]:
    """Both sides, the simulator first (so it does not compete with Ray for the CPUs), side by side."""
    sim, real = _run_side("sim", progress), _run_side("ray", progress)
    ms = lambda v: f"{v * 1e3:.2f}"  # noqa: E731
    mib = lambda v: f"{v / 2**20:.2f}"  # noqa: E731
    allreduce = [{"workers": s["workers"], "nodes": r["nodes"], "sim_seconds": s["seconds"],
                  "theory_seconds": s["theory_seconds"], "ray_seconds": r["seconds"],
                  "sim_payload_bytes": s["payload_bytes"], "ray_payload_bytes": r["payload_bytes"],
                  "sim_wire_bytes": s["wire_bytes"], "ray_wire_bytes": r["wire_bytes"],
                  "ray_max_abs_error_vs_numpy": r["max_abs_error_vs_numpy"]}
                 for s, r in zip(sim["allreduce"], real["allreduce"])]
    training = [{"mode": s["mode"], "workers": s["workers"], "steps": s["steps"],
                 "sim_seconds_per_step": s["seconds_per_step"], "ray_seconds_per_step": r["seconds_per_step"],
                 "sim_test_accuracy": s["test_accuracy"], "ray_test_accuracy": r["test_accuracy"],
                 "sim_mean_staleness": s["mean_staleness"], "ray_mean_staleness": r["mean_staleness"],
                 "sim_max_staleness": s["max_staleness"], "ray_max_staleness": r["max_staleness"]}
                for s, r in zip(sim["training"], real["training"])]
    pipeline = [{"schedule": s["schedule"], "stages": s["stages"], "microbatches": s["microbatches"],
                 "theory_bubble_fraction": s["theory_bubble_fraction"], "sim_bubble_fraction": s["bubble_fraction"],
                 "ray_bubble_fraction": r["bubble_fraction"], "sim_makespan_s": s["makespan_s"],
                 "ray_makespan_s": r["makespan_s"]}
                for s, r in zip(sim["pipeline"], real["pipeline"])]
    where = f"real side: {real['backend']}"
    return [
        Section("ray_allreduce", f"Ring all-reduce, {ELEMENTS:,} float64 per rank: simulator vs real Ray ({where})",
                allreduce,
                [Column("workers", "N"), Column("nodes", "nodes"), Column("theory_seconds", "alpha-beta ms", ms),
                 Column("sim_seconds", "sim ms", ms), Column("ray_seconds", "Ray ms", ms),
                 Column("sim_payload_bytes", "sim payload MiB", mib),
                 Column("ray_payload_bytes", "Ray payload MiB", mib),
                 Column("sim_wire_bytes", "sim wire MiB", mib), Column("ray_wire_bytes", "Ray wire MiB", mib),
                 Column("ray_max_abs_error_vs_numpy", "Ray |err|", "{:.1e}")],
                [f"Ray ms: median of {REPEATS} all-reduces after a warm-up, wall clock; "
                 "payload: the busiest rank's hand-overs (the collective's ledger); Ray reports no wire bytes."]),
        Section("ray_training", f"Parameter server on digits, {STEPS} steps per worker ({where})", training,
                [Column("mode", "mode"), Column("workers", "N"), Column("sim_seconds_per_step", "sim ms/step", ms),
                 Column("ray_seconds_per_step", "Ray ms/step", ms),
                 Column("sim_test_accuracy", "sim acc", "{:.3f}"), Column("ray_test_accuracy", "Ray acc", "{:.3f}"),
                 Column("sim_mean_staleness", "sim stale mean", "{:.2f}"),
                 Column("ray_mean_staleness", "Ray stale mean", "{:.2f}"),
                 Column("sim_max_staleness", "sim stale max"), Column("ray_max_staleness", "Ray stale max")],
                ["ms/step: the run's seconds over its steps (virtual on the simulator, wall on Ray); "
                 "staleness: server versions between the weights a gradient was computed on and the "
                 "version it was applied to, over every applied gradient."]),
        Section("ray_pipeline", f"Pipeline step, 8 x 128 MLP, batch 1,024 ({where})", pipeline,
                [Column("schedule", "schedule"), Column("stages", "p"), Column("microbatches", "m"),
                 Column("theory_bubble_fraction", "theory bubble", "{:.3f}"),
                 Column("sim_bubble_fraction", "sim bubble", "{:.3f}"),
                 Column("ray_bubble_fraction", "Ray bubble", "{:.3f}"),
                 Column("sim_makespan_s", "sim ms", ms), Column("ray_makespan_s", "Ray ms", ms)],
                ["bubble: idle stage-time / (stages x makespan), from each backend's ray.timeline()."]),
    ]


def main(argv: list[str] | None = None) -> int:
    """`--side`: print this backend's rows as JSON (used by `compare`)."""
    parser = argparse.ArgumentParser(prog="python -m dsai.parallel.exp_ray")
    parser.add_argument("--side", action="store_true", help="print this backend's rows as JSON")
    args = parser.parse_args(argv)
    if not args.side:
        parser.error("give --side (or run `dsai experiments --backend ray` for the comparison)")
    progress = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731
    print(json.dumps(side(progress)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
