"""All-reduce and `dsai experiments`: wall time on the simulator, and on real Ray beside it.

Rows:
  ring all-reduce   one 1,048,576-element (8 MiB float64) ring all-reduce over 8 Rank
                    actors, on the simulator (8 simulated nodes) and on real Ray (8 actors
                    on this machine: no network, objects move through the local store);
                    setup (cluster, actors, loading the arrays) is not timed
  dsai experiments  the whole command, --json, in a fresh process (simulator only:
                    it reads the network counters and the virtual clock)

Each backend runs in its own process; the best of --rounds is kept. Prints, asserts nothing.

    python benchmarks/allreduce.py [--rounds 3] [--sim-only] [--json] [--elements N]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

WALL = time.perf_counter  # bound before dsai is imported: the real clock (the driver's includes virtual seconds)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def ring(elements: int, workers: int, rounds: int) -> dict:
    """In the child: `rounds` timed ring all-reduces on the running backend."""
    import numpy as np

    from dsai import ray
    from dsai.parallel import CollectiveGroup, allreduce, simulated, start_cluster

    if simulated():
        start_cluster(workers)
    else:
        kwargs = {"num_cpus": workers + 1, "include_dashboard": False, "log_to_driver": False}
        for attempt in range(3):
            try:
                ray.init(**kwargs)
                break
            except Exception as e:  # noqa: BLE001
                # A loaded 2-core machine can miss the raylet's fixed 30 s start-up deadline.
                if "timed out during startup" not in str(e) or attempt == 2:
                    raise
                ray.shutdown()
    group = CollectiveGroup(workers)
    xs = [np.random.default_rng(i).standard_normal(elements) for i in range(workers)]
    walls, virtual = [], None
    for _ in range(rounds):
        group.load(xs)
        t0 = WALL()
        run = allreduce(group, "ring")
        walls.append(WALL() - t0)
        virtual = run.seconds if simulated() else None
    ok = bool(np.allclose(group.values()[0], np.sum(xs, axis=0)))
    ray.shutdown()
    return {"wall_s": min(walls), "virtual_s": virtual, "correct": ok}


def _child(backend: str, elements: int, workers: int, rounds: int) -> dict | str:
    env = {k: v for k, v in os.environ.items() if k != "DSAI_BACKEND"}
    if backend == "ray":
        env.update(DSAI_BACKEND="ray", RAY_ADDRESS="local", RAY_DEDUP_LOGS="0")
    proc = subprocess.run([sys.executable, __file__, "--_ring", str(elements), str(workers), str(rounds)],
                          capture_output=True, text=True, env=env, cwd=ROOT)
    if proc.returncode != 0:
        return f"failed: {(proc.stderr.strip().splitlines() or ['?'])[-1]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


def experiments(rounds: int) -> float:
    walls = []
    for _ in range(rounds):
        t0 = WALL()
        subprocess.run([sys.executable, "-m", "dsai.cli", "experiments", "--json"], check=True,
                       capture_output=True, cwd=ROOT)
        walls.append(WALL() - t0)
    return min(walls)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--elements", type=int, default=2**20)
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--sim-only", action="store_true", help="skip real Ray")
    ap.add_argument("--skip-experiments", action="store_true", help="skip timing `dsai experiments`")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--_ring", nargs=3, type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args._ring:
        print(json.dumps(ring(*args._ring)))
        return 0
    rows = []
    backends = ["sim"] + ([] if args.sim_only else ["ray"])
    for b in backends:
        r = _child(b, args.elements, args.workers, args.rounds)
        rows.append({"row": f"ring all-reduce, {args.elements:,} float64 x {args.workers} workers",
                     "backend": "simulator" if b == "sim" else "real Ray",
                     **(r if isinstance(r, dict) else {"error": r})})
    if not args.skip_experiments:
        rows.append({"row": "dsai experiments --json", "backend": "simulator",
                     "wall_s": experiments(args.rounds)})
    if args.json:
        print(json.dumps({"rows": rows}, indent=1))
        return 0
    print(f"{'row':<48s} {'backend':<10s} {'wall s':>8s} {'virtual s':>10s}")
    for r in rows:
        wall = f"{r['wall_s']:.3f}" if "wall_s" in r else r.get("error", "-")
        virt = f"{r['virtual_s']:.6f}" if r.get("virtual_s") is not None else "-"
        print(f"{r['row']:<48s} {r['backend']:<10s} {wall:>8s} {virt:>10s}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
