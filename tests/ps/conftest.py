"""Every parameter-server test starts and ends with no cluster running."""

import pytest

from dsai import ray


@pytest.fixture(autouse=True)
def _fresh_cluster():
    ray.shutdown()
    yield
    ray.shutdown()


@pytest.fixture
def sim_ray():
    """A one-node simulated cluster with 4 CPUs (every actor on the same node)."""
    ray.init(num_cpus=4, seed=0)
    yield ray
