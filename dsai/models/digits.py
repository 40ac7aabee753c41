"""The dataset the cluster trains on: 1,797 handwritten digits, shipped in the package.

8x8 grey images (pixels 0..16) of the digits 0-9, from the UCI "Optical
Recognition of Handwritten Digits" data set (E. Alpaydin and C. Kaynak, 1998;
CC BY 4.0; see data/DIGITS_LICENSE.txt). No download at run time.

The split is fixed: the examples are shuffled once with
`numpy.random.default_rng(0)` and the first 20% (359 images) are the test set,
the other 1,438 the training set. Features are scaled to [0, 1] by dividing
the pixels by 16 (a fixed rule, so no statistic of the test set leaks into
training); each image becomes a row of 64 features.

    data = load_digits()
    data.x_train.shape  # (1438, 64) float64
    shards = data.shards(4)  # contiguous slices of the training set, one per worker
"""

from __future__ import annotations

from importlib import resources

import numpy as np

__all__ = ["Digits", "load_digits", "TEST_FRACTION", "SPLIT_SEED"]

TEST_FRACTION = 0.2  # 359 of 1,797 images held out
SPLIT_SEED = 0       # the one shuffle that fixes the split
NUM_CLASSES = 10
NUM_FEATURES = 64


class Digits:
    """A fixed train/test split of the digits: float64 features in [0, 1], int64 labels."""

    def __init__(self, x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray,
                 y_test: np.ndarray) -> None:
        self.x_train, self.y_train = x_train, y_train
        self.x_test, self.y_test = x_test, y_test
        self.num_features = x_train.shape[1]
        self.num_classes = NUM_CLASSES

    def shards(self, n: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """The training set cut into `n` contiguous, near-equal shards (x, y), one per worker."""
        if not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"number of shards must be a positive integer, got {n!r}")
        if n > len(self.y_train):
            raise ValueError(f"cannot cut {len(self.y_train)} training examples into {n} shards: "
                             f"use at most {len(self.y_train)} workers")
        bounds = np.linspace(0, len(self.y_train), n + 1).astype(int)
        return [(self.x_train[a:b], self.y_train[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]

    def __repr__(self) -> str:
        return (f"Digits(train={len(self.y_train)}, test={len(self.y_test)}, "
                f"features={self.num_features}, classes={self.num_classes})")


def load_raw() -> tuple[np.ndarray, np.ndarray]:
    """The 1,797 images as shipped: uint8 (1797, 8, 8) pixels 0..16, int64 labels."""
    with resources.files("dsai.models").joinpath("data/digits.npz").open("rb") as f:
        with np.load(f) as npz:
            return npz["images"], npz["labels"]


def load_digits() -> Digits:
    """The digits with the fixed, seeded split and pixels scaled to [0, 1] (see the module doc)."""
    images, labels = load_raw()
    order = np.random.default_rng(SPLIT_SEED).permutation(len(labels))
    n_test = int(round(TEST_FRACTION * len(labels)))
    test, train = order[:n_test], order[n_test:]
    x = images.reshape(len(labels), -1).astype(np.float64) / 16.0
    y = labels.astype(np.int64)
    return Digits(x[train], y[train], x[test], y[test])
