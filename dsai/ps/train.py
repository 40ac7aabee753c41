"""The driver of a parameter server: who computes when, who waits for whom.

`train(config)` starts the server shards and the workers as Ray actors on
the running cluster and drives them with futures:

- sync (BSP): a round loop. Every worker computes on the same pulled
  weights; the driver waits for all of them (the barrier), pushes, repeats.
- async and ssp: an event loop on `ray.wait`. When a worker's gradient is
  ready it is pushed to the servers at once and the worker starts its next
  step, unless (ssp) it is already s clocks ahead of the slowest live
  worker, in which case it waits until the slow one catches up.

Workers pull from and push to the servers themselves (they hold the
servers' handles); the driver only starts steps and reads small reports,
so weights travel server -> worker and gradients worker -> server directly. If the cluster has a node per actor (see `dsai.ps.start_cluster`),
each server shard and each worker gets its own node, and the server's link
becomes the bottleneck it is in real life.

Faults use only the Ray API: `kill_worker` (`ray.kill` after n applied
gradients; training goes on without it and its shard is no longer trained
on) and `kill_server` (the shard is killed, Ray restarts the actor, and its
constructor restores the last checkpoint, saved every `checkpoint_every`
versions; steps that failed with it are run again).
"""

from __future__ import annotations

import importlib
import math
import warnings
from typing import Any

import numpy as np

from dsai import ray
from dsai.course import simulated
from dsai.models import MLP, load_digits
from dsai.ps.config import PSConfig, PSConfigError
from dsai.ps.result import TrainResult, Update
from dsai.ps.server import CheckpointStore, ParameterServer, now
from dsai.ps.worker import Worker

__all__ = ["train", "shard_bounds", "DivergenceWarning"]


class DivergenceWarning(RuntimeWarning):
    """Training stopped because the loss or the weights stopped being finite numbers."""


def shard_bounds(num_params: int, shards: int) -> list[tuple[int, int]]:
    """k contiguous, near-equal key ranges [start, stop) covering 0..num_params."""
    if shards > num_params:
        raise PSConfigError(f"cannot split {num_params} parameters over {shards} server shards: "
                            f"use at most {num_params} shards")
    edges = np.linspace(0, num_params, shards + 1).astype(int)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:])]


def train(config: PSConfig | None = None, data: Any = None, *, apply: Any = None,
          **changes: Any) -> TrainResult:
    """Train an MLP on `data` (default: the digits) with a parameter server; see `PSConfig`.

    `apply` replaces the servers' apply step (default `dsai.ps.apply_gradients`; same signature).

    Keyword arguments change fields of `config`: ``train(mode="async", workers=2)``.
    Needs a running cluster (`ray.init`, `dsai.course.start` or `dsai.ps.start_cluster`).
    """
    config = (config or PSConfig()).replace(**changes) if changes else (config or PSConfig())
    data = data if data is not None else load_digits()
    _check_data(config, data)
    return _Run(config, data, apply).run()


def _check_data(config: PSConfig, data: Any) -> None:
    x, y = np.asarray(data.x_train), np.asarray(data.y_train)
    if x.ndim != 2 or y.shape != (x.shape[0],):
        raise PSConfigError(f"training data must be x of shape (examples, features) and y of shape "
                            f"(examples,), got x {x.shape} and y {y.shape}: give one label per row")
    if np.asarray(data.x_test).ndim != 2 or np.asarray(data.x_test).shape[1] != x.shape[1]:
        raise PSConfigError(f"test features {np.asarray(data.x_test).shape} do not match the training "
                            f"features {x.shape}: both need {x.shape[1]} columns")
    if config.workers > len(y):
        raise PSConfigError(f"{config.workers} workers but only {len(y)} training examples: every "
                            f"worker needs its own shard, use at most {len(y)} workers")


def _record_key(record: dict[str, Any]) -> tuple[Any, ...]:
    """What identifies one applied gradient's record (see `_Run._take_missed_records`)."""
    return (record["worker"], record["clock"], record["computed"], record["applied"], record["time"])


