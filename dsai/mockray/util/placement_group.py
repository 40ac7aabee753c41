"""Placement groups, as Ray's API shows them: reserve bundles of resources together, then place work in them.

`placement_group([{"CPU": 1}, {"CPU": 1}], strategy="STRICT_SPREAD")`
returns a `PlacementGroup` at once; the cluster reserves its bundles when
they fit (`pg.ready()`, `pg.wait(timeout_seconds)`). Tasks and actors go
into a bundle with `scheduling_strategy=PlacementGroupSchedulingStrategy(pg,
placement_group_bundle_index=i)` (or Ray's older `.options(placement_group=pg,
placement_group_bundle_index=i)`). The reservation itself lives in the
runtime (placement_groups.py); this module is the API in front of it, with
Ray's names, checks and messages (`ray.util.placement_group` in Ray 2.60).
"""

from __future__ import annotations

from typing import Any, Optional

from dsai.errors import DsaiError
from dsai.mockray import api, session
from dsai.mockray.placement_binding import current_binding
from dsai.mockray.placement_groups import STRATEGIES, groups
from dsai.sim.process import current_process

__all__ = ["PlacementGroup", "PlacementGroupID", "placement_group", "remove_placement_group",
           "get_placement_group", "placement_group_table", "get_current_placement_group",
           "check_placement_group_index", "PlacementGroupNotFoundError"]

_NIL = b"\xff" * 18


class PlacementGroupNotFoundError(DsaiError):
    """A placement group asked for by id no longer exists (Ray raises a plain Exception)."""


class PlacementGroupID:
    """A placement group's id: 18 bytes (14 unique to the group, then the job's 4)."""

    def __init__(self, binary: bytes) -> None:
        self._binary = binary

    def binary(self) -> bytes:
        return self._binary

    def hex(self) -> str:
        return self._binary.hex()

    def is_nil(self) -> bool:
        return self._binary == _NIL

    @staticmethod
    def nil() -> "PlacementGroupID":
        return PlacementGroupID(_NIL)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PlacementGroupID) and other._binary == self._binary

    def __hash__(self) -> int:
        return hash(self._binary)

    def __repr__(self) -> str:
        return f"PlacementGroupID({self.hex()})"


class PlacementGroup:
    """A handle to a placement group (pass it to tasks freely: it is just its id and bundles)."""

    @staticmethod
    def empty() -> "PlacementGroup":
        return PlacementGroup(PlacementGroupID.nil())

    def __init__(self, id: PlacementGroupID, bundle_cache: Optional[list[dict]] = None) -> None:
        self.id = id
        self.bundle_cache = bundle_cache
        self._group: Any = None  # the cluster's record, when made in this process (not pickled)

    @property
    def is_empty(self) -> bool:
        return self.id.is_nil()

    def ready(self) -> Any:
        """An ObjectRef that resolves (to this placement group) once all its bundles are reserved."""
        if self.is_empty:
            return api.put(self)
        return groups(session.runtime()).ready_ref(_state(self))

    def wait(self, timeout_seconds: float | int = 30) -> bool:
        """Wait up to `timeout_seconds` (virtual) for the group to be created; True if it is."""
        g = _state(self)
        if g.state == "REMOVED":
            raise PlacementGroupNotFoundError(f"Placement group {self.id!r} does not exist.")
        ready, _ = api.wait([self.ready()], timeout=timeout_seconds)
        return bool(ready)

    @property
    def bundle_specs(self) -> list[dict]:
        """The bundles of this placement group, as lists of resource dicts."""
        if not self.bundle_cache:
            self.bundle_cache = [dict(b) for b in _state(self).bundles]
        return self.bundle_cache

    @property
    def bundle_count(self) -> int:
        return len(self.bundle_specs)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PlacementGroup) and self.id == other.id

    def __hash__(self) -> int:
        return hash(self.id)

    def __reduce__(self):
        return (_rebuild, (self.id.binary(), self.bundle_cache))

    def __repr__(self) -> str:
        if self.is_empty:
            return "PlacementGroup(empty)"
        rt = session.runtime_or_none()
        g = rt.placement.by_id.get(self.id.hex()) if rt is not None and rt.placement is not None else None
        state = f", {g.strategy}, {g.state}" if g is not None else ""
        return f"PlacementGroup({self.id.hex()}{state}, bundles={self.bundle_cache})"


def _rebuild(binary: bytes, bundles: Optional[list[dict]]) -> PlacementGroup:
    return PlacementGroup(PlacementGroupID(binary), bundles)


def _state(pg: PlacementGroup) -> Any:
    rt = session.runtime()
    g = rt.placement.by_id.get(pg.id.hex()) if rt.placement is not None else None
    if g is not None and pg._group is not None and pg._group is not g:
        g = None  # made in an earlier session (a seeded id can come again)
    if g is None:
        raise PlacementGroupNotFoundError(
            f"Placement group {pg.id!r} does not exist in this cluster (was it made before "
            "ray.shutdown() or by another ray.init()?); create it again in this session.")
    return g


