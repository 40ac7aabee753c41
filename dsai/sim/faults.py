"""Fault injection: crash and restart nodes, kill workers, slow nodes, cut the network.

Faults act on the current simulation (the one `ray.init` made) unless a
`sim` is given, at the current virtual time; schedule one for later with
`dsai.sim.at(t, kill_node, "node-1")`. The layers above subscribe to node
deaths, so Ray's own answers follow: retries, restarts, `ActorDiedError`,
`ObjectLostError`.
"""

from __future__ import annotations

from typing import Any

from dsai.errors import SimulationError
from dsai.sim.node import Node
from dsai.sim.simulation import Simulation, current

__all__ = ["kill_node", "restart_node", "slow_node", "kill_worker", "partition", "isolate",
           "heal", "skew_clock", "set_network"]

NodeRef = "int | str | Node"


def _sim(sim: Simulation | None) -> Simulation:
    return sim if sim is not None else current()


def kill_node(node: NodeRef, *, sim: Simulation | None = None) -> Node:
    """Crash a node: its processes die, its objects are lost, messages to it drop."""
    s = _sim(sim)
    n = s.node(node)
    if not n.alive:
        return n
    n.alive = False
    for fn in list(n._on_death):
        fn(n)
    return n


def restart_node(node: NodeRef, *, sim: Simulation | None = None) -> Node:
    """Bring a crashed node back, empty (a new incarnation)."""
    s = _sim(sim)
    n = s.node(node)
    if n.alive:
        return n
    n.alive = True
    n.incarnation += 1
    for fn in list(n._on_restart):
        fn(n)
    return n


def slow_node(node: NodeRef, factor: float, *, sim: Simulation | None = None) -> Node:
    """Make work on a node take `factor` times as long (a straggler); 1.0 restores it."""
    if factor <= 0:
        raise SimulationError(f"slowdown factor must be > 0, got {factor!r} (1.0 is normal speed)")
    n = _sim(sim).node(node)
    n.slowdown = float(factor)
    return n


def skew_clock(node: NodeRef, offset: float, *, sim: Simulation | None = None) -> Node:
    """Shift a node's local clock by `offset` seconds (what last-writer-wins trusts)."""
    n = _sim(sim).node(node)
    n.clock_offset = float(offset)
    return n


def kill_worker(target: Any, *, sim: Simulation | None = None) -> None:
    """Kill the worker process behind an actor handle (or a running task's ObjectRef)."""
    s = _sim(sim)
    hook = s.hooks.get("kill_worker")
    if hook is None:
        raise SimulationError("kill_worker needs the Ray runtime: call ray.init() first")
    hook(target)


def partition(*groups: Any, sim: Simulation | None = None) -> None:
    """Split the network: nodes in different groups cannot reach each other."""
    s = _sim(sim)
    s.network.partition(*[[s.node(n).id for n in g] for g in groups])


def isolate(node: NodeRef, *, sim: Simulation | None = None) -> None:
    """Cut one node off from all the others."""
    s = _sim(sim)
    s.network.partition([s.node(node).id])


def heal(*, sim: Simulation | None = None) -> None:
    """Reconnect every node (deferred transfers start now)."""
    _sim(sim).network.heal()


def set_network(*, latency: float | None = None, bandwidth: float | None = None,
                loss: float | None = None, jitter: float | None = None,
                sim: Simulation | None = None) -> None:
    """Change the network's defaults from now on (seconds, bytes/second, probability)."""
    from dsai.sim.network import NetworkConfig

    net = _sim(sim).network
    c = net.config
    net.config = NetworkConfig(
        latency=c.latency if latency is None else latency,
        bandwidth=c.bandwidth if bandwidth is None else bandwidth,
        loss=c.loss if loss is None else loss,
        jitter=c.jitter if jitter is None else jitter,
    )
