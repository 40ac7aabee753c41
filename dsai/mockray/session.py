"""The driver's session: which simulated cluster the Ray API talks to now, and the clusters it can join.

Ray keeps one global worker per driver process, connected to one cluster at
a time; so does the simulator. Every layer that needs "the cluster" reads
it here, so none of them imports the runtime or the API to find it. The API
connects a runtime (`connect`, from `ray.init` or `Cluster.connect`) and
registers itself as the `starter` that `runtime()` calls to start a default
cluster on first use (Ray auto-initializes too): the one call that goes up
the layers, made through a variable set at import rather than an import.
"""

from __future__ import annotations

from typing import Any, Callable

from dsai.sim.simulation import set_current

__all__ = ["runtime", "runtime_or_none", "connect", "clusters", "lookup"]

_runtime: Any = None  # the connected Runtime (runtime.py), or None
starter: Callable[[], Any] | None = None  # api.init, registered when the API is imported
clusters: dict[str, Any] = {}  # address -> cluster_utils.Cluster, in creation order


def runtime() -> Any:
    """The connected runtime, started with defaults if needed (Ray auto-initializes too)."""
    if _runtime is None:
        assert starter is not None, "dsai.mockray.api registers the starter when imported"
        starter()
    return _runtime


def runtime_or_none() -> Any:
    return _runtime


def connect(rt: Any) -> None:
    """Make `rt` (or None: disconnect) the cluster the API and `dsai.sim` talk to."""
    global _runtime
    _runtime = rt
    set_current(rt.sim if rt is not None else None)


def lookup(address: str) -> Any:
    """The cluster `ray.init(address=...)` joins ("auto": the newest one)."""
    if address == "auto":
        if clusters:
            return list(clusters.values())[-1]
        raise ConnectionError("Could not find any running Ray instance. Please specify the one to "
                              "connect to by setting `--address` flag or `RAY_ADDRESS` environment "
                              "variable. (Simulator: start one with dsai.mockray.cluster_utils."
                              "Cluster() and add_node(), or call ray.init() without an address.)")
    cluster = clusters.get(address)
    if cluster is None:
        known = ", ".join(repr(a) for a in clusters) or "none"
        raise ConnectionError(f"No simulated cluster at address {address!r} (clusters running: "
                              f"{known}). Pass a Cluster's .address, or call ray.init() without "
                              "an address for a one-node cluster.")
    return cluster
