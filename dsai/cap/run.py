"""One seeded run of the store: a random workload under a nemesis, then heal, converge and check.

    result = run(mode="ap-lww", nemesis="partition", seed=3, ops=100)
    result.valid, result.metrics["availability"], result.metrics["lost_writes"]

The run has three phases: the clients issue `ops` operations (think time
between them) while the nemesis injects faults; then the final heal (every
node reconnected and restarted, clocks reset) and anti-entropy until the
replicas agree, which is timed; then the linearizability checker reads the
history the clients wrote. Same arguments, same seed: byte-identical history.

`run_script(script, ...)` does the same for a schedule you write yourself
(which client does what, when to cut the network), as Jepsen tests are
written when a bug needs one precise interleaving to show.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from dsai.cap.client import Client, Workload
from dsai.cap.cluster import Cluster
from dsai.cap.config import CapConfig, CapConfigError
from dsai.cap.cp import ReadRule
from dsai.cap.metrics import compute_metrics
from dsai.check import CheckResult, check

__all__ = ["run", "run_config", "run_script", "RunResult"]


@dataclass
class RunResult:
    """The history, metrics and verdict of one run (and the cluster, for diagrams)."""

    config: CapConfig
    history: str  # JSON Lines, Jepsen's operation model
    metrics: dict[str, Any]
    verdict: CheckResult | None  # None if the run was not checked
    cluster: Cluster = field(repr=False)

    @property
    def valid(self) -> Any:
        """True, False, or 'unknown' (checker timeout); None if not checked."""
        return None if self.verdict is None else self.verdict.valid

    @property
    def ops(self) -> list:
        return self.cluster.ops

    @property
    def spans(self) -> list:
        return self.cluster.nemesis.spans

    def __repr__(self) -> str:
        m = self.metrics
        return (f"<RunResult {self.config.mode} nemesis={self.config.nemesis} seed={self.config.seed}: "
                f"valid={self.valid!r} availability={m['availability']:.2f} stale_reads={m['stale_reads']} "
                f"lost_writes={m['lost_writes']} msgs/op={m['msgs_per_op']:.1f} converged={m['converged']}>")

    def summary(self) -> dict[str, Any]:
        """The JSON summary `dsai cap-run --json` prints."""
        c = self.config
        out = {"mode": c.mode, "nodes": c.nodes, "seed": c.seed, "nemesis": c.nemesis, "workload": c.workload,
               "valid": self.valid,
               "explanation": None if self.verdict is None else self.verdict.explanation}
        if c.mode == "dynamo":
            out.update(n=c.n, r=c.r, w=c.w)
        out.update(self.metrics)
        out["faults"] = [s.to_json() for s in self.spans]
        return out

    def write_history(self, path: str) -> None:
        with open(path, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(self.history)


def _client_loop(cluster: Cluster, client: Client, workload: Workload, budget: list[int]) -> None:
    sim, cfg = cluster.sim, cluster.cfg
    rng = workload.rng
    sim.sleep(rng.random() * cfg.think)  # clients do not all start in the same instant
    while budget[0] > 0:
        budget[0] -= 1
        f, key, value = workload.next(cfg.key_names)
        client.invoke(f, key, value)
        sim.sleep(rng.expovariate(1.0 / cfg.think) if cfg.think > 0 else 0.0)


def run_config(cfg: CapConfig, check_history: bool = True, read_rule: ReadRule | None = None) -> RunResult:
    """Run the workload `cfg` describes; see the module docstring."""
    cluster = Cluster(cfg, read_rule=read_rule)
    budget = [cfg.ops]
    for client in cluster.clients:
        wl = Workload(cfg.workload, cluster.sim.stream(f"client-{client.id}"))
        cluster.spawn(_client_loop, cluster, client, wl, budget, name=f"client-{client.id}")
    cluster.nemesis.start()
    cluster.run_until_idle(limit=cfg.ops * (cfg.timeout + 10 * cfg.think) + 10.0)
    return _finish(cluster, check_history)


def _finish(cluster: Cluster, check_history: bool) -> RunResult:
    """The last two phases: heal and converge, then check the history."""
    cfg = cluster.cfg
    t_end = cluster.sim.now()
    cluster.heal_all()
    converge_time = cluster.wait_converged()
    cluster.history.close()
    verdict = check(cluster.history.history(), cfg.workload, timeout=cfg.check_timeout) if check_history else None
    return RunResult(cfg, cluster.history_text(), compute_metrics(cluster, t_end, converge_time), verdict, cluster)


def run(mode: str = "cp", nodes: int = 5, seed: int = 0, nemesis: str = "none", ops: int = 100,
        check_history: bool = True, read_rule: ReadRule | None = None, **settings: Any) -> RunResult:
    """One seeded run; `settings` are further `CapConfig` fields (keys, clients, r, w, skew, ...).

    `read_rule` (mode 'cp' only) replaces how a replica answers a read; see `dsai.cap.cp.majority_read`.
    """
    return run_config(CapConfig(mode=mode, nodes=nodes, seed=seed, nemesis=nemesis, ops=ops, **settings),
                      check_history, read_rule)


def run_script(script: Callable[[Cluster], Any], mode: str = "cp", nodes: int = 5, seed: int = 0,
               check_history: bool = True, read_rule: ReadRule | None = None, limit: float = 60.0,
               **settings: Any) -> RunResult:
    """Run `script(cluster)` as one simulated process, then heal, converge and check, as `run` does.

    The script drives clients (`cluster.client(i).write("k0", 1)` blocks in
    virtual time until the answer or the timeout), cuts the network
    (`cluster.partition([0], [1, 2])`, `cluster.heal()`), waits
    (`cluster.sim.sleep(0.1)`) and may start more processes (`cluster.spawn`).
    """
    if not callable(script):
        raise CapConfigError(f"script must be a function of the cluster, e.g. def script(cluster): ..., "
                             f"got {script!r}")
    cluster = Cluster(CapConfig(mode=mode, nodes=nodes, seed=seed, **settings), read_rule=read_rule)
    cluster.spawn(script, cluster, name=getattr(script, "__name__", "script"))
    cluster.run_until_idle(limit=limit)
    return _finish(cluster, check_history)
