"""Ray Core's driver API (`ray.init`, `ray.get`, `ray.wait`, ...) on the simulated cluster.

Every function here checks its arguments as Ray 2.60 does and raises Ray's
error types; the differences are documented in the README ("The simulator").
Blocking calls (`get`, `wait`) run the simulation until what they wait for
is ready; inside simulated work they block only the calling worker.
"""

from __future__ import annotations

import inspect
import logging
from asyncio.events import _get_running_loop
from threading import get_ident
from typing import Any, Sequence

from dsai.mockray import options as opts
from dsai.mockray import driver_hooks, driver_threads, exit_drain, kill_delay, runtime_env, session
from dsai.mockray.actor import ActorClass, ActorHandle
from dsai.mockray.exceptions import ActorHandleNotFoundError
from dsai.mockray.generator import ObjectRefGenerator
from dsai.mockray.object_ref import ObjectRef
from dsai.mockray.remote_function import RemoteFunction
from dsai.mockray.runtime import Runtime
from dsai.mockray.object_ref import READY, value_of
from dsai.mockray.object_store import INLINE_THRESHOLD
from dsai.mockray.runtime_context import get_runtime_context
from dsai.sim import clocks
from dsai.sim.aio import SimEventLoop
from dsai.sim.network import NetworkConfig
from dsai.sim.process import current_process

logger = logging.getLogger(__name__)

__all__ = ["init", "shutdown", "is_initialized", "remote", "get", "wait", "put", "kill", "cancel",
           "get_actor", "available_resources", "cluster_resources", "nodes", "timeline",
           "get_gpu_ids", "DEFAULT_NUM_CPUS"]

DEFAULT_NUM_CPUS = 8  # a fixed default, so results do not depend on the machine

_RAY_INIT_KWARGS = {
    "labels", "object_store_memory", "local_mode", "include_dashboard", "dashboard_host",
    "dashboard_port", "job_config", "configure_logging", "logging_level", "logging_format",
    "logging_config", "log_to_driver", "runtime_env", "enable_resource_isolation", "cgroup_path",
    "system_reserved_cpu", "system_reserved_memory", "proxy_server_url", "_system_config",
    "_temp_dir", "_node_ip_address", "_memory", "_enable_object_reconstruction",
    "_redis_password", "_plasma_directory", "_metrics_export_port", "_tracing_startup_hook",
}


exit_drain.register()  # (submitted work still runs when the driver's interpreter exits)


class RayContext(dict):
    """What `ray.init` returns (a dict of addresses, as in Ray)."""

    def __enter__(self) -> "RayContext":
        return self

    def __exit__(self, *exc: Any) -> None:
        shutdown()

    @property
    def address_info(self) -> dict:
        return dict(self)

    def __repr__(self) -> str:
        return f"RayContext(simulated, address={self.get('address')!r}, node_id={self.get('node_id')!r})"


def init(address: str | None = None, *, num_cpus: int | None = None, num_gpus: int | None = None,
         resources: dict[str, float] | None = None, namespace: str | None = None,
         ignore_reinit_error: bool = False, seed: int = 0, network: NetworkConfig | dict | None = None,
         **kwargs: Any) -> RayContext:
    """Start a simulated cluster (one head node), or join a `Cluster` by its address.

    Simulator-only keywords: `seed` (every random choice in the simulation),
    `network` (a `NetworkConfig` or a dict of its fields: latency, bandwidth,
    loss, jitter). Without `num_cpus` the head node has 8 CPUs (real Ray
    counts the machine's; pass num_cpus for the same result on both).
    """
    unknown = [k for k in kwargs if k not in _RAY_INIT_KWARGS]
    if unknown:
        raise RuntimeError(f"Unknown keyword argument(s): {', '.join(unknown)}")
    if session.runtime_or_none() is not None:
        if ignore_reinit_error:
            return _context(session.runtime_or_none())
        raise RuntimeError("Maybe you called ray.init twice by accident? This error can be suppressed "
                           "by passing in 'ignore_reinit_error=True' or by calling 'ray.shutdown()' "
                           "prior to 'ray.init()'.")
    if isinstance(network, dict):
        network = NetworkConfig(**network)
    if address is not None and address != "local":
        cluster = session.lookup(address)
        if num_cpus is not None or num_gpus is not None or resources:
            raise ValueError("When connecting to an existing cluster, num_cpus and num_gpus must not "
                             "be provided.")
        job_env = runtime_env.validate(kwargs.get("runtime_env"))
        rt = cluster.start_runtime(namespace=namespace, seed=seed, network=network)
        rt.job_env_vars = job_env
        return _context(rt, address)
    for name, value in (("num_cpus", num_cpus), ("num_gpus", num_gpus)):
        if value is not None and (not isinstance(value, (int, float)) or value < 0):
            raise ValueError(f"{name} must be a non-negative number, got {value!r}")
    if resources is not None:
        if not isinstance(resources, dict):
            raise TypeError(f"resources must be a dict of resource name to quantity, got {resources!r}")
        if "CPU" in resources or "GPU" in resources:
            raise ValueError("Use the 'num_cpus' and 'num_gpus' keyword instead of 'CPU' and 'GPU' in "
                             "'resources' keyword")
    job_env = runtime_env.validate(kwargs.get("runtime_env"))  # the job's env_vars; other fields raise
    rt = Runtime(seed=seed, namespace=namespace, network=network)
    rt.job_env_vars = job_env
    session.connect(rt)
    rt.add_node(DEFAULT_NUM_CPUS if num_cpus is None else num_cpus, num_gpus or 0, resources)
    return _context(rt)


