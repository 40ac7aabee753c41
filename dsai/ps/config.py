"""What a parameter-server run is: consistency mode, cluster shape, optimiser, faults.

Three consistency models for the same server (Li et al., OSDI 2014; Ho et
al., NIPS 2013):

- ``"sync"`` (bulk synchronous parallel, BSP): every round, all workers
  compute on the same weights; the server averages their gradients and takes
  one step. No staleness, but each round waits for the slowest worker.
- ``"ssp"`` (stale synchronous parallel, bound s): a worker may run at most s
  clocks (steps) ahead of the slowest one. The server applies clock c's
  averaged gradient once every live worker has pushed it, so a gradient is at
  most s versions stale. s = 0 is exactly BSP.
- ``"async"``: every gradient is applied the moment it arrives, on its own
  (w -= lr / n * g for n workers, so n of them move the weights as far as one
  BSP step); nobody waits, and gradients are as stale as the traffic makes them.

``shards`` = k splits the flat weight vector into k contiguous key ranges, one
server actor each, so the server's traffic spreads over k links.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from dsai.errors import DsaiError

__all__ = ["PSConfig", "PSConfigError", "MODES"]

MODES = ("sync", "async", "ssp")


class PSConfigError(DsaiError, ValueError):
    """A parameter-server run was configured with a value it cannot honour."""


@dataclass(frozen=True)
class PSConfig:
    """One parameter-server training run (all fields have working defaults for digits)."""

    mode: str = "sync"              # "sync" (BSP), "async" or "ssp" (bounded staleness)
    workers: int = 4                # worker actors, each with its own shard of the training set
    shards: int = 1                 # server actors, each owning a contiguous range of the weights
    staleness: int = 0              # SSP bound s: a worker runs at most s clocks ahead (ssp only)
    steps: int = 150                # gradients per worker (total budget: workers * steps gradients)
    batch_size: int = 32            # examples per gradient, drawn from the worker's own shard
    lr: float = 0.5                 # learning rate
    momentum: float = 0.0           # heavy-ball momentum on the server (0 = plain SGD)
    hidden: tuple[int, ...] = (32,)  # hidden layer sizes of the MLP (() = softmax regression)
    seed: int = 0                   # model init and every worker's mini-batch draws
    eval_every: int = 10            # snapshot the weights every this many server versions
    checkpoint_every: int = 0       # server checkpoint every K versions (0 = never)
    kill_worker: tuple[int, int] | None = None  # (worker, after this many applied gradients)
    kill_server: tuple[int, int] | None = None  # (shard, after this many applied gradients)
    flops_rate: float = 1e9         # FLOP/s a simulated worker computes at (dsai.sim.compute)
    diverge_loss: float = 1e3       # stop (with a warning) when a loss is above this or not finite

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise PSConfigError(f"mode must be one of {MODES}, got {self.mode!r}")
        _positive_int("workers", self.workers, "use at least 1 worker")
        _positive_int("shards", self.shards, "use at least 1 server shard")
        _positive_int("steps", self.steps, "train for at least 1 step")
        _positive_int("batch_size", self.batch_size, "draw at least 1 example per gradient")
        _positive_int("eval_every", self.eval_every, "snapshot at least every 1 version")
        if not isinstance(self.staleness, int) or self.staleness < 0:
            raise PSConfigError(f"staleness bound must be an integer >= 0, got {self.staleness!r}: "
                                "0 is BSP, larger lets fast workers run ahead")
        if self.staleness and self.mode != "ssp":
            raise PSConfigError(f"staleness={self.staleness} only applies to mode='ssp' (got "
                                f"mode={self.mode!r}): set mode='ssp' or staleness=0")
        if not (isinstance(self.lr, (int, float)) and math.isfinite(self.lr) and self.lr > 0):
            raise PSConfigError(f"learning rate must be a finite number > 0, got {self.lr!r}")
        if not (isinstance(self.momentum, (int, float)) and 0.0 <= self.momentum < 1.0):
            raise PSConfigError(f"momentum must be in [0, 1), got {self.momentum!r}: 0.9 is usual")
        if not isinstance(self.checkpoint_every, int) or self.checkpoint_every < 0:
            raise PSConfigError(f"checkpoint_every must be an integer >= 0 versions, got "
                                f"{self.checkpoint_every!r} (0 = no checkpoints)")
        if any(not isinstance(h, int) or h < 1 for h in self.hidden):
            raise PSConfigError(f"hidden layer sizes must be positive integers, got {self.hidden!r}")
        if not self.flops_rate > 0:
            raise PSConfigError(f"flops_rate must be > 0 FLOP/s, got {self.flops_rate!r}")
        if self.kill_worker is not None:
            w, n = self.kill_worker
            if not 0 <= w < self.workers:
                raise PSConfigError(f"kill_worker names worker {w}, but workers are 0..{self.workers - 1}")
            if self.workers < 2:
                raise PSConfigError("kill_worker needs at least 2 workers: training goes on with the others")
        if self.kill_server is not None:
            s, n = self.kill_server
            if not 0 <= s < self.shards:
                raise PSConfigError(f"kill_server names shard {s}, but shards are 0..{self.shards - 1}")
            if self.checkpoint_every < 1:
                raise PSConfigError("kill_server needs checkpoint_every >= 1: a restarted server "
                                    "restores from its last checkpoint")
            if self.mode == "ssp":
                raise PSConfigError("kill_server supports mode='sync' and mode='async': an SSP server "
                                    "restarted from a checkpoint would wait for clocks its workers "
                                    "already pushed")

    def sizes(self, num_features: int, num_classes: int) -> list[int]:
        """Layer sizes of the model this run trains."""
        return [num_features, *self.hidden, num_classes]

    def replace(self, **changes: Any) -> "PSConfig":
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)

    def describe(self) -> str:
        bound = f", s={self.staleness}" if self.mode == "ssp" else ""
        return f"{self.mode}{bound}, {self.workers} workers, {self.shards} shard(s)"


def _positive_int(name: str, value: Any, fix: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise PSConfigError(f"{name} must be a positive integer, got {value!r}: {fix}")

