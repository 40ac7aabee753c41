"""A machine in the simulated cluster: it can be alive or dead, slow, or skewed.

A node owns no behaviour of its own; the layers above (the Ray runtime, the
replicated store) keep their per-node state and subscribe to the node's death
and restart, which is how a fault injected here reaches them.
"""

from __future__ import annotations

from typing import Any, Callable

__all__ = ["Node"]


class Node:
    """One simulated machine."""

    def __init__(self, node_id: int, name: str, resources: dict[str, float] | None = None) -> None:
        self.id = node_id
        self.name = name
        self.resources: dict[str, float] = dict(resources or {})
        self.alive = True
        self.slowdown = 1.0  # work on this node takes `slowdown` times as long
        self.clock_offset = 0.0  # local clock = virtual time + offset (clock skew)
        self.incarnation = 0  # bumped by every restart, so stale events can be told apart
        self._on_death: list[Callable[["Node"], Any]] = []
        self._on_restart: list[Callable[["Node"], Any]] = []

    def on_death(self, fn: Callable[["Node"], Any]) -> None:
        self._on_death.append(fn)

    def on_restart(self, fn: Callable[["Node"], Any]) -> None:
        self._on_restart.append(fn)

    def local_time(self, now: float) -> float:
        return now + self.clock_offset

    def __repr__(self) -> str:
        state = "alive" if self.alive else "dead"
        extras = ""
        if self.slowdown != 1.0:
            extras += f", slowdown={self.slowdown:g}"
        if self.clock_offset:
            extras += f", clock_offset={self.clock_offset:+g}"
        return f"Node({self.name!r}, {state}{extras})"
