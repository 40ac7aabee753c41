"""Placement: one worker per machine, so every array a collective moves crosses the network.

A collective's cost is the bytes that leave and enter each machine; two
workers on one node would hand each other objects through shared memory and
hide that cost. So a collective pins each of its actors to a node of its own
with Ray's `NodeAffinitySchedulingStrategy`, the driver stays alone on the
head node, and traffic is read per node from the simulator's counters.

`start_cluster(n)` builds such a cluster on the simulator (a head for the
driver plus `n` one-CPU nodes, through `ray.cluster_utils.Cluster` as in Ray's
own multi-node tests). On real Ray it starts a one-machine cluster: the same
code runs, there is simply no network between the actors.
"""

from __future__ import annotations

import importlib
from typing import Any

from dsai import ray
from dsai.errors import DsaiError

__all__ = ["CollectiveError", "simulated", "start_cluster", "worker_nodes", "node_names", "pin"]


class CollectiveError(DsaiError, ValueError):
    """A collective was asked for something it cannot do (bad sizes, shapes, placements)."""


def simulated() -> bool:
    """True when `from dsai import ray` is the simulator (network counters, virtual clock)."""
    return ray.__name__ != "ray"


def start_cluster(nodes: int, *, latency: float = 1e-4, bandwidth: float = 1.25e9,
                  seed: int = 0, cpus_per_node: int = 1) -> Any:
    """Start a cluster of a head node (the driver) plus `nodes` worker nodes and connect.

    `latency` (seconds, one way) and `bandwidth` (bytes/s per node link) set the
    simulated network, the alpha and beta of the alpha-beta model. On real Ray
    this is `ray.init(num_cpus=nodes * cpus_per_node + 1)` on this machine.
    """
    if isinstance(nodes, bool) or not isinstance(nodes, int) or nodes < 1:
        raise CollectiveError(f"a cluster needs at least 1 worker node, got nodes={nodes!r}")
    if ray.is_initialized():
        ray.shutdown()
    if not simulated():
        return ray.init(num_cpus=nodes * cpus_per_node + 1)
    cluster = importlib.import_module(ray.__name__ + ".cluster_utils").Cluster()
    cluster.add_node(num_cpus=1)  # the head: the driver lives here, no collective actor does
    for _ in range(nodes):
        cluster.add_node(num_cpus=cpus_per_node)
    return ray.init(address=cluster.address, seed=seed,
                    network={"latency": latency, "bandwidth": bandwidth})


def worker_nodes() -> list[str]:
    """Node IDs to place actors on: the alive nodes other than the driver's, in
    the cluster's order (the driver's node alone if it is the only one)."""
    here = ray.get_runtime_context().get_node_id()
    alive = [n["NodeID"] for n in ray.nodes() if n.get("Alive", n.get("alive", True))]
    others = [n for n in alive if n != here]
    return others or [here]


def node_names() -> dict[str, str]:
    """Node ID -> the name `dsai.sim.network_stats()` counts it under."""
    return {n["NodeID"]: n["NodeManagerHostname"] for n in ray.nodes()}


def pin(node_id: str) -> dict[str, Any]:
    """`.options(**pin(node_id))`: run an actor on exactly that node."""
    # The backend's own module (the simulator's or real Ray's), never a bare `import ray`.
    strategies = importlib.import_module(ray.__name__ + ".util.scheduling_strategies")
    return {"scheduling_strategy": strategies.NodeAffinitySchedulingStrategy(node_id, soft=False)}
