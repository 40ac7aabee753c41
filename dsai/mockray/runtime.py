"""The simulated Ray runtime: one cluster's object store, scheduler and workers on one virtual-time simulation.

`Runtime` is what `ray.init` starts: all state of one simulated cluster.
Its behaviour is assembled from one mixin per concept, each in the module
named after it; they share the state `__init__` sets up below and call each
other only through `self`, so every import points down (docs/runtime.md
draws the layers):

    object_store.py  objects, where they live, transfers, lineage rebuilds
    submission.py    a task's arguments, then a node with its resources
    workers.py       the processes that run tasks and calls, reused
    completion.py    an attempt's end: results, freed resources, retries, errors
    blocking.py      get/wait: the driver runs the loop, a worker suspends
    stalls.py        nothing can run any more: fail the impossible, or explain
    faults.py        node and worker deaths, as Ray answers them
    timeline.py      `ray.timeline()`

Life of a task: `submit` waits for its argument objects, `_place` finds a
node with free resources (or queues it), `_assign` reserves them and fetches
large arguments over the network, `start` runs the function in a worker
process, `_end` stores the results (or the error) where it ran and frees
the resources for the next queued task. Faults, retries, restarts and
lineage reconstruction all re-enter this path.
"""

from __future__ import annotations

from typing import Any

from dsai.mockray.blocking import Blocking
from dsai.mockray.worker_threads import thread_of
from dsai.mockray.completion import Completion
from dsai.mockray.faults import Faults
from dsai.mockray.gc_policy import gc_policy
from dsai.mockray.object_ref import FAILED, ObjectEntry
from dsai.mockray.object_store import INLINE_THRESHOLD, ObjectStore
from dsai.mockray.scheduler import NodeState, Scheduler
from dsai.mockray.session import runtime, runtime_or_none
from dsai.mockray.stalls import Stalls
from dsai.mockray.submission import Submission
from dsai.mockray.task import JOB_ID
from dsai.mockray.timeline import Timeline
from dsai.mockray.workers import REUSE_LIMIT, Workers
from dsai.sim import Simulation
from dsai.sim.network import NetworkConfig
from dsai.sim.process import Process

__all__ = ["Runtime", "runtime", "runtime_or_none", "INLINE_THRESHOLD", "REUSE_LIMIT"]


class Runtime(ObjectStore, Submission, Workers, Completion, Blocking, Stalls, Faults, Timeline):
    """All state of one simulated Ray cluster (what `ray.init` starts)."""

    def __init__(self, *, seed: int = 0, namespace: str | None = None,
                 network: NetworkConfig | None = None) -> None:
        self.sim = Simulation(seed=seed, network=network)
        self.clock = self.sim.loop.clock  # (read at every task's start and end)
        gc_policy.start()
        self.sched = Scheduler()
        self.nodes: list[NodeState] = []
        self.objects: dict[bytes, ObjectEntry] = {}
        self.actors: dict[str, Any] = {}  # actor id hex -> ActorState
        self.named_actors: dict[tuple[str, str], Any] = {}
        self.namespace = namespace or "anonymous-namespace"
        self.timeline_events: list[dict] = []
        self.record_timeline = True
        self.tasks_run = 0
        self._seq = 0
        self._put_seq = 0
        self._ids = self.sim.stream("ids")
        self.driver_task_id = (0).to_bytes(8, "big") + b"\xff" * 12 + JOB_ID
        self.blocked: dict[Process, Any] = {}  # processes in get/wait, for deadlock reports
        self.wait_list: Any = None  # the driver's last `ray.wait` list (wait_list.WaitList)
        self.placement: Any = None  # placement_groups.PlacementGroups, made by the first group
        self.sim.hooks["kill_worker"] = self.kill_worker
        self.sim.hooks["resolve_node"] = self._resolve_node
        self.sim.hooks["thread_of"] = thread_of  # which thread a task or call runs on (worker_threads.py)

    def add_node(self, num_cpus: float, num_gpus: float = 0, resources: dict[str, float] | None = None,
                 name: str | None = None, memory: float = 8 * 1024**3,
                 object_store_memory: float = 2 * 1024**3) -> NodeState:
        index = len(self.nodes)
        node = self.sim.add_node(name or ("head" if index == 0 else f"node-{index}"))
        ip = f"10.0.0.{index + 1}"
        total: dict[str, float] = {"CPU": float(num_cpus)}
        if num_gpus:
            total["GPU"] = float(num_gpus)
        for k, v in (resources or {}).items():
            total[k] = float(v)
        total["memory"] = float(memory)
        total["object_store_memory"] = float(object_store_memory)
        total[f"node:{ip}"] = 1.0
        if index == 0:
            total["node:__internal_head__"] = 1.0
        ns = NodeState(node, total, "%056x" % self._ids.getrandbits(224), ip, index == 0)
        self.nodes.append(ns)
        self.sched.add(ns)
        node.on_death(self._on_node_death)
        node.on_restart(self._on_node_restart)
        self.sim.loop.call_soon(self.dispatch, ns)
        return ns

    @property
    def head(self) -> NodeState:
        return self.nodes[0]

    def _resolve_node(self, ref: Any) -> Any:
        for ns in self.nodes:
            if ns.node_id == ref or ns.ip == ref:
                return ns.node
        return None

    def work_done(self) -> int:
        """Tasks run, tasks submitted and objects put: the clock of the GC policy (gc_policy.py)."""
        return self.tasks_run + self._put_seq + self._seq

    def close(self) -> None:
        gc_policy.release()
        if self.wait_list is not None:
            self.wait_list.close()
            self.wait_list = None
        self.blocked.clear()
        # Refs kept past shutdown name objects whose owner (this driver) is gone; in
        # the next session Ray answers them with this error, ready or not.
        gone = ValueError("You are trying to access Ray objects whose owner is unknown: this "
                          "ObjectRef was made before ray.shutdown() (or by another ray.init()), and "
                          "its object went with that session. Make it again in the current session "
                          "(re-run the cell that created it).")
        for e in list(self.objects.values()):  # (dropping a value may release what it holds)
            e.value, e.error, e.state, e.callbacks, e.locations = None, gone, FAILED, None, ()
        for actor in self.actors.values():
            actor.stop_idle_server(hard=False)  # (unwound, so the session is freed: ActorLoop.kill)
        for ns in self.nodes:
            for task in list(ns.running.values()):
                if task.proc is not None and not task.proc.done:
                    try:
                        self.sim.kill(task.proc)
                    except Exception:
                        pass
        self.sim.close()

    def __repr__(self) -> str:
        alive = sum(1 for ns in self.nodes if ns.alive)
        return (f"Runtime({alive} of {len(self.nodes)} nodes alive, {self.tasks_run} attempts run, "
                f"{len(self.sched.queued())} queued, {len(self.actors)} actors, now={self.clock.time:.6f} s)")
