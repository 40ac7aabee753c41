"""ZeRO: the paper's memory figures by formula, and the same formulas against a measured run's sharded state."""

import numpy as np
import pytest

from dsai import ray
from dsai.errors import ParallelConfigError
from dsai.models import MLP, load_digits
from dsai.parallel.device import start_devices
from dsai.parallel.memory import MIXED_ADAM, zero_bytes, zero_comm_bytes, zero_total
from dsai.parallel.zero import adam_step, run_zero

SIZES = [64, 256, 256, 10]  # 85,002 parameters: ring pieces over 100 KiB at 4 devices


def test_zero_paper_figure_1():
    # 7.5B parameters, 64 devices, mixed-precision Adam (K = 12): 120, 31.4, 16.6, 1.9 GB.
    gb = [round(zero_total(7.5e9, 64, s) / 1e9, 1) for s in range(4)]
    assert gb == [120.0, 31.4, 16.6, 1.9]
    assert zero_bytes(7.5e9, 64, 2) == {"parameters": 15e9, "gradients": 2 * 7.5e9 / 64,
                                        "optimizer": 12 * 7.5e9 / 64}
    assert MIXED_ADAM.total == 16
    assert zero_comm_bytes(1000, 4, 3) == pytest.approx(1.5 * zero_comm_bytes(1000, 4, 1))
    with pytest.raises(ParallelConfigError, match="ZeRO stage must be"):
        zero_total(10, 2, 4)
    with pytest.raises(ParallelConfigError, match="devices must be"):
        zero_total(10, 0, 1)


@pytest.fixture(scope="module")
def reference():
    digits = load_digits()
    x, y = digits.x_train[:256], digits.y_train[:256]
    model = MLP(SIZES, seed=0)
    loss, grad = model.loss_and_grad(x, y)
    params = model.params.copy()
    adam_step(params, grad, np.zeros_like(params), np.zeros_like(params))
    return x, y, loss, params


@pytest.fixture(autouse=True)
def _shutdown():
    yield
    ray.shutdown()


@pytest.mark.parametrize("stage", [0, 1, 2, 3])
def test_measured_sharded_state_and_traffic_match_the_formulas(reference, stage):
    x, y, loss, params = reference
    start_devices(4)
    run = run_zero(SIZES, x, y, devices=4, stage=stage)
    assert np.abs(run.params - params).max() <= 1e-10 and abs(run.loss - loss) <= 1e-10
    formula = zero_bytes(run.parameters, 4, stage, run.precision)  # float64: 8, 8 and 16 bytes
    for kind, measured in run.bytes_per_device.items():
        # the busiest device's shard is at most one element bigger than P/N
        assert 0 <= measured - formula[kind] < 2 * 8
    theory = zero_comm_bytes(run.parameters, 4, stage, itemsize=8)
    assert 0 <= run.comm_bytes_per_device - theory < 3 * 8
    assert not any(r.inline for r in run.collectives)


def test_bad_zero_input(reference):
    x, y, _, _ = reference
    with pytest.raises(ParallelConfigError, match="multiple of 3"):
        run_zero(SIZES, x[:256], y[:256], devices=3, stage=1)
