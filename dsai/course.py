"""Lesson setup: one call starts the cluster a lesson needs and says which backend runs it.

The same lesson code runs on the simulator (the default) and on real Ray
(``DSAI_BACKEND=ray``). Only what needs the simulator itself (the virtual
clock, the network's byte counters, fault injection) asks `needs_simulator`,
which tells a student on real Ray, in one sentence, why a part is skipped.
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["simulated", "existing_cluster", "start", "needs_simulator", "clock", "wall_clock", "check_setup"]


def simulated() -> bool:
    """True when `from dsai import ray` is the simulator, False on real Ray."""
    return os.environ.get("DSAI_BACKEND", "sim").strip().lower() in ("", "sim")


def existing_cluster() -> str | None:
    """The address of the running Ray cluster the lesson should join, or None to start one.

    Ray's own convention: ``RAY_ADDRESS`` names a cluster (``auto``, ``host:port``,
    ``ray://host:10001``); unset, empty or ``local`` means start a private one here.
    Always None on the simulator, which has no clusters outside this process.
    """
    if simulated():
        return None
    address = os.environ.get("RAY_ADDRESS", "").strip()
    return None if address in ("", "local") else address


def start(num_cpus: int = 4, **init_kwargs: Any) -> Any:
    """Start the lesson's cluster (one node with `num_cpus` CPUs), or join the one
    ``RAY_ADDRESS`` names, and say in one line which it did and what it found.

    Returns what `ray.init` returns. Simulator-only keywords (``seed``,
    ``network``) are dropped on real Ray, which does not accept them. On an
    existing cluster `num_cpus` is what the lesson is written for: a cluster with
    fewer CPUs runs it all the same (tasks queue for a free CPU, so timings grow),
    and the line says so.
    """
    from dsai import ray

    address = existing_cluster()
    if not simulated():
        for key in ("seed", "network"):
            init_kwargs.pop(key, None)
    wanted_gpus = int(init_kwargs.get("num_gpus") or 0)
    if address is not None:
        # Ray refuses num_cpus/num_gpus when it joins a cluster: the cluster's nodes have theirs.
        for key in ("num_gpus", "resources"):
            init_kwargs.pop(key, None)
        if ray.is_initialized():  # a re-run setup cell: join afresh rather than fail
            ray.shutdown()
        context = ray.init(address=address, **init_kwargs)
    else:
        context = _start_local(ray, num_cpus, init_kwargs)
    cpus = int(ray.cluster_resources().get("CPU", 0))
    nodes = len([n for n in ray.nodes() if n.get("Alive", True)])
    if simulated():
        print(f"Simulated cluster: {nodes} node(s), {cpus} CPUs, virtual time from 0.0 s.")
    elif address is None:
        print(f"Real Ray {ray.__version__}: {nodes} node(s), {cpus} CPUs, wall-clock time.")
    else:
        gpus = int(ray.cluster_resources().get("GPU", 0))
        found = f"{nodes} node(s), {cpus} CPUs" + (f", {gpus} GPUs" if gpus or wanted_gpus else "")
        short = "" if cpus >= num_cpus else (
            f"; this lesson is written for {num_cpus} CPUs, so tasks queue for a free CPU "
            "and take longer than the text says")
        if gpus < wanted_gpus:
            short += (f"; it uses {wanted_gpus} GPUs (logical ones will do: start the nodes with "
                      "`ray start --num-gpus=N`), so its model-parallel runs cannot start here")
        print(f"Real Ray {ray.__version__}: joined the cluster at RAY_ADDRESS={address}: "
              f"{found}, wall-clock time{short}.")
    return context


def _local() -> dict[str, Any]:
    # Real Ray's bare ray.init() joins a cluster that `ray start` left running on this machine
    # (and then refuses num_cpus); without RAY_ADDRESS a lesson means a Ray of its own.
    return {} if simulated() else {"address": "local"}


def _start_local(ray: Any, num_cpus: int, init_kwargs: dict[str, Any]) -> Any:
    """`ray.init(num_cpus=...)`, once more if real Ray's start-up deadline passed."""
    try:
        return ray.init(num_cpus=num_cpus, **_local(), **init_kwargs)
    except Exception as e:  # noqa: BLE001
        # On a small, busy machine (Binder, 2 cores) Ray's raylet can miss its fixed 30 s
        # start-up deadline; that is the machine, not the lesson: try once more.
        if simulated() or "timed out during startup" not in str(e):
            raise
        print("Ray's start-up timed out on this busy machine; trying once more...")
        ray.shutdown()
        return ray.init(num_cpus=num_cpus, **_local(), **init_kwargs)


def needs_simulator(what: str) -> bool:
    """True on the simulator; on real Ray, print why `what` is skipped and return False.

    Use it to guard a cell that reads the virtual clock, the network counters
    or injects faults: ``if needs_simulator("this plot reads the virtual clock"): ...``
    """
    if simulated():
        return True
    print(f"Skipped on real Ray: {what}; it needs the simulator (run without DSAI_BACKEND=ray).")
    return False


def clock() -> float:
    """Seconds on the lesson's clock: the virtual clock on the simulator, `time.perf_counter()` on real Ray.

    Time a driver's Ray calls with differences of it: ``t0 = clock(); ray.get(refs); clock() - t0``
    reads the virtual seconds they took on the simulator and the real ones on Ray.
    """
    if simulated():
        from dsai import sim

        return sim.now()
    import time

    return time.perf_counter()


def wall_clock() -> float:
    """Real seconds on any backend, to show what a run cost the machine: on the simulator the
    driver's `time.perf_counter()` also counts the virtual seconds its Ray calls took."""
    from dsai.sim.clocks import real_perf_counter

    return real_perf_counter()


def check_setup(*, run_cluster: bool = True) -> Any:
    """Check Python, the libraries, the backend and a run of tasks; print and return the report."""
    from dsai.setup_check import check_setup as _check

    report = _check(run_cluster=run_cluster)
    print(report)
    return report
