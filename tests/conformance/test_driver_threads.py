"""Conformance: the driver's other threads get and wait on refs, its real waits let the cluster run, and threads are named as in Ray's workers.

`ray.get`/`ray.wait` from a thread of the driver other than its main one
(`asyncio.to_thread`, `ThreadPoolExecutor.map`, a plain `threading.Thread`)
wait for pending refs and give their values; a driver blocked in a
`threading` wait for something a done-callback will set is not stuck;
inside tasks and actors `threading.current_thread()`, `enumerate()` and
`active_count()` answer as in Ray 2.60's worker processes; an async actor's
`asyncio.to_thread` / `run_in_executor` runs beside its event loop.

On the simulator the figures are exact virtual seconds; real Ray's are wall
seconds, checked only with generous upper bounds (no test depends on the
machine's speed).
"""

import asyncio
import concurrent.futures as cf
import os
import queue
import threading
import time

import pytest

BACKEND = "ray" if os.environ.get("DSAI_BACKEND", "").strip().lower() == "ray" else "sim"


@pytest.fixture
def slow(ray):
    @ray.remote
    def slow(s):
        time.sleep(s)
        return s

    ray.get([slow.remote(0) for _ in range(4)])  # workers up
    return slow


def _took(now, t0, sim_value, ray_bound=30.0):
    """Elapsed time since t0: exactly `sim_value` virtual seconds on the simulator, at least
    that and under a generous bound on real Ray."""
    took = now() - t0
    if BACKEND == "sim":
        assert took == pytest.approx(sim_value, abs=1e-9)
    else:
        assert sim_value - 0.05 <= took < sim_value + ray_bound
    return took


# -- ray.get / ray.wait from other threads of the driver ----------------------------------------

def test_asyncio_to_thread_get_of_pending_refs(ray, slow, now):
    async def main():
        return await asyncio.gather(asyncio.to_thread(ray.get, slow.remote(2)),
                                    asyncio.to_thread(ray.get, slow.remote(1)))

    t0 = now()
    assert asyncio.run(main()) == [2, 1]
    _took(now, t0, 2.0)


def test_thread_pool_map_get(ray, slow, now):
    t0 = now()
    with cf.ThreadPoolExecutor(3) as pool:
        assert list(pool.map(ray.get, [slow.remote(1), slow.remote(2), slow.remote(0.5)])) == [1, 2, 0.5]
    _took(now, t0, 2.0)


def test_plain_thread_get_and_join(ray, slow, now):
    out = []
    t = threading.Thread(target=lambda: out.append(ray.get([slow.remote(1), slow.remote(0.5)])))
    t0 = now()
    t.start()
    t.join()
    assert out == [[1, 0.5]]
    _took(now, t0, 1.0)


def test_threads_submit_again_when_their_get_returns(ray, slow, now):
    # Each thread's second task starts when its first get returns (as on Ray), so
    # thread x ends at 2x: the whole map takes 6 s.
    def work(x):
        a = ray.get(slow.remote(x))
        return ray.get(slow.remote(a))

    t0 = now()
    with cf.ThreadPoolExecutor(3) as pool:
        assert list(pool.map(work, [1, 2, 3])) == [1, 2, 3]
    _took(now, t0, 6.0)


def test_driver_get_while_a_thread_gets(ray, slow, now):
    t0 = now()
    with cf.ThreadPoolExecutor(1) as pool:
        f = pool.submit(ray.get, slow.remote(2))
        assert ray.get(slow.remote(1)) == 1
        assert f.result() == 2
    _took(now, t0, 2.0)


def test_wait_from_another_thread(ray, slow, now):
    refs = [slow.remote(2), slow.remote(1)]
    t0 = now()

    def first():
        ready, rest = ray.wait(refs, num_returns=1)
        return ray.get(ready), rest

    with cf.ThreadPoolExecutor(1) as pool:
        values, rest = pool.submit(first).result()
    assert values == [1] and rest == [refs[0]]
    _took(now, t0, 1.0)


