"""The graph's parameters: `InputNode` stands for the arguments `execute(...)` will be given.

`with InputNode() as inp:` opens the node (Ray insists on the context
manager); `inp` resolves to the one argument of `execute(x)`, or to a
`DAGInputData` holding all of them when there are several; `inp["k"]`,
`inp[0]` and `inp.k` pick a part.
"""

from __future__ import annotations

from typing import Any

from dsai.mockray.dag.dag_node import DAGNode

__all__ = ["DAGInputData", "InputAttributeNode", "InputNode"]


class DAGInputData:
    """Several `execute(...)` arguments as one value: positional by index, keywords by name."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._args = list(args)
        self._kwargs = kwargs

    def __getitem__(self, key: int | str) -> Any:
        if isinstance(key, int):
            return self._args[key]
        if isinstance(key, str):
            return self._kwargs[key]
        raise ValueError("Please only use int index or str as first-level key to "
                         "access fields of dag input.")

    def __repr__(self) -> str:
        return f"DAGInputData(args={self._args!r}, kwargs={self._kwargs!r})"


class InputNode(DAGNode):
    """The value `execute(...)` is called with (use it inside `with InputNode() as inp:`)."""

    def __init__(self) -> None:
        super().__init__((), {})
        self._in_context = False
        self._parts: dict[Any, InputAttributeNode] = {}

    def __enter__(self) -> "InputNode":
        self._in_context = True
        return self

    def __exit__(self, *exc: Any) -> None:
        pass

    def _execute_impl(self, run: Any, args: tuple, kwargs: dict[str, Any]) -> Any:
        assert self._in_context, ("InputNode is a singleton instance that should be only used in "
                                  "context manager for dag building and execution. See the docstring "
                                  "of class InputNode for examples.")
        if len(run.input_args) == 1 and not run.input_kwargs:
            return run.input_args[0]
        return DAGInputData(*run.input_args, **run.input_kwargs)

    def __getitem__(self, key: int | str) -> "InputAttributeNode":
        assert isinstance(key, (str, int)), ("Please only use int index or str as first-level key to "
                                             "access fields of dag input.")
        return self._part(key, "__getitem__")

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_"):
            return super().__getattr__(key)
        return self._part(key, "__getattr__")

    def _part(self, key: Any, accessor: str) -> "InputAttributeNode":
        if key not in self._parts:
            self._parts[key] = InputAttributeNode(self, key, accessor)
        return self._parts[key]

    def __repr__(self) -> str:
        return "InputNode()"


class InputAttributeNode(DAGNode):
    """One part of the input: `inp[key]` or `inp.key`."""

    def __init__(self, inp: InputNode, key: int | str, accessor: str) -> None:
        super().__init__((inp,), {})
        self._key = key
        self._accessor = accessor

    def _execute_impl(self, run: Any, args: tuple, kwargs: dict[str, Any]) -> Any:
        value = args[0]
        if isinstance(value, DAGInputData) or isinstance(self._key, int) or self._accessor == "__getitem__":
            return value[self._key]
        return getattr(value, self._key)

    @property
    def key(self) -> int | str:
        return self._key

    def __repr__(self) -> str:
        return f"InputAttributeNode({self._key!r})"
