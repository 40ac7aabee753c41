"""The shipped digits data set and its fixed split."""

import numpy as np
import pytest

from dsai.models import load_digits
from dsai.models.digits import load_raw


def test_raw_data_is_the_uci_test_set():
    images, labels = load_raw()
    assert images.shape == (1797, 8, 8) and images.dtype == np.uint8
    assert images.max() == 16 and images.min() == 0
    assert labels.shape == (1797,) and set(labels.tolist()) == set(range(10))
    assert np.bincount(labels).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]


def test_split_is_fixed_disjoint_and_scaled():
    d = load_digits()
    assert d.x_train.shape == (1438, 64) and d.x_test.shape == (359, 64)
    assert d.x_train.dtype == np.float64 and 0.0 <= d.x_train.min() and d.x_train.max() == 1.0
    again = load_digits()
    assert np.array_equal(d.x_test, again.x_test) and np.array_equal(d.y_train, again.y_train)
    # every raw image lands in exactly one side
    images, _ = load_raw()
    assert len(d.y_train) + len(d.y_test) == len(images)


def test_shards_cover_the_training_set():
    d = load_digits()
    shards = d.shards(4)
    assert [len(y) for _, y in shards] == [359, 360, 359, 360]
    assert np.array_equal(np.concatenate([x for x, _ in shards]), d.x_train)


@pytest.mark.parametrize("n,match", [(0, "positive integer, got 0"), (2000, "at most 1438 workers")])
def test_bad_shard_counts(n, match):
    with pytest.raises(ValueError, match=match):
        load_digits().shards(n)


def test_licence_ships_beside_the_data():
    from importlib import resources
    text = resources.files("dsai.models").joinpath("data/DIGITS_LICENSE.txt").read_text()
    assert "CC BY 4.0" in text and "Alpaydin" in text