def test_get_timeout_from_another_thread(ray, slow, now):
    ref = slow.remote(5)
    t0 = now()
    with cf.ThreadPoolExecutor(1) as pool:
        with pytest.raises(ray.exceptions.GetTimeoutError):
            pool.submit(ray.get, ref, timeout=1).result()
        assert pool.submit(ray.wait, [ref], timeout=0.5).result() == ([], [ref])
    _took(now, t0, 1.5)
    assert ray.get(ref) == 5


def test_task_error_from_another_thread(ray):
    @ray.remote
    def boom():
        raise ValueError("no")

    with cf.ThreadPoolExecutor(1) as pool:
        with pytest.raises(ray.exceptions.RayTaskError, match="no"):
            pool.submit(ray.get, boom.remote()).result()


def test_future_result_from_another_thread(ray, slow, now):
    t0 = now()
    with cf.ThreadPoolExecutor(2) as pool:
        assert pool.submit(lambda: slow.remote(1).future().result()).result() == 1
    _took(now, t0, 1.0)


@pytest.mark.sim_only(reason="real Ray would wait forever")
def test_get_from_another_thread_that_can_never_end_raises(ray):
    @ray.remote
    class Stuck:
        def forever(self):
            threading.Event().wait()  # nobody will set it

    ref = Stuck.remote().forever.remote()
    with cf.ThreadPoolExecutor(1) as pool:
        with pytest.raises(ray.exceptions.SimulationDeadlockError, match="Stuck.forever"):
            pool.submit(ray.get, ref).result()


# -- the driver in a real threading wait for what a done-callback sets ------------------------------

def test_done_callback_sets_an_event_the_driver_waits_on(ray, slow, now):
    done = threading.Event()
    out = []
    f = slow.remote(1).future()
    f.add_done_callback(lambda fut: (out.append(fut.result()), done.set()))
    t0 = now()
    assert done.wait()
    assert out == [1]
    _took(now, t0, 1.0)


@pytest.mark.sim_only(reason="real Ray would wait forever")
def test_a_driver_event_wait_for_a_future_that_can_never_settle_raises(ray):
    @ray.remote
    class Stuck:
        def forever(self):
            threading.Event().wait()  # nobody will set it

    done = threading.Event()
    Stuck.remote().forever.remote().future().add_done_callback(lambda fut: done.set())
    with pytest.raises(ray.exceptions.SimulationDeadlockError, match="Stuck.forever"):
        done.wait()


def test_done_callbacks_feed_a_queue_the_driver_reads(ray, slow):
    q = queue.Queue()
    # (gaps of 2 s: on real Ray the tasks start up to a second apart on a loaded machine)
    for s in (4, 0, 2):
        slow.remote(s).future().add_done_callback(lambda fut: q.put(fut.result()))
    assert [q.get(timeout=60) for _ in range(3)] == [0, 2, 4]


def test_concurrent_futures_wait_and_as_completed(ray, slow):
    fs = [slow.remote(2).future(), slow.remote(1).future()]
    done, not_done = cf.wait(fs, return_when=cf.FIRST_COMPLETED)
    assert [f.result() for f in done] == [1] and len(not_done) == 1
    assert [f.result() for f in cf.as_completed(fs)] == [1, 2]


# -- threads inside tasks and actors, as Ray's worker processes show them -----------------------

def test_a_task_sees_its_workers_threads(ray):
    @ray.remote
    def threads():
        return threading.current_thread().name, [t.name for t in threading.enumerate()], threading.active_count()

    assert ray.get(threads.remote()) == ("MainThread", ["MainThread", "PythonGCThread"], 2)


