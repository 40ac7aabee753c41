"""Conformance: ray.wait (argument checks, ordering, timeouts) and ray.get timeouts."""

import time

import pytest


@pytest.fixture
def sleeper(ray):
    @ray.remote
    def sleeper(s, v):
        time.sleep(s)
        return v

    return sleeper


def test_wait_returns_the_first_ready(ray, sleeper, backend):
    refs = [sleeper.remote(0.3, "a"), sleeper.remote(0.02, "b"), sleeper.remote(0.15, "c")]
    ready, rest = ray.wait(refs, num_returns=1)
    # Ray promises one ready ref, the others in input order; which one ends first is a race
    # there (each task waits for a worker, and a cold one starts seconds apart from another).
    assert len(ready) == 1 and ray.wait(ready, timeout=0) == (ready, [])
    assert rest == [r for r in refs if r != ready[0]]  # not-ready keep the input order
    if backend == "sim":
        assert ray.get(ready) == ["b"]


def test_wait_ready_list_keeps_input_order(ray, sleeper):
    refs = [sleeper.remote(0.2, "a"), sleeper.remote(0.01, "b"), sleeper.remote(0.1, "c")]
    ready, rest = ray.wait(refs, num_returns=3)
    assert ready == refs and rest == []
    rev = refs[::-1]
    ready, rest = ray.wait(rev, num_returns=2)
    # All ready: two of them (real Ray does not promise which), in input order.
    assert len(ready) == 2 and len(rest) == 1 and set(ready) | set(rest) == set(rev)
    assert ready == [r for r in rev if r in ready]


def test_wait_default_num_returns_is_one(ray, sleeper, backend):
    refs = [sleeper.remote(0.0, 1), sleeper.remote(0.3, 2)]
    ready, rest = ray.wait(refs)
    assert len(ready) == 1 and len(rest) == 1 and set(ready) | set(rest) == set(refs)  # (which: a race on Ray)
    if backend == "sim":
        assert ready == [refs[0]] and rest == [refs[1]]


def test_wait_timeout(ray, sleeper, now):
    slow = sleeper.remote(0.3, "slow")
    t0 = now()
    ready, rest = ray.wait([slow], timeout=0.05)
    assert ready == [] and rest == [slow]
    assert now() - t0 >= 0.05
    ready, rest = ray.wait([slow], timeout=0)
    assert rest == [slow] or ready == [slow]
    ready, _ = ray.wait([slow], timeout=5)
    assert ready == [slow]


def test_wait_fetch_local_and_empty(ray):
    a, b = ray.put(1), ray.put(2)
    assert ray.wait([a, b], num_returns=2, fetch_local=False) == ([a, b], [])
    assert ray.wait([]) == ([], [])


def test_wait_argument_checks(ray):
    r = ray.put(1)
    with pytest.raises(ValueError, match="Wait requires a list of unique ray_waitables"):
        ray.wait([r, r])
    with pytest.raises(ValueError, match="num_returns cannot be greater than the number of ray_waitables provided to ray.wait"):
        ray.wait([r], num_returns=2)
    with pytest.raises(ValueError, match="Invalid number of objects to return 0"):
        ray.wait([r], num_returns=0)
    with pytest.raises(ValueError, match="Invalid number of objects to return -1"):
        ray.wait([r], num_returns=-1)
    with pytest.raises(ValueError, match="The 'timeout' argument must be nonnegative. Received -1"):
        ray.wait([r], timeout=-1)
    with pytest.raises(TypeError, match="wait\\(\\) expected a list of ray.ObjectRef or ray.ObjectRefGenerator, got a single ray.ObjectRef"):
        ray.wait(r)
    with pytest.raises(TypeError, match="wait\\(\\) expected a list of ray.ObjectRef or ray.ObjectRefGenerator, got <class 'tuple'>"):
        ray.wait((r,))
    with pytest.raises(TypeError, match="got list containing <class 'int'>"):
        ray.wait([1])


def test_get_timeout(ray, sleeper, now):
    slow = sleeper.remote(0.3, "v")
    t0 = now()
    with pytest.raises(ray.exceptions.GetTimeoutError, match="Get timed out: some object\\(s\\) not ready.") as info:
        ray.get(slow, timeout=0.05)
    assert isinstance(info.value, TimeoutError)
    assert now() - t0 >= 0.05
    with pytest.raises(TimeoutError):
        ray.get([ray.put(1), sleeper.remote(0.3, 2)], timeout=0)
    assert ray.get(slow, timeout=10) == "v"  # the object is still there after a timeout


def test_get_timeout_on_ready_object(ray):
    assert ray.get(ray.put(3), timeout=0) == 3
