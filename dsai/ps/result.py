"""What a parameter-server run leaves behind: every applied gradient, its staleness, the learning curve.

Staleness is the distributed-systems cost of not waiting: a gradient
computed on version v and applied to version u is u - v updates out of date.
BSP keeps it at 0, SSP bounds it by s, asynchronous SGD leaves it to the network.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from dsai.ps.config import PSConfig

__all__ = ["Update", "TrainResult"]


@dataclass(frozen=True)
class Update:
    """One gradient the server applied."""

    worker: int        # who computed it
    clock: int         # the worker's step number
    time: float        # seconds since the run began when it was applied (virtual on the simulator)
    computed: int      # server version of the weights it was computed on
    applied: int       # server version it was applied to
    loss: float        # the worker's mini-batch loss (nan: the worker died before reporting it)

    @property
    def staleness(self) -> int:
        return self.applied - self.computed


@dataclass
class TrainResult:
    """A finished run: its history, final weights, learning curve, and what went wrong."""

    config: PSConfig
    history: list[Update]
    weights: np.ndarray
    test_accuracy: float
    seconds: float                                  # duration on the run's clock
    curve: list[tuple[float, int, float]]           # (seconds, version, test accuracy)
    events: list[str] = field(default_factory=list)  # faults and how training answered them
    lost_updates: int = 0                           # server versions lost to a restart
    stopped: str | None = None                      # why training stopped early, if it did
    simulated: bool = True

    @property
    def staleness(self) -> np.ndarray:
        """Staleness of every applied gradient, in apply order."""
        return np.array([u.staleness for u in self.history], dtype=int)

    @property
    def max_staleness(self) -> int:
        return int(self.staleness.max()) if self.history else 0

    def staleness_histogram(self) -> dict[int, int]:
        """{staleness: number of gradients applied that stale}."""
        values, counts = np.unique(self.staleness, return_counts=True)
        return {int(v): int(c) for v, c in zip(values, counts)}

    def gradients_by_worker(self) -> dict[int, int]:
        """{worker: gradients of it the server applied}."""
        out = {w: 0 for w in range(self.config.workers)}
        for u in self.history:
            out[u.worker] += 1
        return out

    def time_to_accuracy(self, target: float) -> float | None:
        """First time on the learning curve at which test accuracy reached `target` (None: never)."""
        for t, _, acc in self.curve:
            if acc >= target:
                return t
        return None

    def __repr__(self) -> str:
        unit = "virtual s" if self.simulated else "s"
        text = (f"TrainResult({self.config.describe()}: {len(self.history)} gradients applied, "
                f"test accuracy {self.test_accuracy:.1%}, {self.seconds:.4f} {unit}, "
                f"max staleness {self.max_staleness}")
        if self.lost_updates:
            text += f", {self.lost_updates} updates lost to a server restart"
        if self.stopped:
            text += f", stopped: {self.stopped}"
        return text + ")"