def _handle(g: Any) -> PlacementGroup:
    pg = PlacementGroup(PlacementGroupID(bytes.fromhex(g.id)), [dict(b) for b in g.bundles])
    pg._group = g
    return pg


def _validate_bundles(bundles: Any) -> None:
    if not isinstance(bundles, list):
        raise ValueError(f"Placement group bundles must be a list, got {type(bundles)}.")
    if len(bundles) == 0:
        raise ValueError('Bundles must be a non-empty list of resource dictionaries. For example: '
                         '`[{"CPU": 1.0}, {"GPU": 1.0}]`. Got empty list instead.')
    for bundle in bundles:
        if (not isinstance(bundle, dict) or not all(isinstance(k, str) for k in bundle)
                or not all(isinstance(v, (int, float)) for v in bundle.values())):
            raise ValueError('Bundles must be a non-empty list of resource dictionaries. For example: '
                             '`[{"CPU": 1.0}, {"GPU": 1.0}]`.')
        if len(bundle) == 0 or all(v == 0 for v in bundle.values()):
            raise ValueError(f"Bundles cannot be an empty dictionary or resources with only 0 values. "
                             f"Bundles: {bundles}")


def placement_group(bundles: list[dict[str, float]], strategy: Optional[str] = None, name: str = "",
                    lifetime: Optional[str] = None, _soft_target_node_id: Optional[str] = None,
                    bundle_label_selector: Optional[list[dict[str, str]]] = None,
                    topology_strategy: Optional[dict[str, str]] = None) -> PlacementGroup:
    """Ask the cluster to reserve `bundles` together: "PACK" (default: as few nodes as possible),
    "SPREAD" (as many as possible), "STRICT_PACK" (one node), "STRICT_SPREAD" (one per bundle).

    Returns at once; `pg.ready()` / `pg.wait()` tell when the bundles are reserved. `lifetime`
    "detached" is accepted (a simulated cluster has one job, so every group lives until
    `remove_placement_group` or shutdown). Label selectors and topology strategies are not
    simulated (simulated nodes carry no labels).
    """
    if strategy is not None and strategy not in STRATEGIES:
        raise ValueError(f"Invalid placement group strategy {strategy}. Supported strategies are: "
                         f"{set(STRATEGIES)}.")
    if bundle_label_selector or topology_strategy or _soft_target_node_id:
        raise NotImplementedError(
            "bundle_label_selector, topology_strategy and _soft_target_node_id are not simulated by "
            "dsai.mockray (simulated nodes carry no labels); use strategy= and custom resources "
            "in the bundles instead, or run with the real Ray backend (DSAI_BACKEND=ray).")
    _validate_bundles(bundles)
    if lifetime not in (None, "detached"):
        raise ValueError("Placement group `lifetime` argument must be either `None` or "
                         f"'detached'. Got {lifetime}.")
    rt = session.runtime()
    cache = [{k: float(v) for k, v in b.items()} for b in bundles]
    pgs = groups(rt)
    g = pgs.new(cache, strategy or "PACK", name, lifetime == "detached")
    g.handle = _handle(g)
    pgs.submit(g)
    return _handle(g)


def remove_placement_group(placement_group: PlacementGroup) -> None:
    """Give the group's resources back: actors in it die, its running tasks lose their workers
    (and, if retried, wait for a group that will not come back)."""
    assert placement_group is not None
    g = _state(placement_group)
    groups(session.runtime()).remove(g)


def get_placement_group(placement_group_name: str) -> PlacementGroup:
    """The live placement group with this name (in the current namespace)."""
    if not placement_group_name:
        raise ValueError("Please supply a non-empty value to get_placement_group")
    rt = session.runtime()
    if rt.placement is not None:
        for g in reversed(list(rt.placement.by_id.values())):
            if g.name == placement_group_name and g.namespace == rt.namespace and g.state != "REMOVED":
                pg = PlacementGroup(PlacementGroupID(bytes.fromhex(g.id)))  # (no bundles: as Ray's)
                pg._group = g
                return pg
    raise ValueError(f"Failed to look up placement group with name: {placement_group_name}")


def placement_group_table(placement_group: PlacementGroup = None) -> dict:
    """The state of one placement group, or of all of them keyed by id (Ray's layout)."""
    rt = session.runtime()
    if placement_group is not None:
        return _state(placement_group).table()
    if rt.placement is None:
        return {}
    return {gid: g.table() for gid, g in rt.placement.by_id.items()}


def get_current_placement_group() -> Optional[PlacementGroup]:
    """The placement group the calling task or actor runs in; None in the driver or outside any."""
    proc = current_process()
    b = current_binding(proc.context if proc is not None else None)
    return _handle(b.group) if b is not None else None


def check_placement_group_index(placement_group: PlacementGroup, bundle_index: int) -> None:
    assert placement_group is not None
    if placement_group.id.is_nil():
        if bundle_index != -1:
            raise ValueError("If placement group is not set, the value of bundle index must be -1.")
    elif bundle_index >= placement_group.bundle_count or bundle_index < -1:
        raise ValueError(f"placement group bundle index {bundle_index} is invalid. Valid placement "
                         f"group indexes: 0-{placement_group.bundle_count}")
