"""Resource-based scheduling: a task runs on a node only when that node has its CPUs, GPUs and custom resources free.

Placement follows Ray's default policy in a simplified, deterministic form:
a task goes to the node holding most of its (large) arguments, else to its
caller's node, else to the next node in round-robin order that fits; with
`scheduling_strategy="SPREAD"` it goes round-robin; with
`NodeAffinitySchedulingStrategy` to the named node. A task that fits nowhere
right now waits in a FIFO queue per resource shape, so a million queued tasks
cost O(1) each; a node that frees resources takes the oldest queued task that
fits it.
"""

from __future__ import annotations

import heapq
from collections import deque
from typing import Any, Iterable

from dsai.mockray.task import Task
from dsai.sim.node import Node

__all__ = ["NodeState", "Scheduler", "fits"]

EPS = 1e-9


def fits(avail: dict[str, float], demand: dict[str, float]) -> bool:
    for k, v in demand.items():
        if avail.get(k, 0.0) + EPS < v:
            return False
    return True


class NodeState:
    """What the scheduler knows about one node: its resources and its workers."""

    def __init__(self, node: Node, total: dict[str, float], node_id_hex: str, ip: str, is_head: bool) -> None:
        self.node = node
        self.total = dict(total)
        self.avail = dict(total)
        self.node_id = node_id_hex
        self.ip = ip
        self.is_head = is_head
        self._free_workers: list[int] = []
        self._next_worker = 0
        self.running: dict[int, "Task"] = {}  # task seq -> task, in start order
        self.actors: dict[str, Any] = {}  # actor id -> actor state

    @property
    def alive(self) -> bool:
        return self.node.alive

    @property
    def name(self) -> str:
        return self.node.name

    def acquire(self, demand: dict[str, float]) -> None:
        avail = self.avail
        for k, v in demand.items():
            avail[k] = avail.get(k, 0.0) - v

    def release(self, demand: dict[str, float]) -> None:
        avail = self.avail
        for k, v in demand.items():
            avail[k] = avail.get(k, 0.0) + v

    def take_worker(self) -> int:
        if self._free_workers:
            return heapq.heappop(self._free_workers)
        self._next_worker += 1
        return self._next_worker - 1

    def worker_id(self, wid: int) -> str:
        """A deterministic 56-hex-digit worker ID (Ray's are random)."""
        return "%048x%08x" % (self.node.id + 1, wid + 1)

    def pid(self, worker: int) -> int:
        """A deterministic stand-in for a worker's process id, so error text is reproducible."""
        return 10000 + 1000 * self.node.id + max(worker, 0)

    def give_worker(self, wid: int) -> None:
        heapq.heappush(self._free_workers, wid)

    def reset(self) -> None:
        """The node restarted: nothing runs, everything is free."""
        self.avail = dict(self.total)
        self._free_workers = []
        self._next_worker = 0
        self.running.clear()
        self.actors.clear()

    def __repr__(self) -> str:
        used = {k: round(self.total[k] - self.avail.get(k, 0.0), 4) for k in self.total}
        return f"NodeState({self.name!r}, used={used}, total={self.total}, {'alive' if self.alive else 'dead'})"


class Scheduler:
    """Places ready tasks on nodes, or queues them until resources free up."""

    def __init__(self) -> None:
        self.nodes: list[NodeState] = []
        self._rr = 0
        self._queues: dict[tuple, deque] = {}  # shape -> FIFO of tasks

    def add(self, ns: NodeState) -> None:
        self.nodes.append(ns)

    def alive_nodes(self) -> Iterable[NodeState]:
        return (n for n in self.nodes if n.node.alive)

    # -- placement ----------------------------------------------------------------
    def choose(self, task: "Task") -> NodeState | None:
        """A node that can run `task` now, or None."""
        demand = task.demand
        strategy = task.strategy
        if strategy is not None and not isinstance(strategy, str):  # node affinity
            ns = self.by_node_id(strategy.node_id)
            if ns is not None and ns.alive and fits(ns.avail, demand):
                return ns
            if not strategy.soft:
                return None
        elif strategy != "SPREAD":
            # Without arguments to be near, the caller's node (the common case, short).
            for ns in task.preferred_nodes() if task.arg_entries else (self.nodes[task.caller_node],):
                if ns.node.alive and fits(ns.avail, demand):
                    return ns
        nodes = self.nodes
        n = len(nodes)
        for i in range(n):
            ns = nodes[(self._rr + i) % n]
            if ns.node.alive and fits(ns.avail, demand):
                self._rr = (self._rr + i + 1) % n
                return ns
        return None

    def shape(self, task: "Task") -> tuple:
        if task.shape is not None:
            return task.shape
        strategy = task.strategy
        key = strategy if (strategy is None or isinstance(strategy, str)) else (strategy.node_id, strategy.soft)
        return (tuple(sorted(task.demand.items())), key)

    def queue(self, shape: tuple) -> deque:
        """The FIFO of queued tasks of one shape (append to queue one)."""
        q = self._queues.get(shape)
        if q is None:
            q = self._queues[shape] = deque()
        return q

    def take_for(self, ns: NodeState) -> "Task | None":
        """The oldest queued task that fits on `ns` now (removed from its queue)."""
        best_q, best_seq = None, None
        avail = ns.avail
        for q in self._queues.values():
            if not q:
                continue
            head = q[0]
            if head.state != "queued":  # cancelled or failed while queued
                while q and q[0].state != "queued":
                    q.popleft()
                if not q:
                    continue
                head = q[0]
            if best_seq is not None and head.seq > best_seq:
                continue
            strategy = head.strategy
            if strategy is not None and not isinstance(strategy, str):
                if not strategy.soft and strategy.node_id != ns.node_id:
                    continue
            for k, v in head.demand.items():  # fits(avail, head.demand), inlined
                if avail.get(k, 0.0) + EPS < v:
                    break
            else:
                best_q, best_seq = q, head.seq
        return best_q.popleft() if best_q is not None else None

    def queued(self) -> list["Task"]:
        out = [t for q in self._queues.values() for t in q if t.state == "queued"]
        out.sort(key=lambda t: t.seq)
        return out

    def infeasible(self, task: "Task") -> bool:
        """True if no live node could ever run `task`, even when idle."""
        if task.pg is not None:
            return False  # its group may be (re)created later; Ray keeps it waiting
        strategy = task.strategy
        if strategy is not None and not isinstance(strategy, str) and not strategy.soft:
            ns = self.by_node_id(strategy.node_id)
            return ns is None or not ns.alive or not fits(ns.total, task.demand)
        return not any(fits(ns.total, task.demand) for ns in self.alive_nodes())

    def remove(self, task: "Task") -> None:
        for q in self._queues.values():
            try:
                q.remove(task)
                return
            except ValueError:
                pass

    def by_node_id(self, node_id: str) -> NodeState | None:
        for ns in self.nodes:
            if ns.node_id == node_id:
                return ns
        return None

    def total_resources(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for ns in self.alive_nodes():
            for k, v in ns.total.items():
                out[k] = out.get(k, 0.0) + v
        return out

    def available_resources(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for ns in self.alive_nodes():
            for k, v in ns.avail.items():
                if v > EPS:
                    out[k] = out.get(k, 0.0) + v
        # Ray counts resources in fixed point (1/10,000 of a unit), so 1 - 8 x 0.1 CPUs is 0.2,
        # not the float sum's 0.19999999999999996 (which would depend on the order of the sums).
        return {k: round(v, 4) for k, v in out.items()}
