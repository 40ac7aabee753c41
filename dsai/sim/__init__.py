"""dsai.sim: a deterministic discrete-event world for distributed systems.

A seeded event loop drives a virtual clock; nodes joined by a simulated
network (latency, bandwidth, loss, partitions) run simulated processes; faults
are injected by calling functions here. `dsai.mockray` (Ray's API) and
`dsai.cap` (a replicated store) both run on it.
"""

from dsai.sim.clock import VirtualClock
from dsai.sim.compute import compute
from dsai.sim.faults import (heal, isolate, kill_node, kill_worker, partition, restart_node,
                             set_network, skew_clock, slow_node)
from dsai.sim.loop import EventLoop, Timer
from dsai.sim.network import Message, Network, NetworkConfig, Transfer
from dsai.sim.node import Node
from dsai.sim.process import Process, current_process
from dsai.sim.simulation import Simulation, current, now
from dsai.sim import aio as _aio
from dsai.sim.threads import install as _install_threads

_aio.install()  # asyncio.run inside simulated work runs on virtual time
_install_threads()  # threading and queue wait in virtual time inside simulated work (threads.py)

__all__ = [
    "Simulation", "current", "now", "at", "after", "compute",
    "kill_node", "restart_node", "slow_node", "kill_worker", "partition", "isolate", "heal",
    "skew_clock", "set_network", "network_stats",
    "EventLoop", "Timer", "VirtualClock", "Network", "NetworkConfig", "Message", "Transfer",
    "Node", "Process", "current_process",
]


def at(when: float, fn, *args) -> Timer:
    """Run `fn(*args)` at virtual time `when` in the current simulation."""
    return current().at(when, fn, *args)


def after(delay: float, fn, *args) -> Timer:
    """Run `fn(*args)` `delay` virtual seconds from now in the current simulation."""
    return current().after(delay, fn, *args)


def network_stats() -> dict[str, dict[str, int]]:
    """Bytes and messages sent and received per node, by node name."""
    s = current()
    return {s.nodes[i].name: dict(vars(st)) for i, st in s.network.stats.items()}
