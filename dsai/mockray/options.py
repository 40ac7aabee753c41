"""Options for tasks and actors, checked exactly as Ray 2.60 checks them.

The tables mirror `ray._common.ray_option_utils`: the same keywords, the same
type and value rules, the same messages, so a typo fails the same way on
the simulator and on a real cluster.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

__all__ = ["validate_task_options", "validate_actor_options", "validate_method_options",
           "TASK_DEFAULTS", "ACTOR_DEFAULTS", "resource_demand", "check_timeout", "check_wait_timeout"]


class Option:
    __slots__ = ("types", "check", "default")

    def __init__(self, types: Any = None, check: Optional[Callable[[Any], Optional[str]]] = None,
                 default: Any = None) -> None:
        self.types, self.check, self.default = types, check, default

    def validate(self, keyword: str, value: Any) -> None:
        if self.types is not None and not isinstance(value, self.types):
            raise TypeError(f"The type of keyword '{keyword}' must be {self.types}, "
                            f"but received type {type(value)}")
        if self.check is not None:
            msg = self.check(value)
            if msg:
                raise ValueError(msg)


def _counting(name: str, infinite: bool = True, default: Any = None) -> Option:
    if infinite:
        return Option((int, type(None)), lambda x: None if (x is None or x >= -1) else
                      f"The keyword '{name}' only accepts None, 0, -1 or a positive integer, "
                      "where -1 represents infinity.", default)
    return Option((int, type(None)), lambda x: None if (x is None or x >= 0) else
                  f"The keyword '{name}' only accepts None, 0 or a positive integer.", default)


def _quantity(name: str, q: float) -> Optional[str]:
    if q < 0:
        return f"The quantity of resource {name} cannot be negative"
    if isinstance(q, float) and q != 0.0 and int(q * 10000) == 0:
        return f"The precision of the fractional quantity of resource {name} cannot go beyond 0.0001"
    return None


def _resource(name: str, default: Any = None) -> Option:
    return Option((float, int, type(None)), lambda x: None if x is None else _quantity(name, x), default)


def _resources(resources: Optional[dict]) -> Optional[str]:
    if resources is None:
        return None
    if "CPU" in resources or "GPU" in resources:
        return ("Use the 'num_cpus' and 'num_gpus' keyword instead of 'CPU' and 'GPU' "
                "in 'resources' keyword")
    for name, q in resources.items():
        msg = _quantity(name, q)
        if msg:
            return msg
    return None


def _is_exception_list(x: Any) -> bool:
    return isinstance(x, bool) or (isinstance(x, (list, tuple)) and all(
        isinstance(t, type) and issubclass(t, Exception) for t in x))


_COMMON = {
    "label_selector": Option((dict, type(None))),
    "fallback_strategy": Option((list, type(None))),
    "accelerator_type": Option((str, type(None))),
    "memory": _resource("memory"),
    "name": Option((str, type(None))),
    "num_cpus": _resource("num_cpus"),
    "num_gpus": _resource("num_gpus"),
    "object_store_memory": Option((int, type(None))),
    "placement_group": Option(),
    "placement_group_bundle_index": Option((int,)),
    "placement_group_capture_child_tasks": Option((bool, type(None))),
    "resources": Option((dict, type(None)), _resources),
    "runtime_env": Option((dict, type(None))),
    "scheduling_strategy": Option(),
    "enable_task_events": Option((bool,)),
    "_labels": Option((dict, type(None))),
}

_TASK_ONLY = {
    "max_calls": _counting("max_calls", False, 0),
    "max_retries": _counting("max_retries", default=3),
    "num_cpus": _resource("num_cpus", 1),
    "num_returns": Option((int, str, type(None)), lambda x: None if (
        x is None or x in ("dynamic", "streaming") or (isinstance(x, int) and x >= 0)) else
        "Default None. When None is passed, The default value is 1 for a task and actor task, and "
        "'streaming' for generator tasks and generator actor tasks. The keyword 'num_returns' only "
        "accepts None, a non-negative integer, 'streaming' (for generators), or 'dynamic'. 'dynamic' "
        "flag will be deprecated in the future, and it is recommended to use 'streaming' instead."),
    "object_store_memory": Option((int, type(None)), lambda x: None if x is None else
                                  "Setting 'object_store_memory' is not implemented for tasks"),
    "retry_exceptions": Option((bool, list, tuple), lambda x: None if _is_exception_list(x) else
                               "retry_exceptions must be either a boolean or a list of exceptions", False),
    "_generator_backpressure_num_objects": Option((int, type(None))),
    "_num_objects_per_yield": Option((int, type(None))),
}

_ACTOR_ONLY = {
    "concurrency_groups": Option((list, dict, type(None))),
    "enable_tensor_transport": Option((bool, type(None))),
    "lifetime": Option((str, type(None)), lambda x: None if x in (None, "detached", "non_detached") else
                       "actor `lifetime` argument must be one of 'detached', 'non_detached' and 'None'."),
    "max_concurrency": _counting("max_concurrency", False),
    "max_restarts": _counting("max_restarts", default=0),
    "max_task_retries": _counting("max_task_retries", default=0),
    "max_pending_calls": _counting("max_pending_calls", default=-1),
    "namespace": Option((str, type(None))),
    "get_if_exists": Option(bool, default=False),
    "allow_out_of_order_execution": Option((bool, type(None))),
    "_actor_generator_backpressure_num_objects": Option((int, type(None))),
}

TASK_OPTIONS = {**_COMMON, **_TASK_ONLY}
ACTOR_OPTIONS = {**_COMMON, **_ACTOR_ONLY}
_METHOD_OPTIONS = ("num_returns", "name", "concurrency_group", "max_task_retries",
                   "retry_exceptions", "enable_task_events", "_generator_backpressure_num_objects",
                   "tensor_transport")

TASK_DEFAULTS = {"num_cpus": 1, "num_gpus": 0, "num_returns": 1, "max_retries": 3,
                 "retry_exceptions": False, "resources": None, "name": None}
ACTOR_DEFAULTS = {"num_cpus": None, "num_gpus": 0, "resources": None, "max_restarts": 0,
                  "max_task_retries": 0, "max_concurrency": None, "name": None, "namespace": None,
                  "lifetime": None, "get_if_exists": False}


def _not_simulated(options: dict) -> None:
    # Accepted by Ray, not by the simulator: say so rather than ignore it.
    if options.get("runtime_env"):
        raise NotImplementedError("runtime_env is not simulated: simulated workers run in this "
                                  "process's environment; drop the option on the simulator")


def validate_task_options(options: dict, in_options: bool) -> None:
    for k, v in options.items():
        if k not in TASK_OPTIONS:
            raise ValueError(f"Invalid option keyword {k} for remote functions. "
                             f"Valid ones are {list(TASK_OPTIONS)}.")
        TASK_OPTIONS[k].validate(k, v)
    if in_options and "max_calls" in options:
        raise ValueError("Setting 'max_calls' is not supported in '.options()'.")
    _not_simulated(options)


def validate_actor_options(options: dict, in_options: bool) -> None:
    for k, v in options.items():
        if k not in ACTOR_OPTIONS:
            raise ValueError(f"Invalid option keyword {k} for actors. "
                             f"Valid ones are {list(ACTOR_OPTIONS)}.")
        ACTOR_OPTIONS[k].validate(k, v)
    if in_options and "concurrency_groups" in options:
        raise ValueError("Setting 'concurrency_groups' is not supported in '.options()'.")
    if options.get("get_if_exists") and not options.get("name"):
        raise ValueError("The actor name must be specified to use `get_if_exists`.")
    _not_simulated(options)


def validate_method_options(options: dict) -> None:
    for k, v in options.items():
        if k not in _METHOD_OPTIONS:
            raise ValueError(f"Invalid option keyword {k} for actor methods. "
                             f"Valid ones are {list(_METHOD_OPTIONS)}.")
    n = options.get("num_returns")
    if isinstance(n, int) and n < 0:
        raise ValueError(f"num_returns must be >= 0, but got {n}.")


def resource_demand(num_cpus: float | None, num_gpus: float | None, resources: dict | None) -> dict[str, float]:
    """The resources a task or actor holds, as one dict (zero amounts dropped)."""
    demand: dict[str, float] = {}
    if num_cpus:
        demand["CPU"] = float(num_cpus)
    if num_gpus:
        demand["GPU"] = float(num_gpus)
    for k, v in (resources or {}).items():
        if v:
            demand[k] = float(v)
    return demand


def check_timeout(timeout: Any) -> None:
    """`ray.get`'s timeout: None or a non-negative number of seconds."""
    if timeout is not None and (not isinstance(timeout, (int, float)) or isinstance(timeout, bool)):
        raise TypeError(f"timeout must be a number of seconds or None, got {timeout!r}")
    if timeout is not None and timeout < 0:
        raise ValueError("'timeout' must be a non-negative number or None.")


def check_wait_timeout(timeout: Any) -> None:
    """`ray.wait`'s timeout (not None): Ray's own message for a negative one first."""
    if timeout < 0:
        raise ValueError(f"The 'timeout' argument must be nonnegative. Received {timeout}")
    check_timeout(timeout)