def test_a_thread_started_in_a_task_is_listed_while_it_runs(ray):
    @ray.remote
    def with_thread():
        stop = threading.Event()
        t = threading.Thread(target=stop.wait, name="helper")
        t.start()
        during = ([t.name for t in threading.enumerate()], threading.active_count())
        stop.set()
        t.join()
        return during, threading.active_count()

    assert ray.get(with_thread.remote()) == ((["MainThread", "PythonGCThread", "helper"], 3), 2)


def test_an_async_actor_runs_on_its_event_loop_thread(ray):
    @ray.remote
    class Async:
        async def where(self):
            return threading.current_thread().name, [t.name for t in threading.enumerate()]

    a = Async.remote()
    assert ray.get(a.where.remote()) == ("AsyncIO Thread: default",
                                         ["MainThread", "PythonGCThread", "AsyncIO Thread: default"])
    ray.kill(a)


def test_a_one_call_at_a_time_actor_runs_on_its_main_thread(ray):
    @ray.remote
    class Sync:
        def __init__(self):
            self.born = threading.current_thread().name

        def where(self):
            return self.born, threading.current_thread().name, threading.active_count()

    a = Sync.remote()
    assert ray.get(a.where.remote()) == ("MainThread", "MainThread", 2)
    ray.kill(a)


def test_a_threaded_actors_calls_run_on_dummy_threads(ray):
    @ray.remote(max_concurrency=2)
    class Threaded:
        def __init__(self):
            self.both_in = threading.Barrier(2, timeout=30)

        def where(self):
            self.both_in.wait()  # both calls run at once, so on two threads (a sleep would race)
            return threading.current_thread().name

    a = Threaded.remote()
    names = ray.get([a.where.remote(), a.where.remote()])
    assert len(set(names)) == 2 and all(n.startswith("Dummy-") for n in names)
    ray.kill(a)


# -- asyncio.to_thread / run_in_executor in an async actor ---------------------------------------

def test_to_thread_in_an_async_actor_runs_beside_the_loop(ray, now):
    @ray.remote
    class Async:
        async def run(self):
            async def tick():
                n = 0
                for _ in range(10):
                    await asyncio.sleep(0.1)
                    n += 1
                return n

            loop = asyncio.get_running_loop()
            t0 = time.perf_counter()
            slept, ticks, name = await asyncio.gather(
                asyncio.to_thread(time.sleep, 1), tick(),
                loop.run_in_executor(None, lambda: threading.current_thread().name))
            return ticks, name, time.perf_counter() - t0

    a = Async.remote()
    ray.get(a.run.remote())  # (warm up)
    ticks, name, took = ray.get(a.run.remote())
    assert ticks == 10  # the loop kept running while the thread slept
    assert name != "AsyncIO Thread: default" and name.startswith("asyncio_")
    if BACKEND == "sim":
        assert took == pytest.approx(1.0, abs=1e-9)
    else:
        assert 0.95 <= took < 30
    ray.kill(a)


def test_the_driver_sleeps_while_a_thread_gets(ray, slow, now):
    out = []
    t = threading.Thread(target=lambda: out.append((ray.get(slow.remote(1)), now())))
    t0 = now()
    t.start()
    while not out:
        time.sleep(0.25)
    t.join()
    value, at = out[0]
    assert value == 1
    if BACKEND == "sim":  # the thread's get returned as its task ended, not at the next sleep's end
        assert at - t0 == pytest.approx(1.0, abs=1e-9)
        assert now() - t0 == pytest.approx(1.0, abs=1e-9)  # (the sleep that covered 1.0 ended there)


def test_bad_waits_from_another_thread_raise_rays_errors(ray, slow):
    ref = slow.remote(0)
    with cf.ThreadPoolExecutor(1) as pool:
        with pytest.raises(ValueError, match="num_returns cannot be greater"):
            pool.submit(ray.wait, [ref], num_returns=2).result()
        with pytest.raises(ValueError, match="unique"):
            pool.submit(ray.wait, [ref, ref]).result()