def _context(rt: Runtime, address: str = "sim://head") -> RayContext:
    head = rt.head
    return RayContext(address=address, node_ip_address=head.ip, node_id=head.node_id,
                      namespace=rt.namespace, simulated=True)


def shutdown(_exiting_interpreter: bool = False) -> None:
    """Stop the simulated cluster (safe to call twice, or before init)."""
    rt = session.runtime_or_none()
    if rt is None:
        return
    driver_threads.close(rt)  # (other threads waiting in get/wait hear of it)
    rt.close()
    session.connect(None)


def is_initialized() -> bool:
    return session.runtime_or_none() is not None


def remote(*args: Any, **kwargs: Any) -> Any:
    """`@ray.remote` / `@ray.remote(num_cpus=2, ...)` on a function or a class."""
    if len(args) == 1 and not kwargs and (inspect.isfunction(args[0]) or inspect.isclass(args[0])
                                          or callable(args[0])):
        return _make_remote(args[0], {})
    if args:
        raise TypeError("The @ray.remote decorator must be applied either with no arguments and no "
                        "parentheses, for example '@ray.remote', or it must be applied using some of "
                        "the arguments in the list ['num_cpus', 'num_gpus', 'resources', "
                        "'num_returns', 'max_retries', 'max_restarts', ...], for example "
                        "'@ray.remote(num_returns=2, resources={\"CustomResource\": 1})'.")

    def deco(fn_or_cls: Any) -> Any:
        return _make_remote(fn_or_cls, kwargs)

    return deco


def _make_remote(fn_or_cls: Any, options: dict[str, Any]) -> Any:
    if inspect.isclass(fn_or_cls):
        opts.validate_actor_options(options, in_options=False)
        return ActorClass(fn_or_cls, options)
    if callable(fn_or_cls):
        opts.validate_task_options(options, in_options=False)
        return RemoteFunction(fn_or_cls, options)
    raise TypeError("The @ray.remote decorator must be applied to either a function or a class.")



_JUST_REFS = frozenset({ObjectRef})


def get(object_refs: ObjectRef | Sequence[ObjectRef], *, timeout: float | None = None) -> Any:
    """The value(s) behind one ref or a list of refs; raises the task's error if it failed."""
    if _get_running_loop() is not None:
        _warn_blocking_in_loop("get")
    if timeout is not None:
        timeout = _get_timeout(timeout)
    if get_ident() != clocks.driver_thread() and current_process() is None:
        return _get_off_driver(object_refs, timeout)
    if type(object_refs) is ObjectRef:  # one ref: the most common call of all, kept short
        return (session._runtime or session.runtime()).get_one(object_refs, timeout)
    is_single = isinstance(object_refs, ObjectRef)
    if is_single:
        refs = [object_refs]
    elif isinstance(object_refs, list):
        refs = object_refs
        if not _only_refs(refs):
            for r in refs:
                if not isinstance(r, ObjectRef):
                    raise TypeError(f"Attempting to call `get` on the value {r!r}, which is not an "
                                    "ray.ObjectRef.")
    elif isinstance(object_refs, ObjectRefGenerator):
        return object_refs  # as Ray 2.60 does (its refs come from iterating it)
    else:
        raise ValueError(f"Invalid type of object refs, {type(object_refs)}, is given. 'object_refs' "
                         "must either be an ObjectRef or a list of ObjectRefs. ")
    values = session.runtime().get_list(refs, timeout)
    return values[0] if is_single else values


