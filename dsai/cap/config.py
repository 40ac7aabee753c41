"""The knobs of one CAP experiment: which consistency mode, how many replicas, which faults.

A `CapConfig` is plain data, validated once at construction so a bad value
fails with a message naming the argument and the fix (an unknown mode, a read
quorum larger than the replica count, ...) instead of deep inside a run.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from dsai.errors import DsaiError

__all__ = ["CapConfigError", "CapConfig", "MODES", "WORKLOADS", "NEMESES", "FAULTS"]

# cp: majority quorums + one leader per key (linearizable, refuses on the minority side)
# cp-local-reads: cp, but reads answered from the local copy (the etcd bug; deliberately broken)
# ap-lww: every replica answers, last-writer-wins by wall-clock timestamp
# ap-vv: every replica answers, version vectors keep concurrent writes as siblings
# dynamo: tunable N/R/W quorums over last-writer-wins cells (Dynamo, Cassandra, Riak)
MODES = ("cp", "cp-local-reads", "ap-lww", "ap-vv", "dynamo")
# cas-register: read / write / cas; kv: get / put / append (strings)
WORKLOADS = ("cas-register", "kv")
# the nemesis's faults (nemesis.py says what each one does), and its two other settings
FAULTS = ("partition", "isolate", "bridge", "ring", "loss", "crash", "skew")
NEMESES = ("none",) + FAULTS + ("mix",)


class CapConfigError(DsaiError, ValueError):
    """A CAP run was asked for with an impossible or unknown setting."""


@dataclass
class CapConfig:
    mode: str = "cp"
    nodes: int = 5  # replicas, node ids 0..nodes-1
    clients: int | None = None  # client processes, client c runs beside replica c % nodes (default: nodes)
    keys: int = 3  # registers "k0", "k1", ...
    ops: int = 100  # operations in the whole run (all clients together)
    seed: int = 0
    nemesis: str = "none"  # one of NEMESES (see dsai.cap.nemesis)
    workload: str = "cas-register"
    n: int | None = None  # dynamo: replicas per key (default: nodes)
    r: int | None = None  # dynamo: replies a read waits for (default: majority of n)
    w: int | None = None  # dynamo: acks a write waits for (default: majority of n)
    latency: float = 0.005  # one-way message delay, seconds (5 ms: slanted arrows in the diagram)
    jitter: float = 0.002  # extra uniform [0, jitter) delay, so messages reorder
    timeout: float = 0.2  # a client gives up on an operation after this many seconds
    think: float = 0.03  # mean pause between one client's operations, seconds
    gossip_interval: float = 0.1  # anti-entropy: each replica syncs with one random peer this often
    fault_duration: float = 0.4  # nemesis: how long each fault lasts, seconds
    healthy_duration: float = 0.3  # nemesis: healthy time between faults, seconds
    skew: float = 0.2  # nemesis 'skew': clock offsets drawn from [-skew, +skew] seconds
    loss: float = 0.2  # nemesis 'loss': message loss probability while it lasts
    check_timeout: float | None = 20.0  # wall-clock seconds for the linearizability checker

    def __post_init__(self) -> None:
        bad = CapConfigError
        if self.mode not in MODES:
            raise bad(f"unknown mode {self.mode!r}; choose one of {', '.join(MODES)}")
        if self.workload not in WORKLOADS:
            raise bad(f"unknown workload {self.workload!r}; choose one of {', '.join(WORKLOADS)}")
        if self.nemesis not in NEMESES:
            raise bad(f"unknown nemesis {self.nemesis!r}; choose one of {', '.join(NEMESES)}")
        for name in ("nodes", "keys", "ops"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise bad(f"{name} must be a positive integer, got {v!r}")
        if self.clients is None:
            self.clients = self.nodes
        if isinstance(self.clients, bool) or not isinstance(self.clients, int) or self.clients < 1:
            raise bad(f"clients must be a positive integer, got {self.clients!r}")
        for name in ("latency", "jitter", "think", "skew"):
            if getattr(self, name) < 0:
                raise bad(f"{name} must be >= 0 seconds, got {getattr(self, name)!r}")
        for name in ("timeout", "gossip_interval", "fault_duration", "healthy_duration"):
            if not getattr(self, name) > 0:
                raise bad(f"{name} must be > 0 seconds, got {getattr(self, name)!r}")
        if self.check_timeout is not None and not self.check_timeout > 0:
            raise bad(f"check_timeout must be > 0 seconds (or None for no limit), got {self.check_timeout!r}")
        if not 0.0 <= self.loss <= 1.0:
            raise bad(f"loss must be a probability in [0, 1], got {self.loss!r}")
        self._check_quorums()

    def _check_quorums(self) -> None:
        bad = CapConfigError
        if self.mode != "dynamo":
            for name in ("n", "r", "w"):
                if getattr(self, name) is not None:
                    raise bad(f"{name}={getattr(self, name)} only applies to mode 'dynamo' "
                              f"(mode {self.mode!r} fixes its own quorums); drop it or use --mode dynamo")
            return
        if self.n is None:
            self.n = self.nodes
        if isinstance(self.n, bool) or not isinstance(self.n, int) or not 1 <= self.n <= self.nodes:
            raise bad(f"n={self.n!r} replicas per key must be between 1 and nodes={self.nodes}")
        majority = self.n // 2 + 1
        for name in ("r", "w"):
            v = getattr(self, name)
            if v is None:
                setattr(self, name, majority)
                continue
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise bad(f"{name} must be a positive integer, got {v!r}")
            if v > self.n:
                raise bad(f"quorum {name}={v} is larger than n={self.n} replicas per key; "
                          f"choose 1 <= {name} <= {self.n}")

    @property
    def majority(self) -> int:
        return self.nodes // 2 + 1

    @property
    def key_names(self) -> list[str]:
        return [f"k{i}" for i in range(self.keys)]

    def to_json(self) -> dict:
        return asdict(self)
