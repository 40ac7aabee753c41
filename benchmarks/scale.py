"""Scale: N one-second tasks on a simulated cluster of M one-CPU nodes.

The goal from issue #2: one million tasks on 1,000 nodes finish with a
virtual makespan of 1,000 s in under 60 s of wall time on one core, with
memory under 2 GiB. Prints wall time, makespan, peak memory, and how wall
time grows with tasks and nodes.

    python benchmarks/scale.py                 # the grid, then the 1M x 1,000 run
    python benchmarks/scale.py --tasks 100000 --nodes 100
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

WALL = time.perf_counter  # bound before dsai is imported: the real clock (the driver's includes virtual seconds)

def run(tasks: int, nodes: int) -> dict:
    import dsai.mockray as ray
    import dsai.sim as sim
    from dsai.mockray.cluster_utils import Cluster

    cluster = Cluster()
    for _ in range(nodes):
        cluster.add_node(num_cpus=1)
    ray.init(address=cluster.address)

    @ray.remote
    def second():
        time.sleep(1.0)

    t0 = WALL()
    refs = [second.remote() for _ in range(tasks)]
    submitted = WALL() - t0
    ray.get(refs)
    wall = WALL() - t0
    out = {"tasks": tasks, "nodes": nodes, "wall_s": round(wall, 2), "submit_s": round(submitted, 2),
           "makespan_s": round(sim.now(), 6), "expected_makespan_s": -(-tasks // nodes),
           "us_per_task": round(wall / tasks * 1e6, 1),
           "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}
    ray.shutdown()
    cluster.shutdown()
    return out


def child(tasks: int, nodes: int) -> dict:
    # Each run in a fresh process, so peak memory is its own.
    proc = subprocess.run([sys.executable, __file__, "--_child", str(tasks), str(nodes)],
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", type=int)
    ap.add_argument("--nodes", type=int)
    ap.add_argument("--no-grid", action="store_true")
    ap.add_argument("--_child", nargs=2, type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args._child:
        print(json.dumps(run(*args._child)))
        return 0
    cases = []
    if args.tasks or args.nodes:
        cases = [(args.tasks or 100_000, args.nodes or 100)]
    else:
        if not args.no_grid:
            cases += [(t, n) for t in (10_000, 100_000) for n in (10, 100, 1000)]
        cases.append((1_000_000, 1000))
    print(f"{'tasks':>9s} {'nodes':>6s} {'wall s':>8s} {'us/task':>8s} {'makespan s':>11s} {'peak MiB':>9s}")
    for t, n in cases:
        r = child(t, n)
        ok = "" if r["makespan_s"] == r["expected_makespan_s"] else f"  (expected {r['expected_makespan_s']})"
        print(f"{t:>9,} {n:>6,} {r['wall_s']:>8.2f} {r['us_per_task']:>8.1f} {r['makespan_s']:>11.3f} "
              f"{r['peak_rss_mib']:>9,}{ok}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
