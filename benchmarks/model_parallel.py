"""Wall time of the model-parallelism experiments and of the explorer's callbacks (printed, not asserted).

    python benchmarks/model_parallel.py          # every pipeline / tensor / memory case, then the callbacks

The figures are wall seconds on this machine, best of `--rounds` (default 3);
on a shared machine they swing 2x, which is why no test asserts them.
"""

from __future__ import annotations

import argparse
import time

WALL = time.perf_counter  # bound before dsai is imported: the real clock (the driver's includes virtual seconds)


def _best(fn, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = WALL()
        fn()
        best = min(best, WALL() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    from dsai import ray
    from dsai.parallel import exp_memory, exp_pipeline, exp_tensor
    from dsai.viz.mp_explorer import render_memory, render_schedule

    rows: list[tuple[str, float]] = []
    for case in exp_pipeline.CASES:
        rows.append((f"pipeline {case[0]} p={case[1]} m={case[2]} v={case[3]}",
                     _best(lambda: exp_pipeline.measure(*case), args.rounds)))
    for t in exp_tensor.DEGREES:
        rows.append((f"tensor t={t}", _best(lambda: exp_tensor.measure(t), args.rounds)))
    for stage in range(4):
        rows.append((f"memory ZeRO stage {stage}", _best(lambda: exp_memory.measure(stage), args.rounds)))
    for case in [("1f1b", 4, 8, 1), ("interleaved", 4, 8, 2), ("gpipe", 8, 16, 1)]:
        rows.append((f"explorer render_schedule{case}", _best(lambda: render_schedule(*case), args.rounds)))
    rows.append(("explorer render_memory(7.5e9, 64, 3)", _best(lambda: render_memory(7.5e9, 64, 3), args.rounds)))
    ray.shutdown()
    width = max(len(name) for name, _ in rows)
    print(f"{'case':<{width}}  wall s (best of {args.rounds})")
    for name, seconds in rows:
        print(f"{name:<{width}}  {seconds:8.3f}")


if __name__ == "__main__":
    main()
