"""Accelerators with finite memory: why a large model must be split across devices at all.

A device has a memory capacity and a compute rate (`DeviceSpec`). What a
model-parallel stage keeps on its device (parameters, gradients, optimizer
state, stored activations) goes through a `DeviceMemory` ledger that counts
the bytes of the arrays actually kept; asking for more than is free raises
`DeviceOutOfMemoryError`, which says which device, how much was asked, how
much is free and what to try. Compute is declared in FLOPs and takes virtual
time at the device's rate (`DeviceSpec.compute`).

`start_devices(n, spec)` starts a cluster whose `n` worker nodes carry one GPU
each (on the simulator, each on its own node, so activations crossing between
devices cross the simulated network and are counted); on real Ray it starts
one node with `n` logical GPUs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from dsai.errors import DeviceOutOfMemoryError, ParallelConfigError

__all__ = ["DeviceSpec", "DeviceMemory", "DeviceCluster", "start_devices", "current_spec", "CATEGORIES",
           "nbytes"]

# What a training step keeps on a device, in the order memory figures stack them.
CATEGORIES = ("parameters", "gradients", "optimizer", "activations")


@dataclass(frozen=True)
class DeviceSpec:
    """One accelerator. Defaults: 16 GiB and 1e13 FLOP/s, round numbers for a V100-class GPU."""

    memory: int = 16 * 2**30  # bytes of device memory
    flops: float = 1e13  # floating-point operations per second

    def __post_init__(self) -> None:
        if not self.memory > 0:
            raise ParallelConfigError(f"device memory must be > 0 bytes, got {self.memory!r}")
        if not self.flops > 0:
            raise ParallelConfigError(f"device compute rate must be > 0 FLOP/s, got {self.flops!r}")

    def compute(self, flops: float) -> float:
        """Take `flops / self.flops` virtual seconds on the calling worker (a no-op on real Ray)."""
        from dsai import sim

        return sim.compute(flops=flops, rate=self.flops)


def nbytes(arrays: Any) -> int:
    """Bytes of an array, or of every array in a (nested) list/tuple/dict of them."""
    if isinstance(arrays, np.ndarray):
        return int(arrays.nbytes)
    if isinstance(arrays, dict):
        return sum(nbytes(a) for a in arrays.values())
    if isinstance(arrays, (list, tuple)):
        return sum(nbytes(a) for a in arrays)
    return 0


class DeviceMemory:
    """The bytes a device holds, by category and key; going over capacity raises.

    `hold(category, key, arrays)` records (or replaces) what is kept under
    `key`; `drop(category, key)` frees it. `peak` is the most ever held at once,
    `peak_count("activations")` the most keys of a category held at once (e.g.
    how many micro-batches' activations were stored together).
    """

    def __init__(self, name: str, capacity: int) -> None:
        self.name = name
        self.capacity = int(capacity)
        self._held: dict[str, dict[Any, int]] = {c: {} for c in CATEGORIES}
        self.used = 0
        self.peak = 0
        self._peak_count = {c: 0 for c in CATEGORIES}
        self._peak_bytes = {c: 0 for c in CATEGORIES}

    @property
    def free(self) -> int:
        return self.capacity - self.used

    def hold(self, category: str, key: Any, arrays: Any) -> int:
        """Keep `arrays` under (`category`, `key`); returns their bytes. Raises if they do not fit."""
        if category not in self._held:
            raise ParallelConfigError(f"unknown memory category {category!r}; use one of {CATEGORIES}")
        size = nbytes(arrays)
        old = self._held[category].get(key, 0)
        if self.used - old + size > self.capacity:
            what = f"{category} of {key}" if isinstance(key, str) else f"{category} {key!r}"
            raise DeviceOutOfMemoryError(self.name, size, self.capacity - self.used + old,
                                         self.capacity, what)
        self._held[category][key] = size
        self.used += size - old
        self.peak = max(self.peak, self.used)
        count = len(self._held[category])
        self._peak_count[category] = max(self._peak_count[category], count)
        self._peak_bytes[category] = max(self._peak_bytes[category], self.bytes(category))
        return size

    def drop(self, category: str, key: Any) -> None:
        self.used -= self._held[category].pop(key)

    def bytes(self, category: str | None = None) -> int:
        if category is None:
            return self.used
        return sum(self._held[category].values())

    def count(self, category: str) -> int:
        return len(self._held[category])

    def peak_count(self, category: str) -> int:
        return self._peak_count[category]

    def peak_bytes(self, category: str) -> int:
        return self._peak_bytes[category]

    def summary(self) -> dict[str, Any]:
        """Plain numbers (picklable, printable): bytes now and at peak, per category."""
        return {"device": self.name, "capacity": self.capacity, "used": self.used, "peak": self.peak,
                "bytes": {c: self.bytes(c) for c in CATEGORIES},
                "peak_bytes": dict(self._peak_bytes), "peak_count": dict(self._peak_count)}

    def __repr__(self) -> str:
        parts = ", ".join(f"{c}={self.bytes(c):,}" for c in CATEGORIES if self._held[c])
        return (f"DeviceMemory({self.name!r}, used={self.used:,} of {self.capacity:,} bytes"
                f"{', ' + parts if parts else ''})")


@dataclass(frozen=True)
class DeviceCluster:
    """A running cluster of `num_devices` accelerators, all built to `spec`."""

    num_devices: int
    spec: DeviceSpec
    simulated: bool

    def __repr__(self) -> str:
        where = "simulated, one node each" if self.simulated else "real Ray, logical GPUs"
        return (f"DeviceCluster({self.num_devices} devices of {self.spec.memory:,} bytes and "
                f"{self.spec.flops:.3g} FLOP/s; {where})")


_started: list[DeviceSpec] = []  # the spec of the cluster start_devices started last

# GPUs in one server talk over NVLink-class links: ~2 us and 50 GB/s, not a datacenter
# network's 100 us (on real Ray, start_devices starts one node). Every message between
# devices costs latency + bytes / bandwidth, so this keeps a pipeline's bubble its schedule's.
DEVICE_NETWORK = {"latency": 2e-6, "bandwidth": 5e10}


def current_spec() -> DeviceSpec:
    """The devices' spec of the cluster `start_devices` started last (DeviceSpec() before any)."""
    return _started[-1] if _started else DeviceSpec()


def start_devices(num_devices: int, spec: DeviceSpec | None = None, *, head_cpus: int = 2,
                  network: dict | None = None, seed: int = 0) -> DeviceCluster:
    """Start Ray with `num_devices` GPUs built to `spec`.

    On the simulator (a fresh cluster each time, so runs do not depend on
    each other) every GPU sits on its own node (1 CPU, 1 GPU) beside a head
    node with `head_cpus` CPUs for the driver; `network` (latency, bandwidth;
    default `DEVICE_NETWORK`, links inside one server)
    and `seed` are the simulator's `ray.init` keywords. On real Ray a running
    cluster with enough GPUs is kept (starting one takes many seconds);
    otherwise one node with `num_devices` logical GPUs is started.
    """
    from dsai import course, ray

    if int(num_devices) != num_devices or num_devices < 1:
        raise ParallelConfigError(f"need at least one device, got num_devices={num_devices!r}")
    spec = spec or DeviceSpec()
    _started[:] = [spec]  # what runs on this cluster use unless told otherwise
    if not course.simulated():
        if course.existing_cluster() is not None:  # join the cluster RAY_ADDRESS names, as it is
            if not ray.is_initialized():
                ray.init(address=course.existing_cluster())
            gpus = ray.cluster_resources().get("GPU", 0)
            if gpus < num_devices:
                raise ParallelConfigError(
                    f"the cluster at RAY_ADDRESS has {gpus:g} GPUs, fewer than the {num_devices} devices "
                    "asked for: start its nodes with more (`ray start --num-gpus=N`; logical GPUs "
                    "will do), or ask for fewer devices")
            return DeviceCluster(int(num_devices), spec, False)
        if not (ray.is_initialized() and ray.cluster_resources().get("GPU", 0) >= num_devices):
            ray.shutdown()
            ray.init(address="local", num_cpus=head_cpus + num_devices, num_gpus=num_devices)
        return DeviceCluster(int(num_devices), spec, False)
    ray.shutdown()
    import importlib

    # Ray's own module path (ray.cluster_utils), through the backend `from dsai import ray` chose.
    cluster = importlib.import_module(ray.__name__ + ".cluster_utils").Cluster()
    cluster.add_node(num_cpus=head_cpus)
    for _ in range(int(num_devices)):
        cluster.add_node(num_cpus=1, num_gpus=1)
    ray.init(address=cluster.address, seed=seed, network=DEVICE_NETWORK if network is None else network)
    return DeviceCluster(int(num_devices), spec, True)
