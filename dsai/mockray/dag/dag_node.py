"""A lazy task graph: `.bind()` records a call instead of running it, `.execute()` submits the whole graph.

Ray's DAG API (`ray.dag`) builds a dataflow graph of task and actor-method
calls whose edges are the values one call passes to another; `execute()`
walks it bottom-up, submitting every node once (a node used twice is one
call) and passing each node's ObjectRef where the graph used the node. So
the graph runs with the same futures and argument rules as hand-written
`.remote()` calls: a node passed top-level arrives as its value, one nested
in a list arrives as an ObjectRef.

Actor nodes keep call order: every method bound on a `ClassNode` remembers
the call bound before it on the same actor and submits it first, so an
execution creates the actor and then runs its calls in the order they were
bound (Ray's PREV_CLASS_METHOD_CALL_KEY). Each `execute()` creates fresh
actors for its ClassNodes; a method bound on a live handle uses that actor.
"""

from __future__ import annotations

import warnings
from typing import Any

__all__ = ["ClassMethodNode", "ClassNode", "DAGNode", "FunctionNode"]


class DAGNode:
    """One recorded call in the graph: what to call, its bound arguments, and the nodes it waits for."""

    def __init__(self, args: tuple, kwargs: dict[str, Any], after: tuple["DAGNode", ...] = ()) -> None:
        self._bound_args = tuple(args)
        self._bound_kwargs = dict(kwargs)
        self._after = after  # nodes submitted before this one though not its arguments

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        """Submit the graph under this node; its ObjectRef (a list of them for MultiOutputNode)."""
        warnings.warn("DAGNode.execute() is deprecated and will be removed in a future release.",
                      DeprecationWarning, stacklevel=2)
        return _Execution(args, kwargs).run(self)

    def experimental_compile(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("compiled graphs (experimental_compile) are not simulated; "
                                  "run the graph with .execute() instead")

    def _execute_impl(self, run: "_Execution", args: tuple, kwargs: dict[str, Any]) -> Any:
        raise NotImplementedError  # every concrete node says how it submits itself

    def __getattr__(self, attr: str) -> Any:
        if attr == "bind":
            raise AttributeError(f".bind() cannot be used again on {type(self)} ")
        if attr == "remote":
            raise AttributeError(f".remote() cannot be used on {type(self)}. To execute the task "
                                 "graph for this node, use .execute().")
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{attr}'")


class _Execution:
    """One `execute()`: each node submitted once, children before parents (memoised by identity)."""

    def __init__(self, args: tuple, kwargs: dict[str, Any]) -> None:
        self.input_args = args
        self.input_kwargs = kwargs
        self._done: dict[int, Any] = {}
        self._keep: list[DAGNode] = []  # ids stay unique while the execution lives

    def run(self, node: DAGNode) -> Any:
        key = id(node)
        if key not in self._done:
            args = self.resolve(node._bound_args)
            kwargs = self.resolve(node._bound_kwargs)
            for dep in node._after:
                if dep is not None:
                    self.run(dep)
            self._done[key] = node._execute_impl(self, args, kwargs)
            self._keep.append(node)
        return self._done[key]

    def resolve(self, value: Any) -> Any:
        """`value` with every node in it (inside lists, tuples, dicts) replaced by its result."""
        if isinstance(value, DAGNode):
            return self.run(value)
        if isinstance(value, (list, tuple)):
            return type(value)(self.resolve(v) for v in value)
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        return value


class FunctionNode(DAGNode):
    """`f.bind(...)`: a task call (`f` carries its `.options()`)."""

    def __init__(self, function: Any, args: tuple, kwargs: dict[str, Any]) -> None:
        super().__init__(args, kwargs)
        self._function = function

    def _execute_impl(self, run: _Execution, args: tuple, kwargs: dict[str, Any]) -> Any:
        return self._function.remote(*args, **kwargs)

    def __repr__(self) -> str:
        return f"FunctionNode({getattr(self._function, '__name__', self._function)})"


class ClassNode(DAGNode):
    """`Cls.bind(...)`: an actor the graph creates when it executes; bind its methods on it."""

    def __init__(self, actor_class: Any, args: tuple, kwargs: dict[str, Any], methods: set[str]) -> None:
        super().__init__(args, kwargs)
        self._actor_class = actor_class
        self._methods = methods
        self._last_call: ClassMethodNode | None = None

    def _execute_impl(self, run: _Execution, args: tuple, kwargs: dict[str, Any]) -> Any:
        return self._actor_class.remote(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            return super().__getattr__(name)
        if name not in self.__dict__.get("_methods", ()):
            raise AttributeError(f"type object '{self._actor_class.__name__}' has no attribute '{name}'")
        return _UnboundClassMethodNode(self, name)

    def __repr__(self) -> str:
        return f"ClassNode({self._actor_class.__name__})"


class _UnboundClassMethodNode:
    """`class_node.method`: `.bind(...)` records a call on the graph's actor."""

    def __init__(self, actor: ClassNode, method: str) -> None:
        self._actor = actor
        self._method = method

    def bind(self, *args: Any, **kwargs: Any) -> "ClassMethodNode":
        node = ClassMethodNode(self._actor, self._method, args, kwargs, prev=self._actor._last_call)
        self._actor._last_call = node
        return node

    def remote(self, *args: Any, **kwargs: Any) -> Any:
        raise AttributeError(".remote() cannot be used on ClassMethodNodes. Use .bind() instead "
                             "to express an symbolic actor call.")


class ClassMethodNode(DAGNode):
    """`actor.method.bind(...)`: a call on a graph-made actor (ClassNode) or on a live handle."""

    def __init__(self, parent: Any, method: str, args: tuple, kwargs: dict[str, Any],
                 prev: "ClassMethodNode | None" = None, options: dict[str, Any] | None = None) -> None:
        # The parent first (the actor exists), then the call bound before this one on it.
        super().__init__(args, kwargs, after=(parent, prev) if isinstance(parent, DAGNode) else ())
        self._parent = parent
        self._method = method
        self._options = options or {}

    def _execute_impl(self, run: _Execution, args: tuple, kwargs: dict[str, Any]) -> Any:
        handle = run.run(self._parent) if isinstance(self._parent, DAGNode) else self._parent
        method = getattr(handle, self._method)
        if self._options:
            method = method.options(**self._options)
        return method.remote(*args, **kwargs)

    def __repr__(self) -> str:
        return f"ClassMethodNode({self._method}())"

