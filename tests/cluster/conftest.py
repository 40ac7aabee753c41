"""The multi-node suite: a real Ray cluster of several raylets on this machine (`make test-cluster`).

One cluster for the whole session (starting a node takes 10-30 s on a busy
2-core machine): a head and one more node, 2 CPUs and 2 logical GPUs each,
joined with `ray start` as instructor/README.md tells an instructor to. Tests
that need more nodes add their own and kill them. Whatever happens, the
session's end stops every node it started, and then checks that no process
of theirs is left. Without `DSAI_BACKEND=ray` (as in `make test`) every test
here is skipped: there is no cluster to start on the simulator.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from local_cluster import RAY_ENV, LocalRayCluster  # noqa: E402

ON_RAY = os.environ.get("DSAI_BACKEND", "").strip().lower() == "ray"
if ON_RAY:
    os.environ.update(RAY_ENV)  # the driver, too, talks to a cluster without tokens
    os.environ.setdefault("RAY_IGNORE_UNHANDLED_ERRORS", "1")

NODE_CPUS, NODE_GPUS = 2, 2


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not ON_RAY:
        skip = pytest.mark.skip(reason="the multi-node suite runs on real Ray: make test-cluster")
        for item in items:
            if "tests/cluster" in str(item.fspath):
                item.add_marker(skip)


def _no_process_left(cluster: LocalRayCluster) -> list[int]:
    left = []
    for node in cluster.nodes:
        try:
            os.killpg(node.pgid, 0)
            left.append(node.pgid)
        except ProcessLookupError:
            pass
        except PermissionError:  # pragma: no cover - a recycled group id of someone else's
            pass
    return left


@pytest.fixture(scope="session")
def cluster() -> Iterator[LocalRayCluster]:
    """A head and one more node (2 CPUs, 2 GPUs each), this process's driver connected."""
    from dsai import ray

    c = LocalRayCluster()
    try:
        c.start_head(NODE_CPUS, NODE_GPUS)
        c.add_node(NODE_CPUS, NODE_GPUS)
        ray.init(address=c.address, log_to_driver=False)
        yield c
    finally:
        ray.shutdown()
        c.stop()
        left = _no_process_left(c)
        assert not left, f"process groups of stopped Ray nodes still hold processes: {left}"


@pytest.fixture
def ray_on_cluster(cluster: LocalRayCluster) -> Any:
    """The real `ray` module, connected to the session's cluster."""
    from dsai import ray

    if not ray.is_initialized():  # a test that joined through course.start and left
        ray.init(address=cluster.address, log_to_driver=False)
    return ray
