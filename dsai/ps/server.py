"""The server side of a parameter server: an actor that owns a key range of the weights.

Each `ParameterServer` actor holds `params[start:stop]` of the flat weight
vector (one actor owns the whole vector; k actors own k contiguous ranges),
and a version number: how many updates it has applied. Workers `pull` the
weights (with their version) and `push` gradients. How a push is applied
depends on the consistency model:

- ``"async"``: at once, alone: w -= (lr / n) * g with n live workers
  (Downpour-style asynchronous SGD, scaled so that n gradients move the
  weights as far as one synchronous step on their mean).
- ``"sync"`` and ``"ssp"``: gradients are grouped by clock (the worker's step
  number). Clock c is applied when every live worker has pushed it, as the
  mean of its gradients taken in worker order, so the sum is the same
  whatever order they arrived in. Clocks are applied in order.

Every applied gradient is returned as a record (worker, clock, version it
was computed on, version it was applied to, time), in the reply to the call
that applied it, and kept in the server's own log: a reply can be lost (its
worker died while the call ran) though the update stands, so the log is the
authority the driver reconciles with (`get_records`). Every `eval_every`
versions the server keeps a copy of its weights for the learning curve.
Every `checkpoint_every` versions it saves its state to a `CheckpointStore`
actor (the stand-in for durable storage); when Ray restarts a killed server,
its constructor runs again and loads the last checkpoint, so at most the
last `checkpoint_every` updates are lost.
Runs on real Ray as well: only `dsai.sim.compute` (a no-op there) is simulator-specific.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from dsai import sim
from dsai.course import simulated
from dsai.ps.config import PSConfigError

__all__ = ["ParameterServer", "CheckpointStore", "apply_gradients", "sgd_step", "now"]


def now() -> float:
    """Seconds on the run's clock: virtual on the simulator, monotonic on real Ray."""
    return sim.now() if simulated() else time.monotonic()


def sgd_step(w: np.ndarray, velocity: np.ndarray, grad: np.ndarray, lr: float,
             momentum: float) -> None:
    """One SGD step in place: v = momentum * v + g; w -= lr * v (plain SGD when momentum is 0)."""
    if momentum:
        velocity *= momentum
        velocity += grad
        w -= lr * velocity
    else:
        w -= lr * grad


def apply_gradients(w: np.ndarray, velocity: np.ndarray, grads: list[np.ndarray], lr: float,
                    momentum: float) -> None:
    """The server's apply step, in place: average the gradients (in the order given), then one
    SGD step with heavy-ball momentum. A server can be given another rule of this signature."""
    grad = grads[0] if len(grads) == 1 else np.mean(np.stack(grads), axis=0)
    sgd_step(w, velocity, grad, lr, momentum)


class CheckpointStore:
    """Durable storage for server checkpoints: the latest state saved per shard."""

    def __init__(self) -> None:
        self.latest: dict[int, dict[str, Any]] = {}

    def save(self, shard: int, state: dict[str, Any]) -> int:
        self.latest[shard] = state
        return state["version"]

    def load(self, shard: int) -> dict[str, Any] | None:
        return self.latest.get(shard)


