"""Actors, as the Ray API shows them: a class made remote, a handle to one instance, a method to call on it.

`ActorClass.remote(...)` creates an actor (its record, `ActorState`, lives
in the runtime: actor_state.py) and returns an `ActorHandle`;
`handle.method.remote(...)` submits a call, which the actor runs in the
order each caller sent them. Handles are plain names (an id): pass them to
tasks and other actors freely.
"""

from __future__ import annotations

import inspect
from typing import Any

from dsai.mockray import options as opts
from dsai.mockray import session
from dsai.mockray.actor_state import ActorState
from dsai.mockray.exceptions import ActorAlreadyExistsError
from dsai.mockray.export import Export, shared_by_identity
from dsai.mockray.generator import default_num_returns, start
from dsai.mockray.placement_binding import CAPTURE, EXPLICIT, bind, pg_options
from dsai.mockray.runtime_env import current_env, merged
from dsai.mockray.runtime_env import validate as env_vars_of
from dsai.mockray.task import pack_args

__all__ = ["ActorClass", "ActorHandle", "ActorMethod", "ActorState", "method"]

_NO_DEMAND: dict[str, float] = {}  # a call needs no resources beyond its actor's (never mutated)


class ActorMethod:
    """`handle.method`: call it with `.remote(...)`."""

    def __init__(self, handle: "ActorHandle", name: str, num_returns: int = 1,
                 options: dict[str, Any] | None = None) -> None:
        self._handle = handle
        self._name = name
        self._num_returns = num_returns
        self._options = options or {}

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("Actor methods cannot be called directly. Instead of running "
                        f"'object.{self._name}()', try 'object.{self._name}.remote()'.")

    def options(self, **options: Any) -> "_ActorMethodOptionsWrapper":
        opts.validate_method_options(options)
        merged = {**self._options, **options}
        return _ActorMethodOptionsWrapper(
            ActorMethod(self._handle, self._name, merged.get("num_returns", self._num_returns), merged))

    def remote(self, *args: Any, **kwargs: Any) -> Any:
        rt = session._runtime or session.runtime()
        actor = rt.actors.get(self._handle._actor_id_hex)
        if actor is None:
            raise ValueError(f"{self._handle!r} belongs to a cluster that was shut down; create the "
                             "actor again")
        method = self._name
        name = actor.method_names.get(method) or actor.method_name(method)
        if args or kwargs:
            blob, refs = pack_args(args, kwargs, name)
        else:
            blob, refs = None, ()
        options = self._options
        if options:
            retries = options.get("max_task_retries", actor.max_task_retries)
            retry_exceptions = options.get("retry_exceptions", False)
        else:
            retries, retry_exceptions = actor.max_task_retries, False
        n = self._num_returns
        streaming = type(n) is str  # a generator method (generator.py)
        task, returns = rt.new_task(name, None, blob, refs, 1 if streaming else n, _NO_DEMAND, "actor_task",
                                    retries, retry_exceptions, None, actor, method, None,
                                    actor.id_suffix)  # (positional: a faster call)
        if options and options.get("concurrency_group"):
            task.concurrency_group = options["concurrency_group"]
        if streaming:
            returns = start(rt, task, returns, n)
        actor.submit_call(task)
        return returns

    def bind(self, *args: Any, **kwargs: Any) -> Any:
        """A lazy call on this actor for Ray's DAG API (dag/)."""
        from dsai.mockray.dag.dag_node import ClassMethodNode

        return ClassMethodNode(self._handle, self._name, args, kwargs, options=self._options)

    def __repr__(self) -> str:
        return f"ActorMethod({self._handle._class_name}.{self._name})"


@shared_by_identity
class ActorHandle:
    """A reference to an actor; pass it to tasks and other actors freely."""

    def __init__(self, actor_id: str, class_name: str, methods: dict[str, int]) -> None:
        self._actor_id_hex = actor_id
        self._class_name = class_name
        self._methods = methods

    def __getattr__(self, name: str) -> ActorMethod:
        methods = self.__dict__.get("_methods", {})
        if name in methods:
            m = ActorMethod(self, name, methods[name])
            self.__dict__[name] = m  # found directly next time (handle.f.remote() in a loop)
            return m
        raise AttributeError(f"'ActorHandle' object has no attribute '{name}'")

    @property
    def _actor_id(self) -> Any:
        return _ActorID(self._actor_id_hex)

    def __reduce__(self):
        return (_rebuild_handle, (self._actor_id_hex, self._class_name, self._methods))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ActorHandle) and other._actor_id_hex == self._actor_id_hex

    def __hash__(self) -> int:
        return hash(self._actor_id_hex)

    def __repr__(self) -> str:
        return f"Actor({self._class_name}, {self._actor_id_hex})"


class _ActorID:
    def __init__(self, h: str) -> None:
        self._hex = h

    def hex(self) -> str:
        return self._hex

    def __repr__(self) -> str:
        return f"ActorID({self._hex})"


def _rebuild_handle(actor_id: str, class_name: str, methods: dict[str, int]) -> ActorHandle:
    return ActorHandle(actor_id, class_name, methods)


def _method_table(cls: type) -> dict[str, int]:
    out = {}
    for name, member in inspect.getmembers(cls):
        if name.startswith("__") and name != "__call__":
            continue
        if callable(member):
            out[name] = default_num_returns(member, getattr(member, "__ray_num_returns__", None))
    return out


