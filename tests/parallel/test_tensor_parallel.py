"""Megatron's column-then-row split of an MLP block: same numbers as the unsplit block, two all-reduces of known size."""

import numpy as np
import pytest

from dsai import ray
from dsai.errors import ParallelConfigError
from dsai.models.layers import Linear, ReLU
from dsai.parallel.device import start_devices
from dsai.parallel.tensor import run_tensor_parallel, split_columns, theory_allreduce_bytes

H, F, B = 1024, 4096, 64  # ring pieces of B*H*8/t >= 128 KiB: real transfers, counted on the wire


@pytest.fixture(scope="module")
def block():
    rng = np.random.default_rng(0)
    layers = [Linear(H, F, rng), ReLU(), Linear(F, H, rng)]
    layers[0].b[:] = rng.normal(size=F)
    layers[2].b[:] = rng.normal(size=H)
    x, dz = rng.normal(size=(B, H)), rng.normal(size=(B, H))
    caches, y = [], x
    for layer in layers:
        y, c = layer.forward(y)
        caches.append(c)
    g, grads = dz, []
    for layer, c in zip(layers[::-1], caches[::-1]):
        g, gs = layer.backward(g, c)
        grads = gs + grads
    return layers, x, dz, y, g, grads


@pytest.fixture(autouse=True)
def _shutdown():
    yield
    ray.shutdown()


@pytest.mark.parametrize("t", [1, 2, 4])
def test_split_block_equals_unsplit_and_its_allreduces_move_theory_bytes(block, t):
    layers, x, dz, y, dx, grads = block
    start_devices(t)
    run = run_tensor_parallel(layers, x, dz, t)
    assert np.abs(run.output - y).max() <= 1e-10
    assert np.abs(run.input_grad - dx).max() <= 1e-10
    assert max(float(np.abs(a - b).max()) for a, b in zip(run.grads, grads)) <= 1e-10
    assert len(run.allreduces) == 2  # one forward, one backward
    theory = theory_allreduce_bytes(t, B, H)
    assert run.allreduce_bytes_per_device == [theory, theory]
    transfers = 2 * (t - 1)  # a ring rank sends 2(t-1) pieces
    for wire in run.wire_bytes_per_device:
        assert theory <= wire <= theory + 256 * transfers  # + one pickle header per piece
    params = [m["bytes"]["parameters"] for m in run.memory]
    assert sum(params) == sum(p.nbytes for layer in layers for p in layer.params)
    if t > 1:  # 1/t each; device 0 also keeps b, added once to the sum
        assert max(params) - min(params) == layers[2].b.nbytes


def test_bad_degrees_and_blocks_are_named(block):
    layers = block[0]
    with pytest.raises(ParallelConfigError, match="degree of 3 does not divide the hidden width 4096"):
        split_columns(layers[0].W, 3)
    with pytest.raises(ParallelConfigError, match=">= 1"):
        split_columns(layers[0].W, 0)
    with pytest.raises(ParallelConfigError, match="Linear\\(h, f\\), ReLU, Linear\\(f, h\\)"):
        run_tensor_parallel(layers[:2], block[1], block[2], 2)
