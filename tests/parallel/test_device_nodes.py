"""Device actors go where the GPUs are: a cluster like a real one the lesson joins through
RAY_ADDRESS (a head with GPUs, where the driver runs, and a worker node with GPUs).

Before `device_nodes`, every device was pinned to the nodes other than the driver's: 4 devices
on a 2 + 2 GPU cluster asked the one worker node for 4 GPUs, and real Ray waited for ever.
"""

import numpy as np
import pytest

from dsai import ray
from dsai.models.layers import Linear, ReLU
from dsai.parallel.placement import device_nodes, worker_nodes
from dsai.parallel.tensor import run_tensor_parallel
from dsai.parallel.zero import run_zero


@pytest.fixture
def two_gpu_nodes():
    cluster = ray.cluster_utils.Cluster(initialize_head=True, head_node_args={"num_cpus": 2, "num_gpus": 2})
    cluster.add_node(num_cpus=2, num_gpus=2)
    ray.init(address=cluster.address)
    yield
    ray.shutdown()


def test_devices_fill_the_other_nodes_gpus_then_the_drivers(two_gpu_nodes):
    here = ray.get_runtime_context().get_node_id()
    [other] = worker_nodes()
    assert device_nodes(2) == [other, here]
    assert device_nodes(4) == [other, here, other, here]
    assert device_nodes(8, num_gpus=0.5) == [other, here] * 4
    # More devices than GPUs: round-robin over the other nodes, as before (Ray queues them).
    assert device_nodes(5) == [other] * 5


def test_tensor_parallel_and_zero_on_four_devices_of_two_nodes(two_gpu_nodes):
    rng = np.random.default_rng(0)
    block = [Linear(16, 64, rng), ReLU(), Linear(64, 16, rng)]
    x, dz = rng.normal(size=(8, 16)), rng.normal(size=(8, 16))
    z, _ = block[0].forward(x)
    z, _ = block[1].forward(z)
    z, _ = block[2].forward(z)
    run = run_tensor_parallel(block, x, dz, 4)
    assert np.allclose(run.output, z)
    zero = run_zero([16, 32, 10], rng.normal(size=(8, 16)), rng.integers(0, 10, 8), devices=4, stage=3)
    assert zero.devices == 4
