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


def test_true_is_one_second(ray, slow, backend):
    with pytest.raises(ray.exceptions.GetTimeoutError):
        ray.get(slow.remote(10), timeout=True)
    quick = slow.remote(0)
    if backend == "ray":  # (its worker may still be starting, seconds on a loaded machine: the
        ray.wait([quick], timeout=60)  # 1 s would time the machine, not read the timeout)
    assert ray.get(quick, timeout=True) == 0


def test_infinity_overflows(ray, slow):
    with pytest.raises(OverflowError):
        ray.get(slow.remote(0), timeout=math.inf)
