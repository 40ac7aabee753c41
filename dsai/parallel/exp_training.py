"""Experiment: the parameter server trains the digits MLP, sync vs async vs bounded staleness.

Each row is one seeded `dsai.ps.simulate` run on a fresh cluster (a node per
server shard and per worker), with worker 1 slowed 4x where the row says
so. Measured: test accuracy, virtual seconds to the end of training, and the
largest staleness of any applied gradient (versions between the weights a
gradient was computed on and the ones it was applied to). Theory beside it:
the staleness bound each mode guarantees (BSP 0, SSP s, asynchronous none).
"""

from __future__ import annotations

from dsai.parallel.report import Column, Progress, Section

__all__ = ["CASES", "run"]

# (mode, workers, staleness bound, shards, slowdown of worker 1)
CASES = [
    ("sync", 4, 0, 1, 1.0),
    ("sync", 4, 0, 2, 1.0),
    ("async", 4, 0, 1, 1.0),
    ("sync", 4, 0, 1, 4.0),
    ("async", 4, 0, 1, 4.0),
    ("ssp", 4, 2, 1, 4.0),
]


def run(progress: Progress) -> Section:
    from dsai import ps

    rows = []
    for mode, workers, s, shards, slow in CASES:
        config = ps.PSConfig(mode=mode, workers=workers, staleness=s, shards=shards)
        result = ps.simulate(config, slowdown={1: slow} if slow != 1.0 else None)
        rows.append({
            "mode": mode, "workers": workers, "staleness_bound": s if mode != "async" else None,
            "shards": shards, "straggler_slowdown": slow,
            "test_accuracy": result.test_accuracy, "virtual_seconds": result.seconds,
            "max_staleness": result.max_staleness,
            "theory_max_staleness": {"sync": 0, "ssp": s}.get(mode),
            "gradients_applied": len(result.history),
        })
        progress(f"[training] {mode:5} N={workers} s={s} k={shards} slow={slow:g}x: accuracy "
                 f"{result.test_accuracy:.3f}, {result.seconds:.3f} s virtual, max staleness {result.max_staleness}")
    return Section(
        "training", "Parameter-server training on digits (worker 1 slowed where noted)", rows,
        [Column("mode", "mode"), Column("workers", "N"), Column("shards", "k"),
         Column("staleness_bound", "bound s"), Column("straggler_slowdown", "slow", "{:g}x"),
         Column("test_accuracy", "test acc", "{:.3f}"), Column("virtual_seconds", "virtual s", "{:.3f}"),
         Column("max_staleness", "max staleness"), Column("theory_max_staleness", "guaranteed <="),
         Column("gradients_applied", "gradients")],
        ["guaranteed <=: the staleness the mode promises (BSP 0, SSP the bound s; async promises none)."])
