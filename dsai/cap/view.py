"""What the parts of a replicated store see of the cluster that runs them: its config, its simulation, its replicas.

A replica, a client, the nemesis and the metrics each hold the `Cluster`
(cluster.py) that built them. The cluster imports their modules, so they
name it through this protocol instead of importing it back: dependencies
point one way (cluster.py on top, its parts below, `dsai.sim` at the bottom).
`Cluster` satisfies it; nothing else needs to.
"""

from __future__ import annotations

from typing import Any, Callable, Protocol

from dsai.cap.config import CapConfig
from dsai.sim import Simulation

__all__ = ["ClusterView"]


class ClusterView(Protocol):
    """The cluster as its replicas, clients, nemesis and metrics use it."""

    cfg: CapConfig
    sim: Simulation
    replicas: list[Any]  # one Replica (replica.py) per node
    ops: list[Any]  # every OpRecord (client.py) invoked so far

    def spawn(self, fn: Callable[..., Any], *args: Any, name: str = "client") -> Any: ...

    def begin(self, client: Any, f: str, key: str, value: Any) -> Any: ...

    def end(self, client: Any, op: Any, outcome: str, reply: Any = None, error: str | None = None) -> None: ...
