"""Remote functions: `@ray.remote def f` turns a function into a task factory.

`f.remote(*args)` submits a task and returns ObjectRefs at once; the work
happens later, somewhere in the cluster. `f(*args)` is an error, as in Ray:
it would silently run locally and hide the distribution.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable

from dsai.mockray import options as opts
from dsai.mockray import session
from dsai.mockray.actor import _OptionsWrapper, _strategy
from dsai.mockray import runtime_env
from dsai.mockray.export import Export, shared_by_identity
from dsai.mockray.generator import default_num_returns, start
from dsai.mockray.placement_binding import CAPTURE, EXPLICIT, bind, pg_options
from dsai.mockray.runtime_env import current_env, merged
from dsai.mockray.task import pack_args

__all__ = ["RemoteFunction", "FuncWrapper"]


@shared_by_identity
class RemoteFunction:
    """A function that runs as a Ray task."""

    def __init__(self, fn: Callable[..., Any], options: dict[str, Any],
                 export: Export | None = None) -> None:
        if inspect.iscoroutinefunction(fn):  # Ray's check and words
            raise ValueError(
                "'async def' should not be used for remote tasks. You can wrap the "
                "async function with `asyncio.run(f())`. See more at:"
                "https://docs.ray.io/en/latest/ray-core/actors/async_api.html ")
        self._function = fn
        self._options = options
        # Tasks run the function as pickled on its first .remote() (export.py); .options() shares it.
        self._export = export or Export(fn, f"function {getattr(fn, '__qualname__', fn)!r}")
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
        # Options read on every call, resolved once.
        self._task_name = options.get("name") or self._name
        self._num_returns = default_num_returns(fn, options.get("num_returns"))
        self._streaming = isinstance(self._num_returns, str)  # a generator task (generator.py)
        r = options.get("max_retries")
        self._max_retries = 3 if r is None else r
        self._retry_exceptions = options.get("retry_exceptions", False)
        self._pg_mode, self._pg_spec = pg_options(options)  # placement groups (placement_groups.py)
        self._env_vars = runtime_env.validate(options.get("runtime_env"))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("Remote functions cannot be called directly. Instead of running "
                        f"'{self.__module__}.{self.__name__}()', try "
                        f"'{self.__module__}.{self.__name__}.remote()'.")

    def options(self, **options: Any) -> "FuncWrapper":
        opts.validate_task_options(options, in_options=True)
        return FuncWrapper(RemoteFunction(self._function, {**self._options, **options}, self._export))

    def bind(self, *args: Any, **kwargs: Any) -> Any:
        """A lazy call for Ray's DAG API (dag/): submitted when the graph is executed."""
        from dsai.mockray.dag.dag_node import FunctionNode

        return FunctionNode(self, args, kwargs)

    def remote(self, *args: Any, **kwargs: Any) -> Any:
        rt = session._runtime or session.runtime()
        if args or kwargs:
            blob, refs = pack_args(args, kwargs, self._task_name)
        else:
            blob, refs = None, ()
        demand, shape, binding = self._demand, self._shape, None
        mode = self._pg_mode
        if mode == EXPLICIT or (mode == CAPTURE and rt.placement is not None):
            binding = bind(rt, self._pg_spec, rt.caller()[1], demand, demand, self._name)
            if binding is not None:  # it asks for its bundle's resources instead
                demand, shape = binding.group.demand(binding.index, demand), None
        exp = self._export
        r = exp.runtime
        fn = exp.copy if r is not None and r() is rt else exp.get(rt)
        task, returns = rt.new_task(self._task_name, fn, blob, refs,
                                    1 if self._streaming else self._num_returns,
                                    demand, "task", self._max_retries, self._retry_exceptions,
                                    self._strategy, None, None, shape)  # (positional: faster)
        if binding is not None:
            task.pg = binding
        if self._streaming:
            returns = start(rt, task, returns, self._num_returns)
        if runtime_env.active:
            env = merged(current_env(rt), self._env_vars)  # (inherited from its caller, its own on top)
            if env is not None:
                task.env_vars = env
        rt.submit(task)
        return returns

    def __repr__(self) -> str:
        return f"RemoteFunction({self.__module__}.{self._name})"


class FuncWrapper(_OptionsWrapper):
    """`RemoteFunction.options(...)` (Ray's name for it): `.remote()` and `.bind()` only."""

    __slots__ = ()
