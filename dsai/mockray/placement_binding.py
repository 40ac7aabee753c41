"""Binding work to a placement group: which group and bundle a task or actor runs in, decided at submission as Ray does.

A task names its group with `PlacementGroupSchedulingStrategy(pg, index,
capture_child_tasks)` or Ray's older `.options(placement_group=pg,
placement_group_bundle_index=i)`; a task that names none runs in its caller's
group when the caller captures its children (`placement_group_capture_child_tasks`,
inherited down the tree). `bind` checks the bundle index and that the task's
resources fit some bundle (Ray's `_configure_placement_group_based_on_context`,
same messages); the task then asks for the bundle's renamed resources
(`GroupState.demand`) and remembers its `Binding` (`task.pg`), which the
runtime context, removal and capture read.
"""

from __future__ import annotations

import warnings
from typing import Any

from dsai.mockray.placement_groups import GroupState
from dsai.mockray.scheduler import fits

__all__ = ["Binding", "pg_options", "bind", "current_binding", "NEVER", "CAPTURE", "EXPLICIT"]


class Binding:
    """A task's or actor's place in a group: its bundle (-1: any) and whether its children follow it."""

    __slots__ = ("group", "index", "capture")

    def __init__(self, group: GroupState, index: int, capture: bool) -> None:
        self.group, self.index, self.capture = group, index, capture

    def __repr__(self) -> str:
        return f"Binding({self.group.id[:8]}, bundle={self.index}, capture={self.capture})"


NEVER, CAPTURE, EXPLICIT = 0, 1, 2  # how a task's options relate to placement groups (see pg_options)


def pg_options(options: dict[str, Any]) -> tuple[int, tuple]:
    """How options place a task or actor: NEVER (an explicit other strategy), CAPTURE (no
    group named: its caller's group if the caller captures children), EXPLICIT (a group
    named, by PlacementGroupSchedulingStrategy or the legacy placement_group= option);
    and the (placement_group, bundle_index, capture_child_tasks) they give."""
    s = options.get("scheduling_strategy")
    if s is not None and hasattr(s, "placement_group_bundle_index"):
        return EXPLICIT, (s.placement_group, s.placement_group_bundle_index,
                          s.placement_group_capture_child_tasks)
    if s is not None:  # "DEFAULT", "SPREAD", node affinity: never in a group (as in Ray)
        return NEVER, ()
    spec = (options.get("placement_group", "default"), options.get("placement_group_bundle_index", -1),
            options.get("placement_group_capture_child_tasks"))
    names = ("placement_group", "placement_group_bundle_index", "placement_group_capture_child_tasks")
    for name, value, unset in zip(names, spec, ("default", -1, None)):
        if value != unset and value is not False:  # Ray warns at the older spelling
            warnings.warn(f"{name} parameter is deprecated. Use scheduling_strategy="
                          "PlacementGroupSchedulingStrategy(...) instead, see the usage at "
                          "https://docs.ray.io/en/releases-2.60.0/ray-core/package-ref.html#ray-remote.",
                          DeprecationWarning, stacklevel=4)
    return (CAPTURE if spec == ("default", -1, None) else EXPLICIT), spec


def current_binding(task: Any) -> "Binding | None":
    """The group binding of the code running `task` (an actor's calls run in the actor's)."""
    if task is None:
        return None
    if task.kind == "actor_task":
        return task.actor.creation.pg
    return task.pg


def bind(rt: Any, spec: tuple, caller: Any, resources: dict[str, float],
         placement_resources: dict[str, float], what: str) -> "Binding | None":
    """Ray's `_configure_placement_group_based_on_context`: the group a task or actor runs in
    (or None), its bundle index checked and its resources checked against the bundles."""
    pg, index, capture = spec
    parent = current_binding(caller)
    if capture is None:
        capture = parent.capture if parent is not None else False
    if pg == "default":
        pg = parent.group if (capture and parent is not None) else None
    gid = None
    if isinstance(pg, GroupState):
        gid = pg.id
    elif pg is not None and not hasattr(pg, "is_empty"):
        raise TypeError(f"placement_group must be a PlacementGroup (ray.util.placement_group(...)), "
                        f"None or 'default', not {type(pg).__name__}: {pg!r}")
    elif pg is not None and not pg.is_empty:
        gid = pg.id.hex()
    if gid is None:
        if index != -1:
            raise ValueError("If placement group is not set, the value of bundle index must be -1.")
        return None
    g = rt.placement.by_id.get(gid) if rt.placement is not None else None
    if g is not None and getattr(pg, "_group", g) not in (None, g):
        g = None  # a handle from an earlier session whose id the seed gave again
    if g is None:
        raise ValueError(f"Placement group {gid} does not belong to this cluster (was it made before "
                         "ray.shutdown() or by another ray.init()?); create it again in this session.")
    if index >= len(g.bundles) or index < -1:
        raise ValueError(f"placement group bundle index {index} is invalid. Valid placement group "
                         f"indexes: 0-{len(g.bundles)}")
    bundles = [dict(b) for b in g.bundles]
    if not any(fits(b, resources) for b in bundles):
        raise ValueError(f"Cannot schedule {what} with the placement group because the resource "
                         f"request {_plain(resources)} cannot fit into any bundles for the placement group, "
                         f"{bundles}.")
    if not any(fits(b, placement_resources) for b in bundles):
        raise ValueError(f"Cannot schedule {what} with the placement group because the actor requires "
                         f"{_plain(placement_resources).get('CPU', 0)} CPU for creation, but it cannot fit into "
                         f"any bundles for the placement group, {bundles}. Consider creating a "
                         "placement group with CPU resources.")
    return Binding(g, index, bool(capture))


def _plain(resources: dict[str, float]) -> dict[str, float]:
    """Whole amounts as ints, as the user wrote them (Ray's messages show its option values)."""
    return {k: int(v) if float(v).is_integer() else v for k, v in resources.items()}
