"""The worker side of a parameter server: an actor that turns weights into a gradient on its own data.

Each `Worker` actor holds one shard of the training set (data parallelism:
the model is replicated, the data is split) and handles to the server
shards. One `step`: pull the weights (one piece per server shard, straight
from the servers), draw a seeded mini-batch from its shard, compute the loss
and the gradient with the model's hand-written backprop, declare the compute
cost (`dsai.sim.compute(flops=6 x weights x batch)`), and push the gradient
cut into the servers' key ranges, each piece straight to the shard that owns
it. The driver never touches weights or gradients, only small step reports.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dsai import sim
from dsai.models import MLP

__all__ = ["Worker"]


class Worker:
    """One data-parallel worker: a model replica and a shard of the training set."""

    def __init__(self, index: int, servers: list[Any], x: np.ndarray, y: np.ndarray, sizes: list[int],
                 bounds: list[tuple[int, int]], batch_size: int, seed: int,
                 flops_rate: float) -> None:
        self.index = index
        self.servers = servers
        self.x, self.y = x, y
        self.model = MLP(sizes, seed=seed)  # its weights are overwritten by every pull
        self.bounds = bounds
        self.batch_size = batch_size
        self.rng = np.random.default_rng([seed, index])  # this worker's own mini-batch stream
        self.flops_rate = flops_rate

    def step(self, clock: int) -> dict[str, Any]:
        """Pull, compute one mini-batch gradient, push; returns the loss and shard 0's apply records."""
        from dsai import ray

        pulled = ray.get([s.pull.remote() for s in self.servers])
        version = pulled[0][0]
        self.model.set_params(np.concatenate([w for _, w in pulled]))
        idx = self.rng.integers(0, len(self.y), size=self.batch_size)
        loss, grad = self.model.loss_and_grad(self.x[idx], self.y[idx])
        sim.compute(flops=self.model.flops_step(self.batch_size), rate=self.flops_rate)
        # ray.put: the piece goes into this node's object store and each server fetches its
        # own (Ray would inline a small argument into the call instead).
        acks = ray.get([s.push.remote(self.index, clock, version, ray.put(grad[a:b]))
                        for s, (a, b) in zip(self.servers, self.bounds)])
        return {"loss": loss, "version": version, "clock": clock, "records": acks[0]}

    def node_id(self) -> str:
        """The node this worker runs on (Ray's node ID)."""
        from dsai import ray

        return ray.get_runtime_context().get_node_id()

    def __repr__(self) -> str:
        return f"Worker({self.index}, {len(self.y)} examples)"
