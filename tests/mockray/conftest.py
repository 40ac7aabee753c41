import pytest

import dsai.mockray as ray
from dsai.mockray.runtime import runtime


@pytest.fixture
def sim_ray():
    """A fresh one-node simulated cluster with 8 CPUs."""
    ray.shutdown()
    ray.init(num_cpus=8, seed=0)
    yield ray
    ray.shutdown()


@pytest.fixture
def cluster():
    """A simulated cluster factory: cluster(n, cpus) -> runtime, node i has resource f"n{i}"."""

    def make(n: int = 3, cpus: int = 2, seed: int = 0, **init):
        ray.shutdown()
        ray.init(num_cpus=cpus, resources={"n0": 100}, seed=seed, **init)
        rt = runtime()
        for i in range(1, n):
            rt.add_node(cpus, resources={f"n{i}": 100})
        return rt

    yield make
    ray.shutdown()
