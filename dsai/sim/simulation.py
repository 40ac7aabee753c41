"""One simulated world: an event loop, a virtual clock, nodes, a network, a seed.

Everything random in a simulation draws from streams derived from its seed
and a name (`sim.stream("nemesis")`), so adding randomness to one part does
not shift the numbers another part sees.
"""

from __future__ import annotations

import random
from typing import Any, Callable

from dsai.errors import SimulationError
from dsai.sim.loop import EventLoop, Timer
from dsai.sim.network import Network, NetworkConfig
from dsai.sim.node import Node
from greenlet import getcurrent

from dsai.sim import clocks
from dsai.sim.process import Killed, Process, current_process, new_runner, suspend, throw_into

__all__ = ["Simulation", "current", "set_current", "now"]

_current: "Simulation | None" = None


class Simulation:
    """A seeded, deterministic world that simulated work runs in."""

    def __init__(self, seed: int = 0, network: NetworkConfig | None = None) -> None:
        self.seed = seed
        self.loop = EventLoop()
        self.nodes: dict[int, Node] = {}
        self.network = Network(self, network)
        self.rng = self.stream("main")
        self.hooks: dict[str, Callable[..., Any]] = {}  # set by the layers above (e.g. kill_worker)
        self._runners: list = []  # idle greenlets, reused by processes
        self._made: list = []  # every runner made, so close() can end them
        self._resuming = 0  # > 0 while a process runs or its exit callback does
        # Interrupts a sleeping process receives when its sleep ends (dsai.sim.interrupts).
        self.deferred_interrupts: dict[Process, BaseException] = {}

    # -- time -----------------------------------------------------------------
    def now(self) -> float:
        return self.loop.clock.time

    def at(self, when: float, fn: Callable[..., Any], *args: Any) -> Timer:
        """Run `fn(*args)` at virtual time `when` (e.g. inject a fault)."""
        return self.loop.call_at(when, fn, *args)

    def after(self, delay: float, fn: Callable[..., Any], *args: Any) -> Timer:
        return self.loop.call_later(delay, fn, *args)

    def stream(self, name: str) -> random.Random:
        """An independent random stream, fixed by the seed and the name."""
        return random.Random(f"{self.seed}:{name}")

    # -- nodes ------------------------------------------------------------------
    def add_node(self, name: str | None = None, resources: dict[str, float] | None = None) -> Node:
        node_id = len(self.nodes)
        node = Node(node_id, name or f"node-{node_id}", resources)
        self.nodes[node_id] = node
        self.network.add_node(node_id)
        return node

    def node(self, ref: "int | str | Node") -> Node:
        if isinstance(ref, Node):
            return ref
        if isinstance(ref, int) and ref in self.nodes:
            return self.nodes[ref]
        for n in self.nodes.values():
            if n.name == ref:
                return n
        resolve = self.hooks.get("resolve_node")  # e.g. a Ray node ID in hex
        found = resolve(ref) if resolve is not None else None
        if found is not None:
            return found
        names = ", ".join(repr(n.name) for n in self.nodes.values())
        raise SimulationError(f"no node {ref!r} in this simulation; nodes are: {names}")

    # -- processes ----------------------------------------------------------------
    def spawn(self, fn: Callable[..., Any], *args: Any, name: str = "process", node: Node | None = None,
              on_exit: Callable[[Process], Any] | None = None, start: bool = False,
              context: Any = None) -> Process:
        """Create a process; it starts at the current virtual time: at once if
        `start` and the caller is a plain loop event, else as the next event
        (so a chain of processes each starting the next never nests)."""
        proc = Process(self, fn, args, name, node)
        proc.on_exit = on_exit
        proc.context = context
        if start and self.loop.running and not self._resuming and current_process() is None:
            self.resume(proc)
        else:
            self.loop.call_soon(self.resume, proc, None)
        return proc

    def resume(self, proc: Process, value: Any = None) -> None:
        """Switch into `proc` until it blocks or ends (only the hub calls this)."""
        if proc.done:
            return
        proc.blocked_on = None
        self._resuming += 1
        try:
            runner = proc.runner  # switch_into(proc, self._runners, value), inlined
            if runner is None:
                runner = proc.runner = self._runners.pop() if self._runners else self._new_runner()
                runner.parent = getcurrent()
                runner.switch(proc)
            else:
                runner.parent = getcurrent()
                runner.switch(value)
            if proc.done and proc.on_exit is not None:
                cb, proc.on_exit = proc.on_exit, None
                cb(proc)
        finally:
            self._resuming -= 1

    def block(self, reason: Any) -> Any:
        """Suspend the current process until `wake(proc, value)`; returns value."""
        if current_process() is None:
            raise SimulationError("only simulated work can block; the driver runs the loop instead")
        return suspend(reason)

    def wake(self, proc: Process, value: Any = None) -> None:
        self.loop.call_soon(self.resume, proc, value)

    def sleep(self, seconds: float) -> None:
        proc = current_process()
        if proc is None:
            raise SimulationError("sim.sleep is for simulated work; the driver has nothing to wait for")
        if proc.node is not None:
            seconds *= proc.node.slowdown
        self.loop.call_at(self.loop.clock.time + seconds, self.resume, proc, None)
        suspend(("sleep", seconds))
        if self.deferred_interrupts:
            exc = self.deferred_interrupts.pop(proc, None)
            if exc is not None:
                raise exc

    def kill(self, proc: Process) -> None:
        """End a process now, wherever it is blocked (its worker died)."""
        if proc.done:
            return
        if current_process() is proc:
            raise Killed()
        throw_into(proc, Killed())
        proc.killed = True
        if proc.done and proc.on_exit is not None:
            cb, proc.on_exit = proc.on_exit, None
            cb(proc)

    def _new_runner(self) -> Any:
        runner = new_runner(self._runners)
        self._made.append(runner)
        return runner

    def close(self) -> None:
        """Kill the processes still blocked and end every runner, as a cluster's workers
        end at shutdown. A suspended greenlet's frame is invisible to the cycle collector,
        so a runner left suspended (its frame holds its process or its pool, and they this
        simulation) would keep the whole simulation alive after its cluster shut down."""
        for runner in self._made:
            if runner.proc is not None and not runner.proc.done:
                try:
                    self.kill(runner.proc)
                except Exception:  # a process that answers its kill with an error still ends
                    pass
        # Only idle runners are ended: a hard-killed stack (hard_kill.py) must never run again.
        idle, self._made, self._runners = self._runners, [], []
        for runner in idle:
            runner.parent = getcurrent()
            runner.switch(None)

    # -- running --------------------------------------------------------------------
    def run(self, until: float | None = None) -> None:
        """Run all events, or those up to virtual time `until`."""
        if current_process() is not None:
            raise SimulationError("sim.run() cannot be called from inside simulated work")
        self.loop.run(until)

    def run_until(self, done: Callable[[], bool], deadline: float | None = None) -> bool:
        return self.loop.run_until(done, deadline)

    def __repr__(self) -> str:
        return f"Simulation(seed={self.seed}, now={self.now():.6f}, nodes={len(self.nodes)})"


def current() -> Simulation:
    """The simulation that `dsai.sim` functions act on (the one `ray.init` made)."""
    if _current is None:
        raise SimulationError("no simulation is running: call ray.init() (from dsai import ray) first")
    return _current


def set_current(sim: Simulation | None) -> None:
    global _current
    _current = sim
    clocks.activate(sim)  # the driver's clock follows the connected simulation


def now() -> float:
    """Virtual seconds since the current simulation started."""
    return current().loop.clock.time
