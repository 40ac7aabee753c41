"""What never unwinding a killed worker costs: stacks kept and memory held over a long fault-injection run.

A worker killed while it runs the program's code keeps its stack for good
(dsai/sim/hard_kill.py: Python frees a suspended stack only by running its
`finally` blocks, which a SIGKILLed Ray worker never does). Each round here:
a node dies under a running actor call and two running tasks, `ray.kill` ends
an actor in a call, and one idle actor is killed (unwound and freed). Rows:
stacks kept and memory traced (tracemalloc) after each quarter of the rounds,
and after `ray.shutdown()`. Prints, asserts nothing.

    python benchmarks/kill_memory.py [--rounds 200] [--json]
"""

from __future__ import annotations

import argparse
import gc
import json
import time
import tracemalloc

import dsai.mockray as ray
import dsai.sim as sim
from dsai.mockray.runtime import runtime
from dsai.sim import hard_kill


@ray.remote
class Holder:
    def hold(self, s):
        try:
            time.sleep(s)
        finally:
            pass  # (never reached after a kill)

    def ping(self):
        return 1


@ray.remote(max_retries=-1)
def work(s):
    time.sleep(s)
    return s


def one_round() -> None:
    a = Holder.options(max_restarts=-1, resources={"n1": 1}).remote()
    ray.get(a.ping.remote())
    call = a.hold.remote(30)
    tasks = [work.options(resources={"n1": 0.1}).remote(0.5) for _ in range(2)]
    ray.wait([call], timeout=0.1)
    sim.kill_node("node-1")  # kills the call and both tasks mid-sleep (the tasks are retried)
    sim.restart_node("node-1")
    ray.get(tasks)
    b = Holder.remote()
    ray.get(b.ping.remote())
    ray.wait([b.hold.remote(30)], timeout=0.1)
    ray.kill(b)  # a call running: its stack is kept
    c = Holder.remote()
    ray.get(c.ping.remote())
    ray.kill(c)  # idle: unwound, freed
    ray.kill(a)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=200)
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    ray.init(num_cpus=2, resources={"n0": 100}, seed=0)
    runtime().add_node(2, resources={"n1": 100})
    tracemalloc.start()
    base_stacks = hard_kill.graveyard_size()
    rows = []
    marks = {max(1, args.rounds * k // 4) for k in range(1, 5)}
    for i in range(1, args.rounds + 1):
        one_round()
        if i in marks:
            gc.collect()
            rows.append({"rounds": i, "stacks_kept": hard_kill.graveyard_size() - base_stacks,
                         "traced_mb": round(tracemalloc.get_traced_memory()[0] / 1e6, 2)})
    ray.shutdown()
    gc.collect()
    rows.append({"rounds": "after shutdown", "stacks_kept": hard_kill.graveyard_size() - base_stacks,
                 "traced_mb": round(tracemalloc.get_traced_memory()[0] / 1e6, 2)})
    if args.json:
        print(json.dumps({"rows": rows}))
        return
    print(f"{'rounds':>15} {'stacks kept':>12} {'traced MB':>10}")
    for r in rows:
        print(f"{r['rounds']!s:>15} {r['stacks_kept']:>12} {r['traced_mb']:>10.2f}")
    last = rows[-2]
    print(f"{last['traced_mb'] * 1e3 / max(1, last['stacks_kept']):.1f} KB per kept stack "
          "(4 per round: one node death kills 3, one ray.kill of a running call 1)")


if __name__ == "__main__":
    main()
