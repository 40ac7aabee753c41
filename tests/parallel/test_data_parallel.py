"""Data parallelism: N workers all-reducing their share of the gradient take the same steps
as one worker on the whole batch."""

from __future__ import annotations

import numpy as np
import pytest

from dsai.parallel import CollectiveError
from dsai.parallel.data_parallel import equivalence, train_data_parallel, train_single


@pytest.mark.parametrize("workers,algorithm", [(4, "ring"), (3, "tree"), (2, "ps"), (4, "naive")])
def test_n_workers_reach_the_single_workers_weights(cluster, workers, algorithm):
    cluster(workers + 1)
    run = train_data_parallel(workers, steps=10, algorithm=algorithm)
    single = train_single(steps=10)
    assert run.replicas_agree and len(run.allreduces) == 10
    assert np.max(np.abs(run.params - single)) <= 1e-10
    assert not np.array_equal(single, train_single(steps=0))  # the steps did move the weights


def test_equivalence_reports_the_max_abs_difference(cluster):
    cluster(4)
    diff = equivalence(workers=4, steps=10)
    assert 0 <= diff <= 1e-10


def test_a_wrong_sum_would_show(cluster):
    # The check can fail: averaging (not summing the weighted shares) takes a different path.
    cluster(2)
    run = train_data_parallel(2, steps=10)
    assert np.max(np.abs(run.params - train_single(steps=10, lr=0.25))) > 1e-3


def test_bad_input_is_named(cluster):
    cluster(2)
    with pytest.raises(CollectiveError, match="at least 1 worker, got workers=0"):
        train_data_parallel(0)
    with pytest.raises(CollectiveError, match="3 workers for 2 training examples"):
        train_data_parallel(3, examples=2)
    with pytest.raises(CollectiveError, match="learning rate must be a positive number, got lr=-1"):
        train_data_parallel(2, lr=-1)