class _Run:
    """One training run's driver state."""

    def __init__(self, config: PSConfig, data: Any, apply: Any = None) -> None:
        self.cfg = config
        self.apply = apply
        self.data = data
        x_train = np.asarray(data.x_train, dtype=np.float64)
        y_train = np.asarray(data.y_train)
        classes = int(max(y_train.max(), np.asarray(data.y_test).max())) + 1
        self.model = MLP(config.sizes(x_train.shape[1], classes), seed=config.seed)
        self.bounds = shard_bounds(self.model.num_params, config.shards)
        self.t0 = now()
        self.events: list[str] = []
        self.stopped: str | None = None
        self.lost_updates = 0
        self.losses: dict[tuple[int, int], float] = {}
        self.records: list[dict[str, Any]] = []   # shard 0's apply records
        self.pushes = 0                            # gradients the servers acknowledged
        self.server_killed = False
        self.worker_died = False                   # a push reply may have been lost with it
        self._start_actors(x_train, y_train)

    # --- actors --------------------------------------------------------------
    def _start_actors(self, x: np.ndarray, y: np.ndarray) -> None:
        cfg = self.cfg
        place = self._placement()
        self.store = ray.remote(CheckpointStore).options(num_cpus=0).remote() if cfg.checkpoint_every else None
        server_cls = ray.remote(ParameterServer)
        self.servers = [
            server_cls.options(num_cpus=0, max_restarts=1, **place(i)).remote(
                i, a, b, self.model.params[a:b], mode=cfg.mode, lr=cfg.lr, momentum=cfg.momentum,
                workers=list(range(cfg.workers)), eval_every=cfg.eval_every, store=self.store,
                checkpoint_every=cfg.checkpoint_every, apply=self.apply)
            for i, (a, b) in enumerate(self.bounds)]
        edges = np.linspace(0, len(y), cfg.workers + 1).astype(int)
        self.shard_sizes = [int(b - a) for a, b in zip(edges[:-1], edges[1:])]
        worker_cls = ray.remote(Worker)
        self.workers = [
            worker_cls.options(num_cpus=0, **place(cfg.shards + j)).remote(
                j, self.servers, x[a:b], y[a:b], self.model.sizes, self.bounds, cfg.batch_size,
                cfg.seed, cfg.flops_rate)
            for j, (a, b) in enumerate(zip(edges[:-1], edges[1:]))]
        self.live = list(range(cfg.workers))

    def _placement(self):
        """One node per actor when the cluster has enough (node 0 keeps the driver)."""
        nodes = [n["NodeID"] for n in ray.nodes() if n.get("Alive", True)]
        if len(nodes) < 1 + self.cfg.shards + self.cfg.workers:
            return lambda i: {}
        strategies = importlib.import_module(ray.__name__ + ".util.scheduling_strategies")
        return lambda i: {"scheduling_strategy": strategies.NodeAffinitySchedulingStrategy(
            nodes[1 + i], soft=False)}

    def _broadcast(self, method: str, *args: Any) -> None:
        """Call a method on every server shard and wait; shard 0's records join the history."""
        results = ray.get([getattr(s, method).remote(*args) for s in self.servers])
        self.records += results[0]

    def _report(self, w: int, report: dict[str, Any]) -> bool:
        """Take in one finished step; False if training must stop (divergence)."""
        self.pushes += 1
        self.losses[(w, report["clock"])] = report["loss"]
        self.records += report["records"]
        loss = report["loss"]
        if (not math.isfinite(loss) or loss > self.cfg.diverge_loss
                or any(r.get("diverged") for r in report["records"])):
            self.stopped = (f"the loss became {report['loss']} at worker {w}, step {report['clock']} "
                            f"(lr={self.cfg.lr}, limit {self.cfg.diverge_loss}): training stopped; "
                            "lower the learning rate")
            warnings.warn(self.stopped, DivergenceWarning, stacklevel=4)
            return False
        return True

    # --- faults --------------------------------------------------------------
    def _worker_died(self, w: int, why: str) -> None:
        if w not in self.live:
            return
        self.live.remove(w)
        self.worker_died = True
        self.events.append(f"worker {w} {why} after {self.pushes} gradients "
                           f"(t={now() - self.t0:.4f} s); its shard of {self.shard_sizes[w]} examples "
                           f"was not trained on afterwards; {len(self.live)} workers went on")
        if self.live:
            self._broadcast("set_workers", list(self.live))

    def _maybe_faults(self) -> None:
        kw = self.cfg.kill_worker
        if kw is not None and self.pushes >= kw[1] and kw[0] in self.live:
            ray.kill(self.workers[kw[0]])
            self._worker_died(kw[0], "was killed")
        ks = self.cfg.kill_server
        if ks is not None and self.pushes >= ks[1] and not self.server_killed:
            self.server_killed = True
            self._crash_server(ks[0])

    def _crash_server(self, shard: int) -> None:
        """Kill a server shard; Ray restarts it and its constructor loads the last checkpoint."""
        server = self.servers[shard]
        before = ray.get(server.get_version.remote())
        ray.kill(server, no_restart=False)
        after = self._restarted_version(server)
        self.lost_updates = before - after
        self.events.append(f"server shard {shard} killed at version {before} (t={now() - self.t0:.4f} s), "
                           f"restarted from its checkpoint at version {after}: {before - after} "
                           f"updates lost (checkpoint every {self.cfg.checkpoint_every})")

    @staticmethod
    def _restarted_version(server: Any) -> int:
        """The version the restarted server loaded. The kill travels through Ray's control plane,
        so calls made right after it may still reach the old instance, or fail while it restarts."""
        while True:
            try:
                version = ray.get(server.version_if_restarted.remote())
            except ray.exceptions.ActorUnavailableError:
                continue
            if version is not None:
                return version

    def _get_step(self, w: int, ref: Any) -> dict[str, Any] | None:
        """A step's report; None if the worker died (or the step failed with a killed server)."""
        try:
            return ray.get(ref)
        except ray.exceptions.RayTaskError as e:
            if isinstance(e, ray.exceptions.RayActorError):
                return None                     # a server it talked to died: the step is lost
            raise                               # the step's own error: the user must see it
        except ray.exceptions.RayActorError:
            self._worker_died(w, "died")
            return None

    # --- the two drivers -----------------------------------------------------
    def run(self) -> TrainResult:
        if self.cfg.mode == "sync":
            self._run_sync()
        else:
            self._run_events()
        return self._finish()

    def _run_sync(self) -> None:
        clock = 0
        while clock < self.cfg.steps:
            refs = {w: self.workers[w].step.remote(clock) for w in self.live}
            reports = {w: self._get_step(w, ref) for w, ref in refs.items()}  # the barrier
            if not self.live:
                self.stopped = "every worker died"
                return
            for w in sorted(reports):
                if reports[w] is not None and not self._report(w, reports[w]):
                    return
            clock += 1
            self._maybe_faults()

    def _run_events(self) -> None:
        cfg = self.cfg
        budget = cfg.workers * cfg.steps
        bound = math.inf if cfg.mode == "async" else cfg.staleness
        launched = 0
        next_clock = [0] * cfg.workers
        pushed: dict[int, set[int]] = {}      # clock -> workers whose push of it was acknowledged
        completed = 0                          # clocks every live worker has pushed (ssp)
        inflight: dict[Any, tuple[int, int]] = {}

        def may_start(w: int) -> bool:
            return launched < budget and w in self.live and next_clock[w] <= completed + bound

        def launch(w: int, clock: int) -> None:
            inflight[self.workers[w].step.remote(clock)] = (w, clock)

        for w in range(cfg.workers):
            if may_start(w):
                launch(w, 0)
                next_clock[w] = 1
                launched += 1
        while inflight:
            [ref], _ = ray.wait(list(inflight), num_returns=1)
            w, clock = inflight.pop(ref)
            report = self._get_step(w, ref)
            if report is None and w in self.live:
                launch(w, clock)                # lost with a killed server: run the step again
                continue
            if report is not None and w in self.live:
                if not self._report(w, report):
                    return
                pushed.setdefault(clock, set()).add(w)
            self._maybe_faults()
            while completed in pushed and set(self.live) <= pushed[completed]:
                completed += 1
            busy = {v for v, _ in inflight.values()}
            for v in range(cfg.workers):
                if v not in busy and may_start(v):
                    launch(v, next_clock[v])
                    next_clock[v] += 1
                    launched += 1
        if cfg.mode == "ssp":
            self._broadcast("flush")

    # --- results -------------------------------------------------------------
    def _finish(self) -> TrainResult:
        pulled = ray.get([s.pull.remote() for s in self.servers])
        snapshots = ray.get([s.get_snapshots.remote() for s in self.servers])
        weights = np.concatenate([w for _, w in pulled])
        end = now() - self.t0
        if self.worker_died:  # after `end`: a run without a dead worker sends no extra message
            self._take_missed_records()
        records = sorted(self.records, key=lambda r: (r["time"], r["applied"], r["worker"]))
        history = [Update(r["worker"], r["clock"], r["time"] - self.t0, r["computed"], r["applied"],
                          self.losses.get((r["worker"], r["clock"]), float("nan")))
                   for r in records]
        x_test, y_test = self.data.x_test, self.data.y_test
        curve = [(0.0, 0, self._accuracy(self.model.params, x_test, y_test))]
        for v in sorted(snapshots[0]):
            if all(v in s for s in snapshots):
                w = np.concatenate([s[v][1] for s in snapshots])
                curve.append((snapshots[0][v][0] - self.t0, v, self._accuracy(w, x_test, y_test)))
        accuracy = self._accuracy(weights, x_test, y_test)
        final_version = pulled[0][0]
        if curve[-1][1] != final_version:
            curve.append((end, final_version, accuracy))
        for actor in self.servers + self.workers + ([self.store] if self.store else []):
            ray.kill(actor)
        return TrainResult(self.cfg, history, weights, accuracy, end, curve, self.events,
                           self.lost_updates, self.stopped, simulated())

    def _take_missed_records(self) -> None:
        """Add the updates shard 0 applied whose records never reached the driver.

        A round is applied by the push that completes it, and that push's reply carries the
        round's records; if its worker died meanwhile, the reply is lost but the update stands.
        The server's log has every record of its current incarnation. A record is known by what
        it says: a server applies a worker's clock once, and a restarted one does so later in
        time, so (worker, clock, computed, applied, time) names one update. (Records of a killed
        server's earlier incarnation come only from replies: its updates since the last
        checkpoint were lost with it anyway, see `lost_updates`.)"""
        seen = {_record_key(r) for r in self.records}
        log = ray.get(self.servers[0].get_records.remote())
        self.records += [r for r in log if _record_key(r) not in seen]

    def _accuracy(self, w: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
        if not np.all(np.isfinite(w)):
            return 0.0
        self.model.set_params(w)
        return self.model.accuracy(x, y)
