"""Conformance: async actors run their calls on a real asyncio event loop (virtual time on the simulator).

Durations are exact virtual seconds on the simulator; on real Ray they are
wall seconds, checked with generous upper bounds (lower bounds stay tight:
a loaded machine is slow, never fast).
"""

import asyncio
import time

import pytest


def _about(value, expected, backend, slack=1.5):
    if backend == "sim":
        return value == pytest.approx(expected, abs=1e-9)
    return expected - 0.05 <= value <= expected + slack


@pytest.fixture
def slow(ray):
    @ray.remote
    def slow(s):
        time.sleep(s)
        return s

    return slow


def test_gather_of_two_awaits_overlaps(ray, slow, backend):
    @ray.remote
    class A:
        async def one(self):
            return await slow.remote(1.0)

        async def both(self):
            t0 = time.perf_counter()
            out = await asyncio.gather(self.one(), self.one())
            return out, time.perf_counter() - t0

    a = A.remote()
    ray.get(slow.remote(0))  # a worker is up (real Ray: keeps start-up out of the figure)
    out, took = ray.get(a.both.remote())
    assert out == [1.0, 1.0]
    # Exact on the simulator. On Ray only bounded below: the second task may wait seconds for
    # a second worker to start (one was warmed), and its old 2.5 s bound never ruled out the
    # serial 2 s anyway.
    assert _about(took, 1.0, backend, slack=30.0)


def test_stock_asyncio_apis_work_in_an_actor(ray, backend):
    @ray.remote
    class A:
        async def run(self):
            loop = asyncio.get_running_loop()
            out = {}
            try:
                await asyncio.wait_for(asyncio.sleep(2), 0.5)
            except asyncio.TimeoutError:
                out["wait_for"] = "timeout"
            try:
                async with asyncio.timeout(0.25):
                    await asyncio.sleep(1)
            except TimeoutError:
                out["timeout"] = "timeout"
            out["shield"] = await asyncio.shield(asyncio.sleep(0.1, result="shielded"))
            q: asyncio.Queue = asyncio.Queue()

            async def produce():
                for i in range(3):
                    await asyncio.sleep(0.1)
                    await q.put(i)

            task = asyncio.create_task(produce())
            out["queue"] = [await q.get() for _ in range(3)]
            await task
            lock, event, sem = asyncio.Lock(), asyncio.Event(), asyncio.Semaphore(1)
            async with lock, sem:
                loop.call_later(0.2, event.set)
                await event.wait()
            cond = asyncio.Condition()

            async def notify():
                async with cond:
                    cond.notify_all()

            async with cond:
                loop.call_soon(asyncio.ensure_future, notify())
                await cond.wait()
            fut = loop.create_future()
            loop.call_at(loop.time() + 0.1, fut.set_result, "call_at")
            out["call_at"] = await fut
            done, pending = await asyncio.wait([asyncio.create_task(asyncio.sleep(0.1, "fast")),
                                                asyncio.create_task(asyncio.sleep(5, "slow"))],
                                               return_when=asyncio.FIRST_COMPLETED)
            out["wait"] = ([t.result() for t in done], len(pending))
            for t in pending:
                t.cancel()
            out["current_task"] = asyncio.current_task() is not None
            out["to_thread"] = await asyncio.to_thread(sum, [1, 2, 3])
            out["executor"] = await loop.run_in_executor(None, max, 4, 5)
            return out

    out = ray.get(A.remote().run.remote())
    assert out == {"wait_for": "timeout", "timeout": "timeout", "shield": "shielded", "queue": [0, 1, 2],
                   "call_at": "call_at", "wait": (["fast"], 1), "current_task": True, "to_thread": 6,
                   "executor": 5}


def test_loop_time_follows_the_clock(ray, backend):
    @ray.remote
    class A:
        async def measure(self):
            loop = asyncio.get_running_loop()
            t0, m0 = loop.time(), time.monotonic()
            await asyncio.sleep(0.5)
            return loop.time() - t0, time.monotonic() - m0

    lt, mt = ray.get(A.remote().measure.remote())
    assert _about(lt, 0.5, backend) and _about(mt, 0.5, backend)


@pytest.mark.parametrize("kind", ["sync_def", "async_with_time_sleep", "async_with_blocking_get"])
def test_blocking_calls_block_the_actors_loop(ray, slow, backend, kind, now):
    """Three concurrent calls that block (a plain def, time.sleep, a blocking ray.get) run one at a time."""
    @ray.remote
    class A:
        def sync_def(self):
            time.sleep(0.5)
            return 1

        async def async_with_time_sleep(self):
            time.sleep(0.5)
            return 1

        async def async_with_blocking_get(self):
            return ray.get(slow.remote(0.5)) and 1

        async def ready(self):
            return 1

    a = A.remote()
    ray.get([a.ready.remote(), slow.remote(0)])
    t0 = now()
    assert ray.get([getattr(a, kind).remote() for _ in range(3)]) == [1, 1, 1]
    took = now() - t0
    assert 1.5 <= took <= (1.5 if backend == "sim" else 4.0)


def test_async_calls_interleave_up_to_max_concurrency(ray, backend, now):
    @ray.remote
    class A:
        async def nap(self):
            await asyncio.sleep(0.5)
            return 1

    for mc, expected in ((None, 0.5), (2, 1.0), (1, 2.0)):
        a = (A.options(max_concurrency=mc) if mc else A).remote()
        ray.get(a.nap.remote())
        t0 = now()
        ray.get([a.nap.remote() for _ in range(4)])
        took = now() - t0
        assert expected <= took <= expected + (0.0 if backend == "sim" else 2.0), (mc, took)
        ray.kill(a)


