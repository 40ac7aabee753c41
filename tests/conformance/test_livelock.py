"""Conformance: a livelock does not stop the driver's clock: a get with a timeout still times out.

Two actors that call each other in a loop never finish; on Ray the driver's
`ray.get(ref, timeout=...)` raises `GetTimeoutError` once the timeout has
passed. The simulator, where calls cost no virtual time, must not hang there
(dsai/mockray/livelock.py: past 10,000 zero-time round trips in a row, each
costs 1 ms of virtual time).
"""

import time

import pytest


def test_a_get_with_a_timeout_returns_while_two_actors_livelock(ray, now):
    @ray.remote
    class Ticker:
        def next(self):
            return 1

    @ray.remote
    class Spinner:
        def spin(self, other):
            while True:
                ray.get(other.next.remote())

    ticker = Ticker.remote()
    spinner = Spinner.remote()
    ray.get(ticker.next.remote())  # both started (on Ray each is a worker process)
    ref = spinner.spin.remote(ticker)
    start = now()
    with pytest.raises(ray.exceptions.GetTimeoutError):
        ray.get(ref, timeout=2)
    assert now() - start >= 2
    ready, not_ready = ray.wait([ref], timeout=1)  # and again: the loop is still spinning
    assert (ready, not_ready) == ([], [ref])
    assert now() - start >= 3
    ray.kill(spinner)
    ray.kill(ticker)
    with pytest.raises(ray.exceptions.RayActorError):
        ray.get(ref)


def test_a_task_in_a_livelock_times_out_its_own_get(ray):
    """A task waiting (with a timeout) on an actor that livelocks sees the timeout too."""

    @ray.remote
    class Ticker:
        def next(self):
            return 1

    @ray.remote
    class Spinner:
        def spin(self, other):
            while True:
                ray.get(other.next.remote())

    @ray.remote
    def watch(ref_list):
        try:
            ray.get(ref_list[0], timeout=1)
        except ray.exceptions.GetTimeoutError:
            return "timed out"
        return "returned"

    ticker = Ticker.remote()
    spinner = Spinner.remote()
    ref = spinner.spin.remote(ticker)
    assert ray.get(watch.remote([ref]), timeout=60) == "timed out"
    ray.kill(spinner)
    ray.kill(ticker)


def test_an_async_actor_awaiting_in_a_loop_lets_time_pass(ray, now, backend):
    """Ray's pattern_async_actor: a coroutine that awaits a call in an endless loop;
    the same actor still answers, and the driver's timeout still comes true."""

    @ray.remote
    class Store:
        def next(self):
            return 1

    @ray.remote
    class AsyncSpinner:
        def __init__(self):
            self.done = 0

        async def spin(self, store):
            while True:
                await store.next.remote()
                self.done += 1

        def count(self):
            return self.done

    store = Store.remote()
    spinner = AsyncSpinner.remote()
    ray.get(store.next.remote())
    ref = spinner.spin.remote(store)
    start = now()
    with pytest.raises(ray.exceptions.GetTimeoutError):
        ray.get(ref, timeout=1)
    assert now() - start >= 1
    done = ray.get(spinner.count.remote())
    # On Ray the spinner's worker process may have only just started (seconds when loaded):
    # its first round trip may still be pending, so ask again until it counts (60 s at most).
    deadline = time.monotonic() + 60
    while backend == "ray" and done == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
        done = ray.get(spinner.count.remote())
    assert done > 0
    ray.kill(spinner)
    ray.kill(store)