class ParameterServer:
    """One server shard: the weights params[start:stop], a version, and the apply rule."""

    def __init__(self, shard: int, start: int, stop: int, init: np.ndarray, *, mode: str,
                 lr: float, momentum: float, workers: list[int], eval_every: int,
                 store: Any = None, checkpoint_every: int = 0, apply: Any = None) -> None:
        self.shard, self.start, self.stop = shard, start, stop
        self.w = np.array(init, dtype=np.float64)  # arguments arrive read-only: own a copy
        self.velocity = np.zeros_like(self.w)
        self.mode, self.lr, self.momentum = mode, lr, momentum
        self.apply = apply if apply is not None else apply_gradients
        self.live = set(workers)
        self.eval_every = eval_every
        self.version = 0
        self.next_clock = 0                           # sync/ssp: the next clock to apply
        self.pending: dict[int, dict[int, tuple[int, np.ndarray]]] = {}  # clock -> worker -> (version, g)
        self.snapshots: dict[int, tuple[float, np.ndarray]] = {}  # version -> (time, weights)
        self.store, self.checkpoint_every = store, checkpoint_every
        self.restored_from: int | None = None
        self.log: list[dict[str, Any]] = []   # every record this incarnation applied, in order
        if store is not None:  # a restart runs __init__ again: resume from the last checkpoint
            from dsai import ray

            state = ray.get(store.load.remote(shard))
            if state is not None:
                self._load(state)
                self.restored_from = self.version

    def pull(self) -> tuple[int, np.ndarray]:
        """(version, weights) as they are now."""
        return self.version, self.w

    def push(self, worker: int, clock: int, version: int, grad: np.ndarray) -> list[dict[str, Any]]:
        """Hand in one gradient; returns the records of the gradients this call applied."""
        if grad.shape != self.w.shape:
            raise PSConfigError(f"server shard {self.shard} owns {self.w.size} parameters "
                                f"[{self.start}:{self.stop}], got a gradient of shape {grad.shape}: "
                                "split the gradient by the same key ranges as the servers")
        if self.mode == "async":
            return self._apply([(worker, clock, version, grad)], lr=self.lr / len(self.live))
        self.pending.setdefault(clock, {})[worker] = (version, grad)
        return self._apply_ready()

    def set_workers(self, workers: list[int]) -> list[dict[str, Any]]:
        """Change who must push each clock (a worker died); applies clocks now complete."""
        self.live = set(workers)
        return self._apply_ready() if self.mode != "async" else []

    def flush(self) -> list[dict[str, Any]]:
        """End of training: apply every pending clock, in order, with the gradients it has."""
        records: list[dict[str, Any]] = []
        for clock in sorted(self.pending):
            records += self._apply_clock(clock)
        return records

    def checkpoint(self) -> dict[str, Any]:
        """A copy of the state a restarted server needs."""
        return {"version": self.version, "w": self.w.copy(), "velocity": self.velocity.copy(),
                "next_clock": self.next_clock}

    def _load(self, state: dict[str, Any]) -> None:
        self.version = state["version"]
        self.w = np.array(state["w"])
        self.velocity = np.array(state["velocity"])
        self.next_clock = state["next_clock"]

    def get_version(self) -> int:
        return self.version

    def version_if_restarted(self) -> int | None:
        """The version, if this is a restarted instance (None from the one a kill has not reached yet)."""
        from dsai import ray

        return self.version if ray.get_runtime_context().was_current_actor_reconstructed else None

    def get_records(self) -> list[dict[str, Any]]:
        """Every record this incarnation applied, in apply order (replies may have been lost)."""
        return self.log

    def get_snapshots(self) -> dict[int, tuple[float, np.ndarray]]:
        """{version: (time, weights)} every `eval_every` versions (since the last restart)."""
        return self.snapshots

    # --- the apply rule ----------------------------------------------------
    def _apply_ready(self) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        if self.pending and self.next_clock not in self.pending and min(self.pending) > self.next_clock:
            # Only after a restart: the clocks since the checkpoint were lost with the old process.
            self.next_clock = min(self.pending)
        while self.next_clock in self.pending and self.live <= set(self.pending[self.next_clock]):
            records += self._apply_clock(self.next_clock)
        return records

    def _apply_clock(self, clock: int) -> list[dict[str, Any]]:
        got = self.pending.pop(clock)
        items = [(w, clock, v, g) for w, (v, g) in sorted(got.items())]  # worker order: a fixed sum
        self.next_clock = max(self.next_clock, clock + 1)
        return self._apply(items)

    def _apply(self, items: list[tuple[int, int, int, np.ndarray]],
               lr: float | None = None) -> list[dict[str, Any]]:
        """Average the gradients, take one SGD step, and record each gradient."""
        # SGD costs ~2 FLOPs per weight (4 with momentum), plus one add per weight per extra gradient.
        sim.compute(flops=self.w.size * ((4 if self.momentum else 2) + len(items) - 1))
        applied_to = self.version
        self.apply(self.w, self.velocity, [g for *_, g in items], self.lr if lr is None else lr,
                   self.momentum)
        self.version += 1
        t = now()
        # (replies carry these dicts as they are: a new key would add bytes to every push's reply)
        records = [{"worker": w, "clock": c, "computed": v, "applied": applied_to, "time": t}
                   for w, c, v, _ in items]
        self.log += records
        if self.version % self.eval_every == 0:
            self.snapshots[self.version] = (t, self.w.copy())
        if self.checkpoint_every and self.version % self.checkpoint_every == 0:
            self.store.save.remote(self.shard, self.checkpoint())  # fire and forget, in order
        if not np.all(np.isfinite(self.w)):
            records[-1]["diverged"] = True
        return records

    def __repr__(self) -> str:
        return (f"ParameterServer(shard {self.shard}, [{self.start}:{self.stop}], {self.mode}, "
                f"version {self.version})")
