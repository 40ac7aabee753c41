"""Conformance: ray.get's timeout is read as Ray reads it (whole milliseconds, -1 for none)."""

import math
import time

import pytest


@pytest.fixture
def slow(ray):
    @ray.remote
    def slow(s):
        time.sleep(s)
        return s

    ray.get(slow.remote(0))
    return slow


def test_minus_one_means_no_timeout(ray, slow):
    assert ray.get(slow.remote(1.5), timeout=-1) == 1.5
    assert ray.get([slow.remote(1.5)], timeout=-1) == [1.5]


def test_true_is_one_second(ray, slow):
    with pytest.raises(ray.exceptions.GetTimeoutError):
        ray.get(slow.remote(10), timeout=True)
    assert ray.get(slow.remote(0), timeout=True) == 0


def test_infinity_overflows(ray, slow):
    with pytest.raises(OverflowError):
        ray.get(slow.remote(0), timeout=math.inf)


def test_other_negative_timeouts(ray, slow):
    with pytest.raises(ValueError):
        ray.get(slow.remote(0), timeout=-0.5)
