"""Stalls: when nothing can happen any more, fail what can never run, or say who waits for what.

A driver blocked in `get`/`wait` runs the event loop; when the loop runs
dry and what it waits for is not ready, the simulation has stalled. Real Ray
would hang; here queued work that no node could ever run (it asks for more
than any live node has) fails with Ray's unschedulable errors
(`_resolve_stall`), and if that frees nothing the driver gets a
`SimulationDeadlockError` whose message names every blocked worker, busy
actor and queued task (`explain_stall`).

Part of `Runtime` (runtime.py): this mixin reads `blocked`, `actors` and
`sched`, and calls `fail` (completion.py).
"""

from __future__ import annotations

from dsai.mockray.exceptions import ActorUnschedulableError, TaskUnschedulableError
from dsai.sim.locks import describe_waits

__all__ = ["Stalls"]


class Stalls:
    """What the driver learns when the simulation can make no more progress."""

    def _resolve_stall(self) -> bool:
        """Nothing can happen any more: fail queued work that no node can ever run."""
        failed = False
        for task in self.sched.queued():
            if self.sched.infeasible(task):
                self.sched.remove(task)
                have = {k: v for k, v in self.sched.total_resources().items()
                        if not k.startswith("node:") and k not in ("memory", "object_store_memory")}
                need = {k: v for k, v in task.demand.items()}
                msg = (f"{task.name} needs {need}, but no node in the cluster has that much "
                       f"(the whole cluster has {have}). Ask for less in .options(...), or start "
                       "the cluster with more, e.g. ray.init(num_cpus=..., num_gpus=..., "
                       "resources={...}) or Cluster.add_node(...).")
                err = (ActorUnschedulableError(msg) if task.kind == "actor_creation"
                       else TaskUnschedulableError(msg))
                self.fail(task, err)
                failed = True
        return failed

    def explain_stall(self) -> str:
        lines = ["The driver is waiting for objects that can never become ready (real Ray would "
                 "hang here). What everything is waiting for:"]
        for proc, w in self.blocked.items():
            task = proc.context
            lines.append(f"  - {task.name if task is not None else proc.name} on {proc.node.name} "
                         "is blocked in ray.get/ray.wait")
        for actor in self.actors.values():
            desc = actor.describe_stall()
            if desc:
                lines.append("  - " + desc)
        blocked = len(lines) > 1
        lines.extend(f"  - {line}" for line in describe_waits(self.sim))  # threading/queue waits
        queued: dict[tuple[str, str], int] = {}
        for task in self.sched.queued():
            key = (task.name, str(task.demand))
            queued[key] = queued.get(key, 0) + 1
        for (name, demand), n in queued.items():
            lines.append(f"  - {name} is queued for {demand}" + (f" ({n} of them)" if n > 1 else ""))
        if queued:
            lines.append(f"    free now: {self.sched.available_resources()}")
            for actor in self.actors.values():  # what holds the rest: actors keep theirs while alive
                held = {k: v for k, v in actor.creation.hold.items() if v} if actor.node is not None else {}
                if held:
                    lines.append(f"    actor {actor.class_name} {actor.id} holds {held} on "
                                 f"{actor.node.name} for as long as it lives (ray.kill frees them)")
        if self.placement is not None:
            lines.extend("  - " + line for line in self.placement.explain())
        if len(lines) == 1:
            lines.append("  - nothing is running or queued: the objects' tasks were never submitted, "
                         "or they wait on objects that failed to be created")
        if blocked:
            lines.append("A task that waits (ray.get) on a call to its own actor deadlocks when the "
                         "actor runs one call at a time; use max_concurrency > 1 or an async actor, "
                         "or return the ObjectRef instead of waiting on it.")
        return "\n".join(lines)
