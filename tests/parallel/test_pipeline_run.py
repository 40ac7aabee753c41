"""Pipelining on stage actors, measured in the simulator: bubble, stored activations, bytes, exact gradients."""

import numpy as np
import pytest

from dsai import ray
from dsai.errors import DeviceOutOfMemoryError, ParallelConfigError
from dsai.parallel.device import DeviceSpec, start_devices
from dsai.models import MLP
from dsai.parallel.pipeline import run_pipeline, split_layers
from dsai.parallel.schedule import theory_peak_activations

WIDTH, BATCH = 128, 1024  # micro-batches of 128 x 128 float64 = 128 KiB: real transfers between nodes
SPEC = DeviceSpec(memory=2**30, flops=2.5e8)  # a layer's step takes 17 ms, a 128 KiB hop 0.2 ms
SMALL = DeviceSpec(memory=3 * 2**20, flops=2.5e8)  # 3 MiB: the whole model's state does not fit


@pytest.fixture(scope="module")
def model():
    model = MLP([WIDTH] * 9, seed=1)  # 8 equal linear layers: balanced stages
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(BATCH, WIDTH)), rng.integers(0, WIDTH, size=BATCH)
    return model, x, y, model.loss_and_grad(x, y)


@pytest.fixture(autouse=True)
def _shutdown():
    yield
    ray.shutdown()


@pytest.mark.parametrize("name,p,m,v", [
    ("naive", 4, 1, 1), ("naive", 2, 4, 1), ("gpipe", 4, 8, 1), ("gpipe", 2, 4, 1),
    ("1f1b", 4, 8, 1), ("1f1b", 2, 8, 1), ("interleaved", 4, 8, 2), ("interleaved", 2, 4, 4)])
def test_measured_bubble_peaks_bytes_and_gradient(model, name, p, m, v):
    layers, x, y, (loss, grads) = model
    start_devices(p, SPEC)
    run = run_pipeline(layers, x, y, stages=p, microbatches=m, schedule=name, chunks=v, spec=SPEC)
    assert abs(run.bubble_fraction - run.theory_bubble_fraction) <= 0.02
    assert run.peak_activations == theory_peak_activations(name, p, m, v)
    assert float(np.abs(run.grad - grads).max()) <= 1e-10 and abs(run.loss - loss) <= 1e-10
    # Every micro-batch crosses each of the p*v - 1 cuts twice (activation forward, gradient back).
    crossings = (p * v - 1) * m * 2
    payload = crossings * (BATCH // m) * WIDTH * 8
    assert payload <= run.bytes_between_stages <= payload + 256 * crossings  # + pickle headers
    assert len(run.steps) == 2 * m * v * p


def test_a_model_too_big_for_one_device_fits_on_four_with_1f1b(model):
    layers, x, y, _ = model  # 1.06 MB of parameters, as much of gradients, 1.18 MB of activations a micro-batch
    start_devices(1, SMALL)
    with pytest.raises(DeviceOutOfMemoryError,
                       match="GPU 0 is out of memory: activations of micro-batch 0 at model stage 0"):
        run_pipeline(layers, x, y, stages=1, microbatches=8, spec=SMALL)
    start_devices(4, SMALL)
    with pytest.raises(DeviceOutOfMemoryError, match="GPU 3 is out of memory: activations of micro-batch 6"):
        run_pipeline(layers, x, y, stages=4, microbatches=8, schedule="gpipe", spec=SMALL)  # stores all 8
    run = run_pipeline(layers, x, y, stages=4, microbatches=8, schedule="1f1b", spec=SMALL)  # at most 4
    assert all(m["peak"] <= SMALL.memory for m in run.memory)
    params = sum(m["bytes"]["parameters"] for m in run.memory)
    assert params == layers.params.nbytes


def test_adam_state_counts_two_moments_per_parameter(model):
    layers, x, y, _ = model
    start_devices(4, DeviceSpec(memory=2**30, flops=1e9))
    run = run_pipeline(layers, x, y, stages=4, microbatches=4, optimizer="adam",
                       spec=DeviceSpec(memory=2**30, flops=1e9))
    for m in run.memory:
        assert m["bytes"]["optimizer"] == 2 * m["bytes"]["parameters"] == 2 * m["bytes"]["gradients"]


def test_bad_input_is_named(model):
    layers, x, y, _ = model
    with pytest.raises(ParallelConfigError, match="cannot cut a model of 8 linear layers into 9"):
        split_layers(layers, 9)
    with pytest.raises(ParallelConfigError, match="micro-batches"):
        run_pipeline(layers, x, y, stages=2, microbatches=3)
    with pytest.raises(ParallelConfigError, match="microbatches must be"):
        run_pipeline(layers, x, y, stages=2, microbatches=0)
    with pytest.raises(ParallelConfigError, match="no pipeline split can fit it"):
        run_pipeline(layers, x, y, stages=2, spec=DeviceSpec(memory=100_000))
    with pytest.raises(ParallelConfigError, match="8 linear layers into 16"):
        run_pipeline(layers, x, y, stages=4, microbatches=4, schedule="interleaved", chunks=4)


def test_the_digits_mlp_pipelined_over_three_stages_has_the_unsplit_gradient():
    from dsai.models import load_digits

    digits = load_digits()
    model = MLP([64, 32, 32, 10], seed=0)
    x, y = digits.x_train[:120], digits.y_train[:120]
    loss, grad = model.loss_and_grad(x, y)
    start_devices(3)
    run = run_pipeline(model, x, y, stages=3, microbatches=4, schedule="1f1b")
    assert float(np.abs(run.grad - grad).max()) <= 1e-10 and abs(run.loss - loss) <= 1e-10


def test_a_hand_written_order_runs_and_is_measured(model):
    layers, x, y, (loss, grads) = model
    start_devices(2, SPEC)
    order = [[("F", 0), ("F", 1), ("B", 0), ("B", 1)], [("F", 0), ("B", 0), ("F", 1), ("B", 1)]]
    run = run_pipeline(layers, x, y, stages=2, microbatches=2, schedule="1f1b", order=order, spec=SPEC)
    assert run.peak_activations == [2, 1]
    assert abs(run.bubble_fraction - run.theory_bubble_fraction) <= 0.02
    with pytest.raises(ParallelConfigError, match="deadlocks"):
        run_pipeline(layers, x, y, stages=2, microbatches=2, order=[order[0], order[0][::-1]], spec=SPEC)


def test_runs_use_the_spec_the_cluster_was_started_with(model):
    layers, x, y, _ = model
    start_devices(1, SMALL)  # no spec passed below: the cluster's devices are SMALL
    with pytest.raises(DeviceOutOfMemoryError, match="of 3,145,728 bytes"):
        run_pipeline(layers, x, y, stages=1, microbatches=8)
