"""Gang scheduling: a placement group reserves all its bundles of resources on nodes at once, or none of them.

A placement group is a list of bundles (`[{"CPU": 1}, {"CPU": 1, "GPU": 1}]`)
reserved together under a strategy: PACK (as few nodes as possible),
SPREAD (as many as possible), STRICT_PACK (one node, or wait), STRICT_SPREAD
(one node per bundle, or wait). A group that does not fit stays PENDING and
is tried again whenever resources free up or a node joins, as Ray's GCS does.

Reservation follows Ray's resource naming, so `available_resources()` reads
as on a real cluster: a bundle `i` of group `<id>` holding `{"CPU": 1}` takes
1 CPU from its node and gives the node `CPU_group_i_<id>: 1` (this bundle),
`CPU_group_<id>: 1` (any bundle of the group) and `bundle_group_i_<id>: 1000`,
`bundle_group_<id>: 1000`. A task placed in the group asks for the renamed
resources instead of its own (`demand`), plus 0.001 of the bundle resource,
so the ordinary scheduler (scheduler.py) puts it on the bundle's node.

Removing a group gives its resources back, kills the actors in it and the
workers of its running tasks (which are retried, and then wait forever, as
in Ray). A node's death unsets the bundles it held; the group is RESCHEDULING
until they are reserved again elsewhere (actors and retried tasks follow).

The runtime holds one `PlacementGroups` (`rt.placement`, made on first use);
placement_binding.py decides which group and bundle a task runs in;
`dsai.mockray.util.placement_group` is the API in front of it.
"""

from __future__ import annotations

from typing import Any

from dsai.mockray.exceptions import TaskPlacementGroupRemoved, WorkerCrashedError
from dsai.mockray.object_ref import ObjectRef
from dsai.mockray.scheduler import EPS, NodeState, fits
from dsai.mockray.serialization import serialize
from dsai.mockray.task import JOB_ID

__all__ = ["PlacementGroups", "GroupState", "STRATEGIES", "groups"]

STRATEGIES = ("PACK", "SPREAD", "STRICT_PACK", "STRICT_SPREAD")
BUNDLE_UNITS = 1000.0  # Ray's bundle resource: 1000 per bundle, 0.001 per task in it
BUNDLE_SHARE = 0.001
PENDING, CREATED, REMOVED, RESCHEDULING = "PENDING", "CREATED", "REMOVED", "RESCHEDULING"


class GroupState:
    """The cluster's record of one placement group: its bundles and where each is reserved."""

    def __init__(self, gid: str, bundles: list[dict[str, float]], strategy: str, name: str,
                 namespace: str, detached: bool, now: float) -> None:
        self.id = gid
        self.bundles = bundles
        self.strategy = strategy
        self.name = name
        self.namespace = namespace
        self.detached = detached
        self.state = PENDING
        self.nodes: list[NodeState | None] = [None] * len(bundles)  # where each bundle is reserved
        self.ready: list[Any] = []  # ObjectEntries of pg.ready() refs, set when created
        self.handle: Any = None  # the PlacementGroup (util/placement_group.py) pg.ready() returns
        self.submitted = now
        self.created: float | None = None
        self.attempts = 0
        self.infeasible = False

    def keys(self, i: int) -> dict[str, float]:
        """The resources bundle `i` adds to its node, in Ray's names."""
        gid, out = self.id, {}
        for r, v in self.bundles[i].items():
            if v:
                out[f"{r}_group_{i}_{gid}"] = v
                out[f"{r}_group_{gid}"] = v
        out[f"bundle_group_{i}_{gid}"] = BUNDLE_UNITS
        out[f"bundle_group_{gid}"] = BUNDLE_UNITS
        return out

    def demand(self, index: int, demand: dict[str, float]) -> dict[str, float]:
        """What a task asking for `demand` in bundle `index` (-1: any) asks the scheduler for."""
        suffix = f"{index}_{self.id}" if index >= 0 else self.id
        out = {f"{r}_group_{suffix}": v for r, v in demand.items() if v}
        out[f"bundle_group_{suffix}"] = BUNDLE_SHARE
        return out

    def table(self) -> dict[str, Any]:
        """This group as Ray's `placement_group_table` shows it."""
        latency = 0.0 if self.created is None else round((self.created - self.submitted) * 1000, 3)
        sched = {PENDING: "INFEASIBLE" if self.infeasible else "QUEUED", CREATED: "FINISHED",
                 REMOVED: "REMOVED", RESCHEDULING: "RESCHEDULING"}[self.state]
        return {
            "placement_group_id": self.id,
            "name": self.name,
            "bundles": {i: dict(b) for i, b in enumerate(self.bundles)},
            "bundles_to_node_id": {i: (ns.node_id if ns is not None else "") for i, ns in enumerate(self.nodes)},
            "strategy": self.strategy,
            "state": self.state,
            "stats": {"end_to_end_creation_latency_ms": latency, "scheduling_latency_ms": latency,
                      "scheduling_attempt": max(self.attempts, 1), "highest_retry_delay_ms": 0.0,
                      "scheduling_state": sched},
        }

    def __repr__(self) -> str:
        where = [ns.name if ns is not None else None for ns in self.nodes]
        return f"GroupState({self.id[:8]}, {self.strategy}, {self.state}, bundles on {where})"




