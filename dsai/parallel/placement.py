"""Placement: one worker per machine, so every array a collective moves crosses the network.

A collective's cost is the bytes that leave and enter each machine; two
workers on one node would hand each other objects through shared memory and
hide that cost. So a collective pins each of its actors to a node of its own
with Ray's `NodeAffinitySchedulingStrategy`, the driver stays alone on the
head node, and traffic is read per node from the simulator's counters.

`start_cluster(n)` builds such a cluster on the simulator (a head for the
driver plus `n` one-CPU nodes, through `ray.cluster_utils.Cluster` as in Ray's
own multi-node tests). On real Ray it joins the cluster ``RAY_ADDRESS`` names,
or else starts a one-machine cluster: the same code runs, there is simply no
network between the actors.

`spread_over_nodes(n, bundle)` gives n actors one node each where the cluster
has the nodes: on real Ray through a placement group (a gang reservation: all
n bundles are reserved at once, STRICT_SPREAD when every one can have its own
node, SPREAD otherwise); on the simulator, which has no placement groups, the
nodes `start_devices` and `start_cluster` build already hold one actor each.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any, Callable

from dsai import ray
from dsai.errors import DsaiError

__all__ = ["CollectiveError", "simulated", "start_cluster", "worker_nodes", "device_nodes", "alive_nodes", "node_names",
           "pin", "spread_over_nodes"]

PLACEMENT_TIMEOUT_S = 120  # how long a placement group may wait for its bundles before we say why


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
    this is `ray.init(num_cpus=nodes * cpus_per_node + 1)` on this machine, or,
    when ``RAY_ADDRESS`` names a running cluster, joining it as it is (a cluster
    with fewer than `nodes` worker nodes puts several ranks on one node, and says so).
    """
    if isinstance(nodes, bool) or not isinstance(nodes, int) or nodes < 1:
        raise CollectiveError(f"a cluster needs at least 1 worker node, got nodes={nodes!r}")
    if ray.is_initialized():
        ray.shutdown()
    if not simulated():
        from dsai.course import existing_cluster

        address = existing_cluster()
        if address is None:
            return ray.init(address="local", num_cpus=nodes * cpus_per_node + 1)
        context = ray.init(address=address)
        have = len(worker_nodes())
        if have < nodes:
            print(f"The cluster at RAY_ADDRESS={address} has {have} node(s) besides the driver's, "
                  f"fewer than the {nodes} asked for: ranks share nodes, and what they hand each "
                  "other on one node does not cross the network.", file=sys.stderr)
        return context
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


def device_nodes(count: int, num_gpus: float = 1) -> list[str]:
    """Node IDs for `count` device actors of `num_gpus` GPUs each, one per device: the nodes
    other than the driver's in the cluster's order, then the driver's, each taking a device in
    turn while its GPUs last. On a joined cluster whose head has GPUs too this uses them (the
    driver's node alone would be left out by `worker_nodes`, and pinning every device to the
    other nodes asks them for more GPUs than they have: Ray would wait for ever). With too few
    GPUs in all, or num_gpus=0: round-robin over `worker_nodes()`, as before."""
    here = ray.get_runtime_context().get_node_id()
    alive = [n for n in ray.nodes() if n.get("Alive", n.get("alive", True))]
    ordered = [n["NodeID"] for n in alive if n["NodeID"] != here] + [here]
    gpus = {n["NodeID"]: n.get("Resources", {}).get("GPU", 0) for n in alive}
    room = {n: int(gpus.get(n, 0) // num_gpus) if num_gpus > 0 else 0 for n in ordered}
    if sum(room.values()) < count:
        free = worker_nodes()
        return [free[i % len(free)] for i in range(count)]
    out: list[str] = []
    while len(out) < count:
        for n in ordered:
            if room[n] > 0 and len(out) < count:
                out.append(n)
                room[n] -= 1
    return out


def alive_nodes() -> list[str]:
    """Node IDs of every alive node, the driver's first, then in the cluster's order."""
    here = ray.get_runtime_context().get_node_id()
    alive = [n["NodeID"] for n in ray.nodes() if n.get("Alive", n.get("alive", True))]
    return sorted(alive, key=lambda n: n != here)


def node_names() -> dict[str, str]:
    """Node ID -> the name `dsai.sim.network_stats()` counts it under; on real Ray, where
    several nodes may share one host name, the host name and the ID's first 8 characters."""
    if simulated():
        return {n["NodeID"]: n["NodeManagerHostname"] for n in ray.nodes()}
    return {n["NodeID"]: f"{n['NodeManagerHostname']}:{n['NodeID'][:8]}" for n in ray.nodes()}


def pin(node_id: str) -> dict[str, Any]:
    """`.options(**pin(node_id))`: run an actor on exactly that node."""
    # The backend's own module (the simulator's or real Ray's), never a bare `import ray`.
    strategies = importlib.import_module(ray.__name__ + ".util.scheduling_strategies")
    return {"scheduling_strategy": strategies.NodeAffinitySchedulingStrategy(node_id, soft=False)}


def spread_over_nodes(count: int, bundle: dict[str, float]) -> tuple[list[dict[str, Any]], Callable[[], None]]:
    """`.options(**opts[i])` for `count` actors that each need `bundle`, one node each where
    the cluster has enough nodes, and a function that releases the reservation afterwards.

    Real Ray with several alive nodes: a placement group of `count` bundles, strategy
    STRICT_SPREAD (every bundle on a different node) when `count` <= nodes, else SPREAD
    (as evenly as they go). It waits up to `PLACEMENT_TIMEOUT_S` for the bundles and
    raises `CollectiveError` naming what the cluster lacks. One node, or the simulator:
    no options (the simulator's device clusters already give each actor its own node).
    """
    if simulated():
        return [{} for _ in range(count)], lambda: None
    nodes = alive_nodes()
    if len(nodes) < 2:
        return [{} for _ in range(count)], lambda: None
    groups = importlib.import_module(ray.__name__ + ".util.placement_group")
    strategies = importlib.import_module(ray.__name__ + ".util.scheduling_strategies")
    strategy = "STRICT_SPREAD" if count <= len(nodes) else "SPREAD"
    group = groups.placement_group([dict(bundle) for _ in range(count)], strategy=strategy)
    ready, _ = ray.wait([group.ready()], timeout=PLACEMENT_TIMEOUT_S)
    if not ready:
        groups.remove_placement_group(group)
        raise CollectiveError(
            f"the cluster could not reserve {count} x {bundle} ({strategy} over {len(nodes)} nodes, "
            f"it has {ray.cluster_resources()}) within {PLACEMENT_TIMEOUT_S} s: add nodes or "
            "resources, or ask for fewer actors")
    options = [{"scheduling_strategy": strategies.PlacementGroupSchedulingStrategy(
        group, placement_group_bundle_index=i)} for i in range(count)]
    return options, lambda: groups.remove_placement_group(group)
