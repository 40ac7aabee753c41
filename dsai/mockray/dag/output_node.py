"""A graph with several results: `MultiOutputNode([a, b])` executes to the list of their ObjectRefs."""

from __future__ import annotations

from typing import Any

from dsai.mockray.dag.dag_node import DAGNode

__all__ = ["MultiOutputNode"]


class MultiOutputNode(DAGNode):
    """The list of its nodes' results (each node still submitted once)."""

    def __init__(self, args: list) -> None:
        if not isinstance(args, list):
            raise ValueError(f"Invalid input type for `args`, {type(args)}.")
        super().__init__((args,), {})

    def _execute_impl(self, run: Any, args: tuple, kwargs: dict[str, Any]) -> Any:
        return args[0]

    def __repr__(self) -> str:
        return f"MultiOutputNode({len(self._bound_args[0])} outputs)"
