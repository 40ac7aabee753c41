"""dsai.mockray: Ray Core's API, running in-process on a deterministic simulated cluster.

`import dsai.mockray as ray` (or `from dsai import ray`) and write Ray code:
tasks, actors, object refs, `get`/`wait`/`put`, retries, cancel, kill, named
actors, `ActorPool`, `Queue`, `timeline`. Time is virtual (`dsai.sim.now()`),
the network is simulated, faults are injected with `dsai.sim`. Real Ray 2.60
is the reference for every behaviour; see the README for the few deliberate
differences.
"""

from dsai.mockray import exceptions
from dsai.mockray.actor import ActorClass, ActorHandle, method
from dsai.mockray.api import (available_resources, cancel, cluster_resources, get, get_actor,
                              get_gpu_ids, init, is_initialized, kill, nodes, put, remote, shutdown,
                              timeline, wait)
from dsai.mockray.generator import DynamicObjectRefGenerator, ObjectRefGenerator
from dsai.mockray.object_ref import ObjectRef
from dsai.mockray.remote_function import RemoteFunction
from dsai.mockray.runtime_context import get_runtime_context

__version__ = "2.60.0"  # the Ray version this simulator follows

__all__ = [
    "init", "shutdown", "is_initialized", "remote", "method", "get", "wait", "put", "kill",
    "cancel", "get_actor", "available_resources", "cluster_resources", "nodes", "timeline",
    "get_runtime_context", "get_gpu_ids", "ObjectRef", "ObjectRefGenerator",
    "DynamicObjectRefGenerator", "ActorClass", "ActorHandle",
    "RemoteFunction", "exceptions", "util", "cluster_utils", "actor",
]


def __getattr__(name: str):
    # Submodules that import the API load on first use (ray.util, ray.cluster_utils).
    import importlib

    if name in ("util", "cluster_utils", "actor", "runtime_context"):
        return importlib.import_module(f"dsai.mockray.{name}")
    raise AttributeError(f"module 'dsai.mockray' has no attribute '{name}'")
