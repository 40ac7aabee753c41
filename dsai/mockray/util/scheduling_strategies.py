"""Scheduling strategies: where a task or actor may run (pinning work to a named node).

`NodeAffinitySchedulingStrategy(node_id, soft)` pins a task or actor to one
node: with `soft=False` it waits for that node (and fails if the node is
gone), with `soft=True` it runs elsewhere when the node is gone or can never
fit it. The simulator's scheduler reads `.node_id` and `.soft`.
`PlacementGroupSchedulingStrategy` puts work in a placement group's bundle
(util/placement_group.py). Label selectors are not simulated: their strategy
exists so that imports work, and raises NotImplementedError when constructed.
"""

from __future__ import annotations

import string
from typing import Any

__all__ = ["NodeAffinitySchedulingStrategy", "PlacementGroupSchedulingStrategy",
           "NodeLabelSchedulingStrategy"]

_NODE_ID_HEX_LEN = 56  # Ray's NodeID is 28 bytes
_HEX = frozenset(string.hexdigits)


def _is_valid_node_id(node_id: str) -> bool:
    # Ray parses the hex into a NodeID; a malformed string becomes the nil ID (all 0xff).
    if len(node_id) != _NODE_ID_HEX_LEN or not set(node_id) <= _HEX:
        return False
    return node_id.lower() != "f" * _NODE_ID_HEX_LEN


class NodeAffinitySchedulingStrategy:
    """Static scheduling strategy used to run a task or actor on a particular node.

    `node_id` is the hex id of the node (`ray.get_runtime_context().get_node_id()`,
    `ray.nodes()[i]["NodeID"]`, or `Cluster.add_node(...).node_id`). With
    `soft=True` the task runs elsewhere if that node is dead or can never fit it.
    """

    def __init__(self, node_id: Any, soft: bool, _spill_on_unavailable: bool = False,
                 _fail_on_unavailable: bool = False) -> None:
        if not isinstance(node_id, str):
            node_id = node_id.hex()
        self.node_id = node_id
        self.soft = soft
        self._spill_on_unavailable = _spill_on_unavailable
        self._fail_on_unavailable = _fail_on_unavailable
        self._validate_attributes()

    def _validate_attributes(self) -> None:
        if not _is_valid_node_id(self.node_id):
            raise ValueError(
                f"Invalid node_id '{self.node_id}'. Node ID must be a valid hex string. To get a "
                "list of all nodes and their IDs in your cluster, use ray.nodes(). See "
                "https://docs.ray.io/en/latest/ray-core/miscellaneous.html#node-information for "
                "more details.")
        if self._spill_on_unavailable and not self.soft:
            raise ValueError("_spill_on_unavailable cannot be set when soft is False. Please set "
                             "soft to True to use _spill_on_unavailable.")
        if self._fail_on_unavailable and self.soft:
            raise ValueError("_fail_on_unavailable cannot be set when soft is True. Please set soft "
                             "to False to use _fail_on_unavailable.")

    def __repr__(self) -> str:
        return f"NodeAffinitySchedulingStrategy(node_id={self.node_id!r}, soft={self.soft})"


class PlacementGroupSchedulingStrategy:
    """Run a task or actor in a placement group: in bundle `placement_group_bundle_index`
    (-1: any bundle); with `placement_group_capture_child_tasks`, the tasks and actors it
    starts run in the group too (placement_groups.py reserves and places)."""

    def __init__(self, placement_group: Any, placement_group_bundle_index: int = -1,
                 placement_group_capture_child_tasks: bool | None = None) -> None:
        self.placement_group = placement_group
        self.placement_group_bundle_index = placement_group_bundle_index
        self.placement_group_capture_child_tasks = placement_group_capture_child_tasks

    def __repr__(self) -> str:
        return (f"PlacementGroupSchedulingStrategy({self.placement_group!r}, "
                f"placement_group_bundle_index={self.placement_group_bundle_index}, "
                f"placement_group_capture_child_tasks={self.placement_group_capture_child_tasks})")


class NodeLabelSchedulingStrategy:
    """Not simulated: simulated nodes carry no labels."""

    def __init__(self, hard: Any, *, soft: Any = None) -> None:
        raise NotImplementedError(
            "NodeLabelSchedulingStrategy is not simulated by dsai.mockray (nodes have no labels). "
            "Use custom resources (Cluster.add_node(resources={'zone-a': 1}) and "
            ".options(resources={'zone-a': 0.01})) or NodeAffinitySchedulingStrategy(node_id, soft).")
