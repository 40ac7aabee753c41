"""ZeRO, run: data-parallel workers that each keep only their shard of the model state, measured.

One Adam step of `dsai.models.MLP` on N data-parallel workers (one per
device), at ZeRO stage 0 (plain data parallelism) to 3. Worker i owns shard
i of the flat parameter vector (`split_bounds`). What each worker keeps
between steps goes through its `DeviceMemory` ledger, in the bytes per
element it really uses (float64 here: 8 for parameters and gradients, 16
for Adam's two moments), so the measured bytes per device stand beside
`dsai.parallel.memory.zero_bytes` with that precision.

Communication is `dsai.parallel.collectives`' ring over ranks on the
workers' nodes: stage 0 all-reduces the gradient; stages 1 and 2
reduce-scatter it (each worker gets the sum of its shard), update their
shard and all-gather the parameters, the same bytes as an all-reduce;
stage 3 keeps only a parameter shard, so it all-gathers the parameters
before the forward pass and again before the backward pass: 1.5 times the
bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dsai import ray
from dsai.errors import ParallelConfigError
from dsai.models import MLP
from dsai.models.layers import softmax_cross_entropy
from dsai.parallel.collectives import AllReduceRun, all_gather, allreduce, reduce_scatter
from dsai.parallel.device import DeviceMemory, DeviceSpec, current_spec
from dsai.parallel.group import CollectiveGroup, split_bounds
from dsai.parallel.memory import ZERO_STAGES, Precision
from dsai.parallel.placement import device_nodes, pin

__all__ = ["ZeroWorker", "ZeroRun", "run_zero", "adam_step"]

LR, BETA1, BETA2, EPS = 1e-3, 0.9, 0.999, 1e-8


def adam_step(params: np.ndarray, grad: np.ndarray, m: np.ndarray, v: np.ndarray, t: int = 1) -> None:
    """Adam (Kingma & Ba), in place: the update every worker applies to the parameters it owns."""
    m *= BETA1
    m += (1 - BETA1) * grad
    v *= BETA2
    v += (1 - BETA2) * grad * grad
    params -= LR * (m / (1 - BETA1 ** t)) / (np.sqrt(v / (1 - BETA2 ** t)) + EPS)


class ZeroWorker:
    """One data-parallel worker: its data, and the model state ZeRO `stage` lets it keep."""

    def __init__(self, rank: int, devices: int, stage: int, sizes: list[int], seed: int,
                 spec: DeviceSpec) -> None:
        self.rank, self.stage = rank, stage
        self.model = MLP(sizes, seed=seed)
        self.lo, self.hi = split_bounds(self.model.num_params, devices)[rank]
        self.memory = DeviceMemory(f"GPU {rank}", spec.memory)
        full = self.model.params
        own = slice(self.lo, self.hi)
        # What stays on the device between steps (ZeRO's accounting).
        self.params = full.copy() if stage < 3 else full[own].copy()
        self.grad = np.zeros(full.size if stage < 2 else self.hi - self.lo)
        n_opt = full.size if stage < 1 else self.hi - self.lo
        self.m, self.v = np.zeros(n_opt), np.zeros(n_opt)
        self.memory.hold("parameters", "model", self.params)
        self.memory.hold("gradients", "model", self.grad)
        self.memory.hold("optimizer", "adam", [self.m, self.v])

    def load_data(self, x: np.ndarray, y: np.ndarray, share: float) -> None:
        self.x, self.y, self.share = x, y, share  # share: this worker's fraction of the batch

    def full_params(self) -> np.ndarray:
        """The whole vector, with zeros outside this worker's shard at stage 3 (for an all-gather)."""
        if self.stage < 3:
            return self.params
        out = np.zeros(self.model.num_params)
        out[self.lo:self.hi] = self.params
        return out

    def forward(self, gathered: np.ndarray | None) -> float:
        """Forward with the full parameters (stage 3: gathered for this pass, then let go)."""
        self.model.set_params(self.params if gathered is None else gathered)
        logits, self.caches = self.model.forward(self.x)
        loss, self.dlogits = softmax_cross_entropy(logits, self.y)
        return loss * self.share

    def backward(self, gathered: np.ndarray | None) -> np.ndarray:
        """This worker's share of the batch-mean gradient, the whole vector (to reduce)."""
        self.model.set_params(self.params if gathered is None else gathered)
        grad = self.model.backward(self.dlogits, self.caches) * self.share
        self.caches = self.dlogits = None
        return grad

    def step_full(self, grad_sum: np.ndarray) -> np.ndarray:
        """Stage 0: Adam on the whole vector from the all-reduced gradient."""
        self.grad[...] = grad_sum
        adam_step(self.params, self.grad, self.m, self.v)
        return self.params

    def step_shard(self, grad_shard: np.ndarray) -> np.ndarray:
        """Stages 1-3: Adam on this worker's shard only; returns the vector to all-gather."""
        own = slice(self.lo, self.hi)
        if self.stage == 1:
            self.grad[own] = grad_shard
            g = self.grad[own]
        else:
            self.grad[...] = grad_shard
            g = self.grad
        p = self.params[own] if self.stage < 3 else self.params
        adam_step(p, g, self.m, self.v)
        return self.full_params()

    def set_params(self, full: np.ndarray) -> None:
        self.params[...] = full

    def result(self) -> tuple[np.ndarray, dict[str, Any]]:
        return self.full_params(), self.memory.summary()



