"""Model parallelism on both backends: a GPipe pipeline over 2 stage actors and a tensor-parallel
block over 2 shard actors compute what the unsplit model computes (the simulator's timing and byte
counts are tested in tests/parallel; here only the numbers, which real Ray must agree with)."""

import numpy as np

from dsai.models import MLP, load_digits
from dsai.models.layers import Linear, ReLU
from dsai.parallel.pipeline import run_pipeline
from dsai.parallel.tensor import run_tensor_parallel


def test_gpipe_two_stages_gives_the_unsplit_gradient(ray):
    digits = load_digits()
    model = MLP([64, 32, 32, 10], seed=0)
    x, y = digits.x_train[:64], digits.y_train[:64]
    loss, grad = model.loss_and_grad(x, y)
    # The standard cluster has 1 GPU: each stage takes half of it.
    run = run_pipeline(model, x, y, stages=2, microbatches=4, schedule="gpipe", num_gpus=0.5)
    assert float(np.abs(run.grad - grad).max()) <= 1e-10
    assert abs(run.loss - loss) <= 1e-10
    assert run.peak_activations == [4, 4]  # counted by the stages' own ledgers, on either backend


def test_tensor_parallel_block_equals_the_unsplit_block(ray):
    rng = np.random.default_rng(0)
    block = [Linear(16, 32, rng), ReLU(), Linear(32, 16, rng)]
    x, dz = rng.normal(size=(8, 16)), rng.normal(size=(8, 16))
    h, hc = block[0].forward(x)
    a, ac = block[1].forward(h)
    z, zc = block[2].forward(a)
    da, (dW2, db2) = block[2].backward(dz, zc)
    dx, (dW1, db1) = block[0].backward(block[1].backward(da, ac)[0], hc)
    run = run_tensor_parallel(block, x, dz, 2, num_gpus=0.5)
    assert np.abs(run.output - z).max() <= 1e-10 and np.abs(run.input_grad - dx).max() <= 1e-10
    for got, want in zip(run.grads, [dW1, db1, dW2, db2]):
        assert np.abs(got - want).max() <= 1e-10