def _warn_blocking_in_loop(what: str) -> None:
    """Ray warns once per worker process when an async actor blocks its event loop in get or wait."""
    if not isinstance(_get_running_loop(), SimEventLoop):
        return
    proc = current_process()
    task = proc.context if proc is not None else None
    if task is None or task.actor is None or not task.actor.is_async:
        return  # (asyncio.run inside a task: Ray does not warn there)
    if what in task.actor.warned:
        return
    task.actor.warned.add(what)
    if what == "get":
        logger.warning("Using blocking ray.get inside async actor. This blocks the event loop. Please "
                       "use `await` on object ref with asyncio.gather if you want to yield execution "
                       "to the event loop instead.")
    else:
        logger.warning("Using blocking ray.wait inside async method. This blocks the event loop. "
                       "Please use `await` on object ref with asyncio.wait. ")


def _get_timeout(timeout: Any) -> float | None:
    """`ray.get`'s timeout as Ray reads it: whole milliseconds, `int(timeout * 1000)`, with -1
    meaning none (so True is 1 s, and infinity is an OverflowError)."""
    if not isinstance(timeout, (int, float)):
        raise TypeError(f"timeout must be a number of seconds or None, got {timeout!r}")
    if timeout == -1:
        return None
    ms = int(timeout * 1000)  # (Ray's own conversion: OverflowError for inf, ValueError for nan)
    if ms < 0:
        raise ValueError("'timeout' must be a non-negative number or None.")
    return ms / 1000


def _get_off_driver(object_refs: Any, timeout: float | None) -> Any:
    """`ray.get` from a thread that is not the driver's: what is ready is answered here; anything
    else is a request the driver's thread serves while it waits (driver_threads.py)."""
    rt = session.runtime()
    refs = [object_refs] if isinstance(object_refs, ObjectRef) else object_refs
    if not isinstance(refs, list) or not _only_refs(refs):
        raise TypeError(f"ray.get expects an ObjectRef or a list of ObjectRefs, got {object_refs!r}")
    entries = [rt.entry(r) for r in refs]
    if all(e.done and (e.state is not READY or e.value.nbytes < INLINE_THRESHOLD or 0 in e.locations)
           for e in entries):
        values = [value_of(e) for e in entries]
    else:
        values = driver_threads.post_get(rt, refs, timeout)
    return values[0] if isinstance(object_refs, ObjectRef) else values


def _only_refs(values: list) -> bool:
    """True if every item is an ObjectRef (one C-speed pass in the common case)."""
    try:
        return set(map(type, values)) <= _JUST_REFS
    except TypeError:  # an unhashable type (a metaclass with __eq__): check one by one
        return all(isinstance(v, ObjectRef) for v in values)


def wait(object_refs: list[ObjectRef], *, num_returns: int = 1, timeout: float | None = None,
         fetch_local: bool = True) -> tuple[list[ObjectRef], list[ObjectRef]]:
    """Split refs into (ready, not ready): the first `num_returns` ready ones, in input order."""
    if _get_running_loop() is not None:
        _warn_blocking_in_loop("wait")
    if type(object_refs) is not list:
        if isinstance(object_refs, (ObjectRef, ObjectRefGenerator)):
            raise TypeError("wait() expected a list of ray.ObjectRef or ray.ObjectRefGenerator, got a "
                            f"single ray.ObjectRef or ray.ObjectRefGenerator {object_refs}")
        if not isinstance(object_refs, list):
            raise TypeError("wait() expected a list of ray.ObjectRef or ray.ObjectRefGenerator, "
                            f"got {type(object_refs)}")
    if timeout is not None:
        opts.check_wait_timeout(timeout)
    if len(object_refs) == 0:
        return [], []
    if get_ident() != clocks.driver_thread() and current_process() is None:
        return _wait_off_driver(object_refs, num_returns, timeout, fetch_local)
    return (session._runtime or session.runtime()).wait(object_refs, num_returns, timeout, fetch_local)


def _wait_off_driver(object_refs: list, num_returns: int, timeout: float | None,
                     fetch_local: bool) -> tuple[list[ObjectRef], list[ObjectRef]]:
    """`ray.wait` from a thread that is not the driver's: a request the driver's thread serves."""
    for r in object_refs:
        if not isinstance(r, ObjectRef):
            raise TypeError("wait() expected a list of ray.ObjectRef or ray.ObjectRefGenerator, "
                            f"got list containing {type(r)}")
    return driver_threads.post_wait(session.runtime(), object_refs, num_returns, timeout, fetch_local)


def put(value: Any, *, _owner: Any = None) -> ObjectRef:
    """Store a value in the object store of the caller's node; returns its ref."""
    if isinstance(value, ObjectRef):
        raise TypeError("Calling 'put' on an ray.ObjectRef is not allowed. If you really want to do "
                        "this, you can wrap the ray.ObjectRef in a list and call 'put' on it.")
    rt = session.runtime()
    node_id, _ = rt.caller()
    return rt.put(value, node_id)