@dataclass
class ZeroRun:
    """One measured Adam step at ZeRO `stage` on `devices` workers."""

    stage: int
    devices: int
    parameters: int
    precision: Precision  # the bytes per element the run used
    loss: float
    params: np.ndarray = field(repr=False)  # the updated vector, gathered from the shards
    memory: list[dict[str, Any]] = field(repr=False)  # per device, DeviceMemory.summary()
    collectives: list[AllReduceRun] = field(repr=False)

    @property
    def bytes_per_device(self) -> dict[str, int]:
        """Model state the busiest device keeps between steps, by kind (measured)."""
        busiest = max(self.memory, key=lambda m: m["used"])
        return {k: busiest["bytes"][k] for k in ("parameters", "gradients", "optimizer")}

    @property
    def comm_bytes_per_device(self) -> int:
        """Payload the busiest device sent in the step's collectives."""
        return sum(r.payload_sent_max for r in self.collectives)

    def __repr__(self) -> str:
        return (f"ZeroRun(stage {self.stage}, {self.devices} devices, {self.parameters:,} parameters: "
                f"{sum(self.bytes_per_device.values()):,} bytes per device, "
                f"{self.comm_bytes_per_device:,} bytes sent per device)")


def run_zero(sizes: list[int], x: np.ndarray, y: np.ndarray, *, devices: int, stage: int,
             seed: int = 0, spec: DeviceSpec | None = None, num_gpus: float = 1) -> ZeroRun:
    """One Adam step of `MLP(sizes, seed)` on batch (x, y) split over `devices` workers at ZeRO `stage`."""

    if stage not in ZERO_STAGES:
        raise ParallelConfigError(f"ZeRO stage must be 0 (plain data parallelism), 1, 2 or 3, got {stage!r}")
    if isinstance(devices, bool) or not isinstance(devices, int) or devices < 1:
        raise ParallelConfigError(f"devices must be a whole number >= 1, got {devices!r}")
    if len(x) % devices:
        raise ParallelConfigError(f"a batch of {len(x)} does not split evenly over {devices} devices: "
                                  f"use a batch that is a multiple of {devices}")
    spec = spec or current_spec()  # the spec start_devices gave the cluster
    nodes = device_nodes(devices, num_gpus)  # one node per device, while the nodes' GPUs last
    # One options call: real Ray's options() result has no .options() of its own.
    workers = [ray.remote(ZeroWorker).options(num_gpus=num_gpus, **pin(n))
               .remote(i, devices, stage, list(sizes), seed, spec) for i, n in enumerate(nodes)]
    group = CollectiveGroup(devices, nodes=nodes)
    try:
        per = len(x) // devices
        ray.get([w.load_data.remote(x[i * per:(i + 1) * per], y[i * per:(i + 1) * per], 1 / devices)
                 for i, w in enumerate(workers)])
        runs: list[AllReduceRun] = []

        def gathered() -> list:
            """Stage 3: every worker's shard to every worker (one all-gather); refs on their nodes."""
            group.load([w.full_params.remote() for w in workers])
            runs.append(all_gather(group))
            return [r.value.remote() for r in group.ranks]

        full = gathered() if stage == 3 else [None] * devices
        losses = [w.forward.remote(g) for w, g in zip(workers, full)]
        full = gathered() if stage == 3 else [None] * devices
        group.load([w.backward.remote(g) for w, g in zip(workers, full)])
        if stage == 0:
            runs.append(allreduce(group, "ring"))
            ray.get([w.step_full.remote(r.value.remote()) for w, r in zip(workers, group.ranks)])
        else:
            rs = reduce_scatter(group)
            runs.append(rs)
            # The reduce-scatter leaves rank i (on worker i's node) the sum of shard i.
            shards = [w.step_shard.remote(rs.refs[i]) for i, w in enumerate(workers)]
            if stage < 3:  # stages 1-2 keep full parameters: gather the updated shards
                group.load(shards)
                runs.append(all_gather(group))
                ray.get([w.set_params.remote(r.value.remote()) for w, r in zip(workers, group.ranks)])
            else:
                ray.get(shards)
        loss = float(sum(ray.get(losses)))
        results = ray.get([w.result.remote() for w in workers])
        params = results[0][0] if stage < 3 else sum(r[0] for r in results)
    finally:  # a failed step (out of memory) must not leave the devices held
        for actor in workers + group.ranks:
            ray.kill(actor)
    itemsize = float(params.dtype.itemsize)  # the same for parameters, gradients, Adam's two moments
    precision = Precision(parameters=itemsize, gradients=itemsize, optimizer=2 * itemsize)
    return ZeroRun(stage, devices, int(params.size), precision, loss, params,
                   [r[1] for r in results], runs)