def groups(rt: Any) -> "PlacementGroups":
    """The runtime's placement groups (made on first use: a cluster without any pays nothing)."""
    if rt.placement is None:
        rt.placement = PlacementGroups(rt)
    return rt.placement


class PlacementGroups:
    """All placement groups of one cluster: reserve, re-reserve after a node death, remove."""

    def __init__(self, rt: Any) -> None:
        self.rt = rt
        self.by_id: dict[str, GroupState] = {}  # creation order
        self.pending: list[GroupState] = []  # waiting for resources, oldest first
        self._watched: set[int] = set()  # nodes whose death we follow
        self._placing = False
        self._ids = rt.sim.stream("placement_groups")

    # -- creating ------------------------------------------------------------------------
    def new(self, bundles: list[dict[str, float]], strategy: str, name: str, detached: bool) -> GroupState:
        """A group's record (set its `handle`, then `submit` it)."""
        rt = self.rt
        # Ray's layout: 14 random bytes (seeded here), then the job's 4.
        gid = "%028x" % self._ids.getrandbits(112) + JOB_ID.hex()
        g = GroupState(gid, bundles, strategy, name, rt.namespace, detached, rt.clock.time)
        self.by_id[gid] = g
        return g

    def submit(self, g: GroupState) -> None:
        """Reserve its bundles now if they fit, else when resources free up."""
        self.pending.append(g)
        self.place_pending()

    def place_pending(self) -> None:
        """Reserve every waiting group that fits now, oldest first (called when resources free up)."""
        if self._placing or not self.pending:
            return
        self._placing = True
        try:
            for g in list(self.pending):
                todo = [i for i, ns in enumerate(g.nodes) if ns is None]
                g.attempts += 1
                chosen = self._choose(g, todo)
                if chosen is None:
                    g.infeasible = not self._feasible(g)
                    continue
                self.pending.remove(g)
                for i in todo:
                    self._reserve(g, i, chosen[i])
                g.state, g.infeasible = CREATED, False
                now = self.rt.clock.time
                if g.created is None:
                    g.created = now
                if g.ready:
                    value = serialize(g.handle, "a placement group")
                    for e in g.ready:
                        if not e.done:
                            e.set_value(value, 0, now)
                    g.ready = []
                for ns in {id(n): n for n in chosen.values()}.values():
                    self.rt.sim.loop.call_soon(self.rt.dispatch, ns)  # work queued for the bundles
        finally:
            self._placing = False

    def ready_ref(self, g: GroupState) -> ObjectRef:
        """A fresh ref that becomes ready (holding the group's handle) once `g` is created."""
        rt = self.rt
        rt._put_seq += 1
        oid = rt.driver_task_id + (0x40000000 | rt._put_seq).to_bytes(4, "little")
        e = rt.new_object(oid, None, 0)
        ref = ObjectRef(oid, e)
        if g.state == REMOVED:
            e.set_error(TaskPlacementGroupRemoved(), 0, rt.clock.time)
        elif g.state == CREATED:
            e.set_value(serialize(g.handle, "a placement group"), 0, rt.clock.time)
        else:
            g.ready.append(e)
        return ref

    # -- where bundles go ------------------------------------------------------------------
    def _choose(self, g: GroupState, todo: list[int]) -> dict[int, NodeState] | None:
        """A node for each bundle in `todo` under the group's strategy, all or nothing."""
        nodes = [ns for ns in self.rt.sched.nodes if ns.alive]
        avail = {id(ns): dict(ns.avail) for ns in nodes}
        used = [ns for ns in g.nodes if ns is not None]  # bundles kept (rescheduling after a death)
        strategy = g.strategy

        def take(i: int, ns: NodeState) -> bool:
            a = avail[id(ns)]
            if not fits(a, g.bundles[i]):
                return False
            for r, v in g.bundles[i].items():
                a[r] = a.get(r, 0.0) - v
            return True

        if strategy in ("PACK", "STRICT_PACK"):
            # All on one node: the one already holding bundles, or the first that fits them all.
            for ns in ([used[0]] if used else nodes):
                saved = dict(avail[id(ns)])
                if all(take(i, ns) for i in todo):
                    return {i: ns for i in todo}
                avail[id(ns)] = saved
            if strategy == "STRICT_PACK":
                return None
            chosen: dict[int, NodeState] = {}
            for i in todo:  # PACK, best effort: fill the nodes in use first
                order = list(dict.fromkeys(used + list(chosen.values()) + nodes))
                ns = next((n for n in order if take(i, n)), None)
                if ns is None:
                    return None
                chosen[i] = ns
            return chosen
        chosen = {}
        for i in todo:  # SPREAD / STRICT_SPREAD: a node with no bundle of the group first
            taken = {id(n) for n in used + list(chosen.values())}
            fresh = [n for n in nodes if id(n) not in taken]
            ns = next((n for n in fresh if take(i, n)), None)
            if ns is None and strategy == "SPREAD":
                ns = next((n for n in nodes if id(n) in taken and take(i, n)), None)
            if ns is None:
                return None
            chosen[i] = ns
        return chosen

    def _feasible(self, g: GroupState) -> bool:
        """Could the group be placed on the live nodes if they were idle? (Ray's INFEASIBLE)"""
        nodes = [ns for ns in self.rt.sched.nodes if ns.alive]
        if g.strategy == "STRICT_PACK":
            total = _sum(g.bundles)
            return any(fits(ns.total, total) for ns in nodes)
        if g.strategy == "STRICT_SPREAD" and len(g.bundles) > len(nodes):
            return False
        return all(any(fits(ns.total, b) for ns in nodes) for b in g.bundles)

    def _reserve(self, g: GroupState, i: int, ns: NodeState) -> None:
        ns.acquire(g.bundles[i])
        for k, v in g.keys(i).items():
            ns.total[k] = ns.total.get(k, 0.0) + v
            ns.avail[k] = ns.avail.get(k, 0.0) + v
        ns.settled = False  # new resources: queued tasks of the group may fit now
        g.nodes[i] = ns
        nid = ns.node.id
        if nid not in self._watched:
            self._watched.add(nid)
            ns.node.on_death(self._on_node_death)

    def _unreserve(self, g: GroupState, i: int, give_back: bool) -> None:
        """Take bundle `i`'s resources off its node (and give the raw ones back if it lives)."""
        ns = g.nodes[i]
        g.nodes[i] = None
        if ns is None:
            return
        for k, v in g.keys(i).items():
            left = ns.total.get(k, 0.0) - v
            free = ns.avail.get(k, 0.0) - v
            if left > EPS:
                ns.total[k], ns.avail[k] = left, free
                continue
            ns.total.pop(k, None)
            if free < -EPS:
                # A task still holds some and gives it back when it ends: the key stays,
                # so negative that nothing fits it again (and it is not reported free).
                ns.avail[k] = -1e18
            else:
                ns.avail.pop(k, None)
        if give_back and ns.alive:
            ns.release(g.bundles[i])

    # -- removing ----------------------------------------------------------------------------
    def remove(self, g: GroupState) -> None:
        """`remove_placement_group`: resources back, actors in it dead, its tasks' workers killed."""
        if g.state == REMOVED:
            return
        rt = self.rt
        was = g.state
        g.state = REMOVED
        if g in self.pending:
            self.pending.remove(g)
        for e in g.ready:
            if not e.done:
                e.set_error(TaskPlacementGroupRemoved(), 0, rt.clock.time)
        g.ready = []
        if was == PENDING:
            return
        # Resources first, so that nothing freed below can start work in the group again.
        nodes = []
        for i in range(len(g.bundles)):
            ns = g.nodes[i]
            self._unreserve(g, i, give_back=True)
            if ns is not None and ns not in nodes:
                nodes.append(ns)
        for actor in list(rt.actors.values()):
            b = getattr(actor.creation, "pg", None)
            if b is not None and b.group is g and actor.state != "DEAD":
                actor.crash(_ACTOR_REMOVED % (g.id, b.index), allow_restart=False)
        for ns in rt.nodes:
            for task in sorted(ns.running.values(), key=lambda t: t.seq):
                b = getattr(task, "pg", None)
                if b is not None and b.group is g and task.kind == "task" and task.state == "running":
                    rt.crash_task(task, WorkerCrashedError())
        for ns in nodes:
            if ns.alive:
                rt.sim.loop.call_soon(rt.dispatch, ns)

    def _on_node_death(self, node: Any) -> None:
        """Bundles on a dead node are reserved again elsewhere (Ray reschedules them)."""
        for g in self.by_id.values():
            if g.state not in (CREATED, RESCHEDULING):
                continue
            lost = [i for i, ns in enumerate(g.nodes) if ns is not None and ns.node is node]
            if not lost:
                continue
            for i in lost:
                self._unreserve(g, i, give_back=False)
            if g.state == CREATED:
                g.state = RESCHEDULING
                self.pending.insert(0, g)  # (Ray puts rescheduling groups first)
        self.place_pending()

    def explain(self) -> list[str]:
        """Lines for a stall report: groups still waiting for resources."""
        return [f"placement group {g.id} ({g.strategy}, bundles {g.bundles}) is {g.state}: "
                + ("no set of live nodes can ever hold it" if g.infeasible else "waiting for resources")
                for g in self.pending]


_ACTOR_REMOVED = ("The actor is dead because its worker process has died. Worker exit type: "
                  "INTENDED_SYSTEM_EXIT Worker exit detail: Destroying worker since its placement "
                  "group was removed. Placement group id: %s, bundle index: %d")


def _sum(bundles: list[dict[str, float]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for b in bundles:
        for k, v in b.items():
            out[k] = out.get(k, 0.0) + v
    return out
