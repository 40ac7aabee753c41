"""The driver's `ray.get` of a list: values in list order once all are ready, or
the first error in list order as soon as one of them fails (Ray does not wait
for the rest), on one node (where the driver follows the list) as on several
(where it subscribes to each object)."""

import time

import pytest

import dsai.mockray as ray
import dsai.sim as sim


@ray.remote
def after(seconds, value):
    time.sleep(seconds)
    if isinstance(value, Exception):
        raise value
    return value


@pytest.fixture(params=[1, 2], ids=["one node", "two nodes"])
def nodes(request, cluster):
    cluster(request.param, cpus=4)
    return request.param


def test_values_come_in_list_order_whatever_order_they_finish(nodes):
    refs = [after.remote(s, s) for s in (3, 1, 2, 0)]
    assert ray.get(refs) == [3, 1, 2, 0]
    assert sim.now() == 3.0


def test_a_failure_is_raised_when_it_happens_not_after_the_slowest(nodes):
    refs = [after.remote(10, "slow"), after.remote(1, ValueError("early"))]
    with pytest.raises(ValueError, match="early"):
        ray.get(refs)
    assert sim.now() == 1.0
    assert ray.get(refs[0]) == "slow"


def test_of_the_failures_so_far_the_first_in_the_list_is_raised(nodes):
    refs = [after.remote(10, "slow"), after.remote(3, KeyError("late")), after.remote(1, IndexError("first"))]
    with pytest.raises(IndexError):
        ray.get(refs)
    assert sim.now() == 1.0
    with pytest.raises(KeyError):
        ray.get(refs[1])
    with pytest.raises(KeyError):  # both have failed by now: the first in the list
        ray.get(refs)
    assert sim.now() == 3.0


def test_a_failure_outside_the_list_does_not_stop_the_get(nodes):
    other = after.remote(1, ValueError("not ours"))
    assert ray.get([after.remote(5, "a"), after.remote(2, "b")]) == ["a", "b"]
    assert sim.now() == 5.0
    with pytest.raises(ValueError):
        ray.get(other)


def test_a_list_that_can_never_be_ready_says_why(nodes):
    with pytest.raises(ray.exceptions.TaskUnschedulableError, match="GPU"):
        ray.get([after.remote(1, "fine"), after.options(num_gpus=1).remote(0, "never")])
    assert sim.now() == 1.0  # (it found out once nothing else could happen)