def kill(actor: ActorHandle, *, no_restart: bool = True) -> None:
    """Kill an actor (no_restart=True: now); with no_restart=False it may restart (max_restarts),
    and the kill reaches its worker KILL_DELAY later, as through Ray's control plane (kill_delay.py)."""
    if not isinstance(actor, ActorHandle):
        raise ValueError("ray.kill() only supported for actors. For tasks, try ray.cancel(). "
                         f"Got: {type(actor)}.")
    rt = session.runtime()
    state = rt.actors.get(actor._actor_id_hex)
    if state is None:
        raise ActorHandleNotFoundError(f"Failed to kill actor {actor._actor_id_hex}: it belongs to a "
                                       "cluster that was shut down.")
    reason = "The actor is dead because it was killed by `ray.kill`."
    proc = current_process()
    task = proc.context if proc is not None else None
    if task is not None and task.actor is state:
        # An actor killing itself: in Ray the kill reaches its worker after the
        # current call returns; no further call starts meanwhile.
        state.kill_pending = True
        rt.sim.loop.call_soon(state.crash, reason, not no_restart)
        return
    if not no_restart:
        kill_delay.kill_later(rt, state, reason)  # (through the control plane: kill_delay.py)
        return
    state.crash(reason, allow_restart=False)


def cancel(object_ref: ObjectRef, *, force: bool = False, recursive: bool = True) -> None:
    """Cancel the task behind a ref: queued tasks never run; running ones get KeyboardInterrupt
    (force=True kills the worker). `get` on it then raises TaskCancelledError."""
    if isinstance(object_ref, ObjectRefGenerator):
        object_ref = object_ref._generator_ref  # cancels the generator task
    if not isinstance(object_ref, ObjectRef):
        raise TypeError("ray.cancel() only supported for object refs. For actors, try ray.kill(). "
                        f"Got: {type(object_ref)}.")
    rt = session.runtime()
    task = rt.entry(object_ref).creator
    if task is None or task.done:
        return
    if task.kind == "actor_task" and force:
        raise ValueError("force=True is not supported for actor tasks.")
    rt.cancel(task, force, recursive)


def get_actor(name: str, namespace: str | None = None) -> ActorHandle:
    """The handle of a named actor (in the current namespace unless one is given)."""
    if not name:
        raise ValueError("Please supply a non-empty value to get_actor")
    if namespace is not None and not isinstance(namespace, str):
        raise TypeError(f"namespace must be None or a string, got {type(namespace)}")
    rt = session.runtime()
    ns = namespace or rt.namespace
    state = rt.named_actors.get((ns, name))
    if state is None:
        raise ValueError(f"Failed to look up actor with name '{name}'. This could because 1. You are "
                         "trying to look up a named actor you didn't create. 2. The named actor died. "
                         "3. You did not use a namespace matching the namespace of the actor.")
    return state.handle


def _connected() -> Runtime:
    """The runtime, for calls that do not start one (as in Ray: state API calls)."""
    rt = session.runtime_or_none()
    if rt is None:
        from dsai.mockray.exceptions import RaySystemError

        raise RaySystemError("Ray has not been started yet. Trying to use state API before "
                             "ray.init() has been called.")
    return rt


def available_resources() -> dict[str, float]:
    return _connected().sched.available_resources()


def cluster_resources() -> dict[str, float]:
    return _connected().sched.total_resources()


def nodes() -> list[dict[str, Any]]:
    """One dict per node, as `ray.nodes()` gives them."""
    rt = _connected()
    return [{"NodeID": ns.node_id, "Alive": ns.alive, "NodeManagerAddress": ns.ip,
             "NodeName": ns.ip, "Resources": dict(ns.total) if ns.alive else {},
             "alive": ns.alive, "NodeManagerHostname": ns.name, "IsHeadNode": ns.is_head}
            for ns in rt.nodes]


def timeline(filename: str | None = None) -> list[dict] | None:
    """Chrome-trace events of every task run so far (open the file in Perfetto)."""
    rt = session.runtime_or_none()
    if rt is None:
        raise RuntimeError("Ray has not been started yet. Timeline requires Ray to be initialized first.")
    events = rt.timeline()
    if filename is not None:
        import json

        with open(filename, "w") as f:
            json.dump(events, f)
        return None
    return events


def get_gpu_ids() -> list[int]:
    """The GPUs assigned to the calling worker (simulated GPUs are numbered 0..n-1)."""
    proc = current_process()
    task = proc.context if proc is not None else None
    if task is None:
        return []
    n = int(get_runtime_context().get_assigned_resources().get("GPU", 0))  # (also in a placement group)
    return list(range(n))


session.starter = init  # a Ray call before ray.init starts a default cluster, as in Ray
driver_hooks.install()  # the driver's threading waits serve the cluster and its other threads
