"""Ray's `ray.util` for the simulator: actor pools, a distributed queue, scheduling strategies.

`ray.util.ActorPool` balances work over a fixed set of actors,
`ray.util.queue.Queue` is a FIFO that tasks and actors share through an
actor, `ray.util.scheduling_strategies` pins work to nodes; plus the small
helpers lessons use (`get_node_ip_address`, `list_named_actors`,
`as_completed`, `map_unordered`).
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator

from dsai.mockray import api
from dsai.mockray import session
from dsai.mockray.util import placement_group as _pg_module
from dsai.mockray.util import queue, scheduling_strategies
from dsai.mockray.util.actor_pool import ActorPool
from dsai.sim.process import current_process

__all__ = ["ActorPool", "queue", "scheduling_strategies", "get_node_ip_address",
           "list_named_actors", "as_completed", "map_unordered", "placement_group",
           "placement_group_table", "remove_placement_group", "get_placement_group",
           "get_current_placement_group"]

# Ray exports the functions under `ray.util` while `ray.util.placement_group` stays importable
# as a module (`from ray.util.placement_group import placement_group` finds the module first).
placement_group = _pg_module.placement_group
placement_group_table = _pg_module.placement_group_table
remove_placement_group = _pg_module.remove_placement_group
get_placement_group = _pg_module.get_placement_group
get_current_placement_group = _pg_module.get_current_placement_group

_HEAD_IP = "10.0.0.1"  # the address the simulator gives a cluster's head node


def get_node_ip_address(address: str = "8.8.8.8:53") -> str:
    """The IP address of the node the caller runs on (the driver runs on the head node).

    `address` is accepted for Ray's signature and ignored: simulated nodes
    have fixed addresses (10.0.0.1 for the head, 10.0.0.2, ... for the others).
    """
    rt = session.runtime_or_none()
    if rt is None:
        return _HEAD_IP
    proc = current_process()
    if proc is not None and proc.node is not None:
        return rt.nodes[proc.node.id].ip
    return rt.head.ip


def list_named_actors(all_namespaces: bool = False) -> list:
    """Names of the live named actors in the current namespace (or, with
    all_namespaces=True, dicts {"name", "namespace"} across all of them)."""
    rt = session.runtime()
    keys = list(rt.named_actors)  # insertion order: creation order, deterministic
    if all_namespaces:
        return [{"name": name, "namespace": ns} for ns, name in keys]
    return [name for ns, name in keys if ns == rt.namespace]


def as_completed(refs: list, *, chunk_size: int = 10, yield_obj_refs: bool = False,
                 **kwargs: Any) -> Iterator[Any]:
    """Yield results (or refs) as batches of `chunk_size` of them become ready (Ray's helper)."""
    if chunk_size < 1:
        raise ValueError("`chunk_size` must be >= 1")
    if "num_returns" in kwargs:
        raise ValueError("Use the `chunksize` argument instead of `num_returns`.")
    refs = list(refs)
    while refs:
        ready, refs = api.wait(refs, num_returns=min(chunk_size, len(refs)), **kwargs)
        yield from (ready if yield_obj_refs else api.get(ready))


def map_unordered(fn: Any, items: Iterable[Any], *, backpressure_size: int | None = 100,
                  chunk_size: int = 10, yield_obj_refs: bool = False, **kwargs: Any) -> Iterator[Any]:
    """Run the remote function `fn` on every item with at most `backpressure_size`
    tasks in flight, yielding results as they complete (Ray's helper)."""
    limit = float("inf") if backpressure_size is None else backpressure_size
    if limit <= 0:
        raise ValueError("backpressure_size must be positive.")
    if chunk_size < 1:
        raise ValueError("`chunk_size` must be >= 1")
    if "num_returns" in kwargs:
        raise ValueError("Use the `chunk_size` argument instead of `num_returns`.")
    refs: list = []
    for item in items:
        refs.append(fn.remote(item))
        if len(refs) >= limit:
            ready, refs = api.wait(refs, num_returns=min(chunk_size, len(refs)), **kwargs)
            yield from (ready if yield_obj_refs else api.get(ready))
    yield from as_completed(refs, chunk_size=chunk_size, yield_obj_refs=yield_obj_refs, **kwargs)
