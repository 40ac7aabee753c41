"""Fixtures for dsai.parallel: a fresh simulated multi-node cluster per test."""

from __future__ import annotations

from typing import Any, Iterator

import pytest

from dsai import ray
from dsai.parallel import start_cluster

ALPHA, BETA = 1e-4, 1.25e9  # the network every test runs on: 100 us, 10 Gbit/s


@pytest.fixture
def cluster() -> Iterator[Any]:
    """`cluster(nodes)` starts a driver node plus `nodes` worker nodes; stopped after the test."""

    def make(nodes: int) -> None:
        start_cluster(nodes, latency=ALPHA, bandwidth=BETA)

    yield make
    ray.shutdown()
