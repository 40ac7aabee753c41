"""A cluster shaped for a parameter server: one machine per server shard and per worker.

Where actors live decides where bytes flow: with every actor on its own
node, each pull and push crosses the simulated network, and the server's
link (one transfer at a time) is the bottleneck it is in a real cluster.
`start_cluster` builds that cluster with `ray.cluster_utils.Cluster`;
`simulate` runs one seeded experiment on a fresh one, with stragglers
(`dsai.sim.slow_node`) and a chosen network: that part needs the simulator.
"""

from __future__ import annotations

import importlib
from typing import Any

from dsai import ray
from dsai.course import simulated
from dsai.ps.config import PSConfig, PSConfigError
from dsai.ps.result import TrainResult

__all__ = ["start_cluster", "simulate"]


def start_cluster(config: PSConfig, *, latency: float | None = None,
                  bandwidth: float | None = None) -> list[str]:
    """Shut down any running cluster and start one with a head node (the driver) plus one
    node per server shard and per worker, 1 CPU each. Returns the node names in order:
    head, shard 0..k-1, worker 0..n-1. Simulator only (latency in seconds, bandwidth in bytes/s)."""
    if not simulated():
        raise PSConfigError("start_cluster builds a simulated multi-node cluster: on real Ray, "
                            "start your cluster with `ray start` and call dsai.ps.train instead")
    ray.shutdown()
    cluster_utils = importlib.import_module(ray.__name__ + ".cluster_utils")
    cluster = cluster_utils.Cluster()
    for _ in range(1 + config.shards + config.workers):
        cluster.add_node(num_cpus=1)
    network: dict[str, Any] = {}
    if latency is not None:
        network["latency"] = latency
    if bandwidth is not None:
        network["bandwidth"] = bandwidth
    ray.init(address=cluster.address, seed=config.seed, network=network or None)
    return [n["NodeManagerHostname"] for n in ray.nodes()]


def simulate(config: PSConfig | None = None, *, slowdown: dict[int, float] | None = None,
             latency: float | None = None, bandwidth: float | None = None, data: Any = None,
             apply: Any = None, **changes: Any) -> TrainResult:
    """One seeded run on a fresh simulated cluster (a node per actor).

    `apply` replaces the servers' apply step (see `dsai.ps.apply_gradients`).
    `slowdown` = {worker: factor} makes those workers' nodes `factor` times
    slower (stragglers). The cluster stays up afterwards (for `ray.timeline()`
    and `dsai.sim.network_stats()`) until the next `simulate` or `ray.shutdown()`.
    """
    from dsai import sim
    from dsai.ps.train import train

    config = (config or PSConfig()).replace(**changes) if changes else (config or PSConfig())
    for w, factor in (slowdown or {}).items():
        if not 0 <= w < config.workers:
            raise PSConfigError(f"slowdown names worker {w}, but workers are 0..{config.workers - 1}")
        if not factor > 0:
            raise PSConfigError(f"slowdown factor of worker {w} must be > 0, got {factor!r} "
                                "(1.0 is normal speed, 4.0 is four times slower)")
    names = start_cluster(config, latency=latency, bandwidth=bandwidth)
    for w, factor in (slowdown or {}).items():
        sim.slow_node(names[1 + config.shards + w], factor)
    return train(config, data, apply=apply)
