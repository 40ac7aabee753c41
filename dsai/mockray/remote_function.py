"""Remote functions: `@ray.remote def f` turns a function into a task factory.

`f.remote(*args)` submits a task and returns ObjectRefs at once; the work
happens later, somewhere in the cluster. `f(*args)` is an error, as in Ray:
it would silently run locally and hide the distribution.
"""

from __future__ import annotations

from typing import Any, Callable

from dsai.mockray import options as opts
from dsai.mockray import runtime as _runtime
from dsai.mockray.actor import _strategy
from dsai.mockray.task import Task, pack_args

__all__ = ["RemoteFunction"]


class RemoteFunction:
    """A function that runs as a Ray task."""

    def __init__(self, fn: Callable[..., Any], options: dict[str, Any]) -> None:
        self._function = fn
        self._options = options
        self._name = getattr(fn, "__name__", "task")  # Ray names a task by its function's name
        self.__name__ = getattr(fn, "__name__", "task")
        self.__qualname__ = self._name
        self.__module__ = getattr(fn, "__module__", None)
        self.__doc__ = fn.__doc__
        self._demand = opts.resource_demand(options.get("num_cpus", 1), options.get("num_gpus"),
                                            options.get("resources"))
        self._strategy = _strategy(options.get("scheduling_strategy"))
        s = self._strategy
        key = s if (s is None or isinstance(s, str)) else (s.node_id, s.soft)
        self._shape = (tuple(sorted(self._demand.items())), key)  # the scheduler's queue key

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("Remote functions cannot be called directly. Instead of running "
                        f"'{self.__module__}.{self.__name__}()', try "
                        f"'{self.__module__}.{self.__name__}.remote()'.")

    def options(self, **options: Any) -> "RemoteFunction":
        opts.validate_task_options(options, in_options=True)
        return RemoteFunction(self._function, {**self._options, **options})

    def bind(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("Ray's DAG API (.bind) is not simulated; use .remote()")

    def remote(self, *args: Any, **kwargs: Any) -> Any:
        rt = _runtime._runtime or _runtime.runtime()
        o = self._options
        name = o.get("name") or self._name
        blob, refs = pack_args(args, kwargs, name)
        node_id, parent = rt.caller()
        seq, task_id = rt.next_task_id()
        num_returns = o.get("num_returns")
        num_returns = 1 if num_returns is None else num_returns
        max_retries = o.get("max_retries")
        task = Task(rt, seq, task_id, name, self._function, blob, refs, num_returns, self._demand,
                    max_retries=3 if max_retries is None else max_retries,
                    retry_exceptions=o.get("retry_exceptions", False), caller_node=node_id,
                    strategy=self._strategy, parent=parent)
        task.shape = self._shape
        returns = rt.make_returns(task)
        if parent is not None:
            parent.add_child(task)
        rt.submit(task)
        if num_returns == 1:
            return returns[0]
        return None if num_returns == 0 else returns

    def __repr__(self) -> str:
        return f"RemoteFunction({self.__module__}.{self._name})"
