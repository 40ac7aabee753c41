"""ray.shutdown() lets the simulation go: nothing of a finished session stays in memory."""

import asyncio
import gc
import threading
import time
import weakref

import pytest

import dsai.mockray as ray
import dsai.sim as sim


def _session_ref(run) -> weakref.ref:
    ray.init(num_cpus=3)
    try:
        run()
        return weakref.ref(sim.current())
    finally:
        ray.shutdown()


def test_a_finished_session_is_freed():
    @ray.remote
    def f(x):
        return x

    ref = _session_ref(lambda: ray.get([f.remote(i) for i in range(10)]))
    gc.collect()
    assert ref() is None


def test_a_session_with_blocked_work_is_freed():
    @ray.remote
    class Waiter:
        def __init__(self):
            self.event = threading.Event()
            threading.Thread(target=self.tick, daemon=True).start()

        def tick(self):
            while True:
                time.sleep(1)

        def wait(self):
            self.event.wait()

    @ray.remote
    class AsyncWaiter:
        async def wait(self):
            await asyncio.Event().wait()

    @ray.remote
    def slow():
        time.sleep(100)

    def run():
        refs = [Waiter.options(max_concurrency=2).remote().wait.remote(),
                AsyncWaiter.remote().wait.remote(), slow.remote()]
        assert ray.wait(refs, num_returns=3, timeout=5)[0] == []

    ref = _session_ref(run)
    gc.collect()
    assert ref() is None


def test_shutdown_does_not_resume_a_force_cancelled_task(capsys):
    ray.init(num_cpus=1)
    try:
        @ray.remote
        def f():
            try:
                time.sleep(10)
            finally:
                print("finally ran")

        ref = f.remote()
        time.sleep(1)
        ray.cancel(ref, force=True)
        with pytest.raises(ray.exceptions.TaskCancelledError):
            ray.get(ref)  # the kill has landed: the task's stack is kept, never resumed
    finally:
        ray.shutdown()
    gc.collect()
    assert "finally ran" not in capsys.readouterr().out