def test_async_def_remote_function_is_rejected_at_decoration(ray):
    async def f():
        return 1

    with pytest.raises(ValueError, match="'async def' should not be used for remote tasks"):
        ray.remote(f)


def test_asyncio_run_inside_tasks_runs_on_the_tasks_clock(ray, backend):
    @ray.remote
    def runner(x):
        async def main():
            try:
                await asyncio.wait_for(asyncio.sleep(2), 0.5)
            except asyncio.TimeoutError:
                return x

        t0 = time.perf_counter()
        return asyncio.run(main()), time.perf_counter() - t0

    out = ray.get([runner.remote(1), runner.remote(2)])  # two loops at once
    assert [v for v, _ in out] == [1, 2]
    for _, took in out:
        assert _about(took, 0.5, backend)


def test_cancel_a_running_async_call(ray, backend):
    @ray.remote
    class A:
        def __init__(self):
            self.seen = None
            self.started = False

        async def long(self):
            self.started = True
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                self.seen = "CancelledError"
                return "swallowed"  # Ray: get raises TaskCancelledError anyway
            return "finished"

        async def what(self):
            return self.seen

        async def has_started(self):
            return self.started

    a = A.remote()
    ref = a.long.remote()
    for _ in range(600):  # until it runs (real Ray: the actor's worker takes seconds to start)
        if ray.get(a.has_started.remote()):
            break
        time.sleep(0.05)
    ray.cancel(ref)
    with pytest.raises(ray.exceptions.TaskCancelledError):
        ray.get(ref, timeout=20)
    assert ray.get(a.what.remote()) == "CancelledError"


def test_blocking_get_in_an_async_actor_warns_as_ray_does(ray, slow, backend, caplog):
    @ray.remote
    class A:
        async def blocking(self):
            import logging
            import io

            # The warning is logged in the actor's worker: catch it there (real Ray: another process).
            buf = io.StringIO()
            handler = logging.StreamHandler(buf)
            loggers = [logging.getLogger(), logging.getLogger("ray")]  # (Ray's does not propagate)
            for lg in loggers:
                lg.addHandler(handler)
            try:
                ray.get(slow.remote(0))
            finally:
                for lg in loggers:
                    lg.removeHandler(handler)
            return buf.getvalue()

    text = ray.get(A.remote().blocking.remote())
    assert "Using blocking ray.get inside async actor" in text


def test_cancel_a_running_sync_actor_call_lets_it_finish(ray, backend):
    """Ray does not interrupt a running sync actor call: it can poll is_canceled(); get says cancelled."""
    @ray.remote(max_concurrency=2)
    class A:
        def __init__(self):
            self.started, self.polls = False, None

        def long(self):
            self.started = True
            for i in range(100):
                time.sleep(0.1)
                if ray.get_runtime_context().is_canceled():
                    self.polls = i
                    return "stopped"
            return "ran to the end"

        def has_started(self):
            return self.started

        def saw_cancel(self):
            return self.polls is not None

    a = A.remote()
    ref = a.long.remote()
    for _ in range(600):
        if ray.get(a.has_started.remote()):
            break
        time.sleep(0.05)
    ray.cancel(ref)
    with pytest.raises(ray.exceptions.TaskCancelledError):
        ray.get(ref, timeout=60)
    assert ray.get(a.saw_cancel.remote())


def test_is_canceled_is_for_workers_and_not_async_actors(ray):
    with pytest.raises(RuntimeError, match="only available when the process is a worker"):
        ray.get_runtime_context().is_canceled()

    @ray.remote
    class A:
        async def check(self):
            try:
                ray.get_runtime_context().is_canceled()
            except RuntimeError as e:
                return str(e)

    assert ray.get(A.remote().check.remote()) == "This method is not supported in an async actor."


def test_a_method_is_called_even_if_an_attribute_shadows_its_name(ray):
    @ray.remote
    class A:
        def __init__(self):
            self.value = 1

        def value(self):  # noqa: F811 (the point of the test)
            return "method"

    assert ray.get(A.remote().value.remote()) == "method"


@pytest.mark.parametrize("kind", ["async", "threaded"])
def test_concurrency_groups_limit_their_own_calls(ray, backend, kind, now):
    """A group of 2 runs 2 of its calls at once, whatever the other groups do."""
    if kind == "async":
        @ray.remote(concurrency_groups={"io": 2, "compute": 4})
        class A:
            @ray.method(concurrency_group="io")
            async def io(self):
                await asyncio.sleep(0.5)
                return 1

            @ray.method(concurrency_group="compute")
            async def compute(self):
                await asyncio.sleep(0.5)
                return 1

            async def ready(self):
                return 1
    else:
        @ray.remote(concurrency_groups={"io": 2, "compute": 4})
        class A:
            @ray.method(concurrency_group="io")
            def io(self):
                time.sleep(0.5)
                return 1

            @ray.method(concurrency_group="compute")
            def compute(self):
                time.sleep(0.5)
                return 1

            def ready(self):
                return 1

    a = A.remote()
    ray.get(a.ready.remote())
    t0 = now()
    assert sum(ray.get([a.io.remote() for _ in range(4)] + [a.compute.remote() for _ in range(4)])) == 8
    took = now() - t0
    # io: 4 calls, 2 at a time (1.0 s); compute: 4 at once (0.5 s), beside them.
    assert 1.0 <= took <= (1.0 if backend == "sim" else 3.5)
    t0 = now()
    ray.get([a.compute.options(concurrency_group="io").remote() for _ in range(4)])
    assert 1.0 <= now() - t0 <= (1.0 if backend == "sim" else 3.5)
