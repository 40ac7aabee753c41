"""Conformance: one clock. Tasks, actors and the driver read time that follows the cluster's work.

On the simulator the figures are exact virtual seconds; on real Ray they are
wall seconds, so the bounds there are generous (a loaded machine is slow,
never fast: lower bounds stay tight).
"""

import datetime
import time

import pytest


def _close(value, expected, backend, slack=2.0):
    """Exactly `expected` virtual seconds on the simulator; at least it, within `slack`, on Ray."""
    if backend == "sim":
        return value == pytest.approx(expected, abs=1e-9)
    return expected - 0.05 <= value <= expected + slack


def test_every_clock_in_a_task_follows_its_sleep(ray, backend):
    @ray.remote
    def measured(s):
        t0, m0, p0 = time.time(), time.monotonic(), time.perf_counter()
        n0, d0 = time.perf_counter_ns(), datetime.datetime.now()
        u0, tn0, mn0 = datetime.datetime.utcnow(), time.time_ns(), time.monotonic_ns()
        time.sleep(s)
        return [time.time() - t0, time.monotonic() - m0, time.perf_counter() - p0,
                (time.perf_counter_ns() - n0) / 1e9, (datetime.datetime.now() - d0).total_seconds(),
                (datetime.datetime.utcnow() - u0).total_seconds(), (time.time_ns() - tn0) / 1e9,
                (time.monotonic_ns() - mn0) / 1e9]

    for value in ray.get(measured.remote(1.0)):
        assert _close(value, 1.0, backend)


def test_an_actor_reads_its_clock_across_a_nested_get(ray, backend):
    @ray.remote
    def slow(s):
        time.sleep(s)
        return s

    @ray.remote
    class Timer:
        def around_get(self, s):
            t0 = time.perf_counter()
            ray.get(slow.remote(s))
            return time.perf_counter() - t0

    t = Timer.remote()
    # (no upper bound on Ray: the nested task may wait seconds for a worker to start)
    assert _close(ray.get(t.around_get.remote(0.5)), 0.5, backend, slack=30.0)


def test_users_own_timeline_from_time_time(ray, backend):
    """Four 1 s tasks on 2 CPUs, each reporting when it started and ended, relative to the first."""
    @ray.remote(num_cpus=2)
    def stamp():
        start = time.time()
        time.sleep(1.0)
        return start, time.time()

    spans = ray.get([stamp.remote() for _ in range(4)])  # 4 CPUs: two at a time
    first = min(s for s, _ in spans)
    rel = sorted((round(s - first, 1), round(e - first, 1)) for s, e in spans)
    if backend == "sim":
        assert rel == [(0.0, 1.0), (0.0, 1.0), (1.0, 2.0), (1.0, 2.0)]
    else:
        # (each span at least its 1 s sleep, less the rounding; no upper bound: a loaded machine
        # may wake a sleeping worker late)
        assert all(e - s >= 0.85 for s, e in rel)
        assert rel[2][0] >= 0.9  # the second pair waits for the first


def test_driver_times_a_get(ray, backend):
    @ray.remote
    def slow(s):
        time.sleep(s)
        return s

    ray.get(slow.remote(0))  # warm: a worker is up
    t0, w0 = time.perf_counter(), time.time()
    ray.get(slow.remote(1.0))
    # The driver's clock runs at real speed too: on both backends, 1 s plus the calls' own time.
    assert 1.0 <= time.perf_counter() - t0 <= 4.0
    assert 0.95 <= time.time() - w0 <= 4.0


def test_driver_sleep_lets_the_cluster_run(ray, backend):
    @ray.remote
    def slow(s):
        time.sleep(s)
        return s

    if backend == "ray":
        ray.get(slow.remote(0))  # warm: a worker is up (a cold start can take the 4 s below)
    ref = slow.remote(1.0)
    time.sleep(1.5 if backend == "sim" else 4.0)
    ready, _ = ray.wait([ref], timeout=0)
    assert ready == [ref]


def test_driver_polling_loop_with_sleep_ends(ray, backend):
    @ray.remote
    def slow(s):
        time.sleep(s)
        return s

    ref = slow.remote(1.0)
    polls = 0
    while not ray.wait([ref], timeout=0)[0]:
        time.sleep(0.05)
        polls += 1
        assert polls < 10_000
    if backend == "sim":
        assert polls == 20  # 1 s of work in 0.05 s naps
    assert ray.get(ref) == 1.0


@pytest.mark.sim_only(reason="the virtual clock's epoch: real Ray reads the machine's clock")
def test_task_clocks_start_at_the_documented_epoch(ray):
    from dsai.sim.clocks import EPOCH

    @ray.remote
    def read():
        return time.time(), time.monotonic(), datetime.datetime.now(datetime.timezone.utc)

    import dsai.sim

    wall, mono, now = ray.get(read.remote())
    assert mono == dsai.sim.now()
    assert wall == EPOCH + mono
    assert now.year == 2026 and now.month == 1 and now.day == 1


@pytest.mark.sim_only(reason="how the simulator scopes its clocks: real Ray has no virtual clock")
def test_other_threads_keep_the_real_clock(ray):
    import threading

    from dsai.sim.clocks import real_time

    @ray.remote
    def slow(s):
        time.sleep(s)
        return s

    ray.get(slow.remote(100.0))  # the driver's clock is now 100 s ahead
    seen = []
    th = threading.Thread(target=lambda: seen.append(time.time() - real_time()))
    th.start()
    th.join()
    assert abs(seen[0]) < 1.0
    assert time.time() - real_time() >= 100.0


def test_datetime_stays_a_datetime(ray):
    made = datetime.datetime(2020, 1, 2, 3, 4, 5)
    assert isinstance(made, datetime.datetime) and isinstance(datetime.datetime.now(), datetime.datetime)
    assert type(made + datetime.timedelta(days=1)) is type(made)
    assert datetime.datetime.fromisoformat("2020-01-02T03:04:05") == made
