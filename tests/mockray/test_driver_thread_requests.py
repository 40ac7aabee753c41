"""The driver's other threads on the simulator: deterministic, and the common path untouched."""

import asyncio
import concurrent.futures as cf
import json
import threading
import time

import dsai.mockray as ray
import dsai.sim as sim
from dsai.mockray.runtime import runtime


def _program(seed: int) -> tuple:
    ray.shutdown()
    ray.init(num_cpus=2, seed=seed)

    @ray.remote
    def slow(s):
        time.sleep(s)
        return sim.now()

    keep = []  # every ref stays alive: a ref dropped on another thread is released whenever
    # that thread lets go of it (real timing), which is not what this test is about

    def work(x):  # each thread: a get, then a task of its own, then a wait
        first = slow.remote(x / 2)
        a = ray.get(first)
        b = slow.remote(a)
        refs = [b, slow.remote(x)]
        keep.extend([first, *refs])
        ready, _ = ray.wait(refs, num_returns=1)
        return a, ray.get(ready)

    async def main():
        return await asyncio.gather(*[asyncio.to_thread(ray.get, slow.remote(s)) for s in (0.3, 0.1)])

    with cf.ThreadPoolExecutor(4) as pool:
        mapped = list(pool.map(work, [1, 2, 3, 4]))
    got = asyncio.run(main())
    out = []
    t = threading.Thread(target=lambda: out.append(ray.get(slow.remote(0.25))))
    t.start()
    t.join()
    timeline = json.dumps(ray.timeline(), sort_keys=True)
    keep.clear()
    ray.shutdown()
    return mapped, got, out, timeline


def test_threads_of_the_driver_run_the_same_every_time():
    first = _program(7)
    for _ in range(3):
        assert _program(7) == first
    mapped, got, out, _ = first
    # Each get returns when its task ends: on 2 CPUs the 1.5 s and 2 s tasks start as the
    # 0.5 s and 1 s ones end, ahead of what the first threads submit after their gets.
    assert [a for a, _ in mapped] == [0.5, 1.0, 2.0, 3.0]
    assert got == [9.3, 9.4] and out == [9.65]


def test_a_driver_that_uses_no_threads_keeps_the_one_fast_path():
    ray.shutdown()
    ray.init(num_cpus=2)

    @ray.remote
    def f(x):
        return x

    assert ray.get([f.remote(i) for i in range(10)]) == list(range(10))
    ev = threading.Event()
    ev.set()
    assert ev.wait()
    assert runtime().outside is None  # no request, no thread started: nothing else to serve
    ray.shutdown()


def test_shutdown_fails_what_other_threads_wait_for():
    from dsai.mockray.exceptions import RaySystemError

    ray.shutdown()
    ray.init(num_cpus=2)

    @ray.remote
    def slow(s):
        time.sleep(s)
        return s

    ref = slow.remote(10)
    errors = []

    def get():
        try:
            ray.get(ref)
        except RaySystemError as e:
            errors.append(str(e))

    t = threading.Thread(target=get)
    t.start()
    ray.get(slow.remote(1))  # (the thread's request is taken up meanwhile)
    ray.shutdown()
    t.join()
    assert errors and "ray.shutdown()" in errors[0]


def test_a_thread_that_waits_at_interpreter_exit_is_served():
    import subprocess
    import sys

    code = ("import threading, time\n"
            "from dsai import ray\n"
            "ray.init(num_cpus=2)\n"
            "@ray.remote\n"
            "def slow(s):\n"
            "    time.sleep(s)\n"
            "    return s\n"
            "threading.Thread(target=lambda: print('thread got', ray.get(slow.remote(2)))).start()\n"
            "print('main done')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:2] == ["main done", "thread got 2"]