@shared_by_identity
class ActorClass:
    """`@ray.remote class C`: create actors with `C.remote(...)`."""

    def __init__(self, cls: type, options: dict[str, Any], export: Export | None = None) -> None:
        self._cls = cls
        self._options = options
        # Actors run the class as pickled when its first actor is created (export.py).
        self._export = export or Export(cls, f"actor class {cls.__qualname__!r}")
        self._methods = _method_table(cls)
        self.__name__ = cls.__name__
        self.__qualname__ = cls.__qualname__
        self.__module__ = cls.__module__
        self.__doc__ = cls.__doc__

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("Actors cannot be instantiated directly. Instead of "
                        f"'{self._cls.__qualname__}()', use '{self._cls.__qualname__}.remote()'.")

    def options(self, **options: Any) -> "ActorOptionWrapper":
        opts.validate_actor_options(options, in_options=True)
        return ActorOptionWrapper(ActorClass(self._cls, {**self._options, **options}, self._export))

    def bind(self, *args: Any, **kwargs: Any) -> Any:
        """An actor for Ray's DAG API (dag/), created when the graph is executed."""
        from dsai.mockray.dag.dag_node import ClassNode

        return ClassNode(self, args, kwargs, set(self._methods))

    def remote(self, *args: Any, **kwargs: Any) -> ActorHandle:
        rt = session.runtime()
        o = self._options
        name = o.get("name")
        namespace = o.get("namespace") or rt.namespace
        if name is not None:
            if not isinstance(name, str):
                raise TypeError(f"name must be None or a string, got: '{type(name)}'.")
            if name == "":
                raise ValueError("Actor name cannot be an empty string.")
            existing = rt.named_actors.get((namespace, name))
            if existing is not None:
                if o.get("get_if_exists"):
                    return existing.handle
                raise ActorAlreadyExistsError(
                    f"The name {name} (namespace={o.get('namespace')}) is already taken. Please use "
                    "a different name or get the existing actor using "
                    f"ray.get_actor('{name}', namespace='{o.get('namespace')}')")
        actor_id = rt.new_actor_id()
        state = ActorState(rt, actor_id, self._export.get(rt), name, namespace, o)
        state.env_vars = merged(current_env(rt), env_vars_of(o.get("runtime_env")))  # its calls' too
        handle = ActorHandle(actor_id, self._cls.__qualname__, self._methods)
        state.handle = handle
        rt.actors[actor_id] = state
        if name is not None:
            rt.named_actors[(namespace, name)] = state
        num_cpus = o.get("num_cpus")
        hold = opts.resource_demand(num_cpus, o.get("num_gpus"), o.get("resources"))
        # Ray: an actor needs 1 CPU to be placed but holds none while it lives,
        # unless it asks for CPUs explicitly.
        demand = dict(hold) if num_cpus is not None else {**hold, "CPU": hold.get("CPU", 0.0) + 1.0}
        mode, spec = pg_options(o)
        binding = None
        if mode == EXPLICIT or (mode == CAPTURE and rt.placement is not None):
            binding = bind(rt, spec, rt.caller()[1], hold, demand, self._cls.__name__)
            if binding is not None:  # placed by, and holding, its bundle's resources
                demand = binding.group.demand(binding.index, demand)
                hold = binding.group.demand(binding.index, hold)
        blob, refs = pack_args(args, kwargs, f"{self._cls.__name__}.__init__")
        creation, _ = rt.new_task(f"{self._cls.__name__}.__init__", state.construct, blob, refs, 0, demand,
                               "actor_creation", 0, False, _strategy(o.get("scheduling_strategy")),
                               state)
        creation.hold = hold
        creation.pg = binding
        state.start(creation)
        return handle

    def __repr__(self) -> str:
        return f"ActorClass({self._cls.__name__})"


class _OptionsWrapper:
    """What `.options()` returns, as in Ray: `.remote()` and `.bind()` only, so a second
    `.options()` is an AttributeError (pass all the options in one call)."""

    __slots__ = ("_target",)

    def __init__(self, target: Any) -> None:
        self._target = target

    def remote(self, *args: Any, **kwargs: Any) -> Any:
        return self._target.remote(*args, **kwargs)

    def bind(self, *args: Any, **kwargs: Any) -> Any:
        return self._target.bind(*args, **kwargs)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._target!r})"


class ActorOptionWrapper(_OptionsWrapper):
    """`ActorClass.options(...)` (Ray's name for it)."""

    __slots__ = ()


class _ActorMethodOptionsWrapper(_OptionsWrapper):
    """`handle.method.options(...)` (Ray's name for it)."""

    __slots__ = ()


def _strategy(s: Any) -> Any:
    if s is None or s == "DEFAULT":
        return None
    if s == "SPREAD":
        return "SPREAD"
    if hasattr(s, "node_id") and hasattr(s, "soft"):
        return s
    if hasattr(s, "placement_group_bundle_index"):
        return None  # placed by its group's resources (placement_groups.bind)
    raise ValueError(f"scheduling_strategy {s!r} is not simulated; use 'DEFAULT', 'SPREAD', "
                     "NodeAffinitySchedulingStrategy(node_id, soft) or PlacementGroupSchedulingStrategy")


def method(*args: Any, **kwargs: Any) -> Any:
    """`@ray.method(num_returns=2)`: options for one actor method."""
    if args and callable(args[0]) and not kwargs:
        return args[0]
    unknown = set(kwargs) - {"num_returns", "concurrency_group", "max_task_retries", "retry_exceptions",
                             "enable_task_events", "_generator_backpressure_num_objects", "tensor_transport"}
    if unknown:
        raise ValueError(f"Unexpected keyword arguments to @ray.method: {sorted(unknown)}")

    def deco(fn: Any) -> Any:
        if "num_returns" in kwargs:
            fn.__ray_num_returns__ = kwargs["num_returns"]
        if "concurrency_group" in kwargs:
            fn.__ray_concurrency_group__ = kwargs["concurrency_group"]
        return fn

    return deco

