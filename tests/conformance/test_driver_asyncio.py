"""Conformance: the driver waits on refs with asyncio and concurrent.futures, and the cluster keeps working.

On the simulator the figures are virtual seconds; real Ray's are wall
seconds, checked with generous upper bounds. Each test warms a worker first
so real Ray's worker start-up stays out of the figures.
"""

import asyncio
import concurrent.futures as cf
import threading
import time

import pytest


@pytest.fixture
def slow(ray):
    @ray.remote
    def slow(s):
        time.sleep(s)
        return s

    ray.get([slow.remote(0) for _ in range(4)])  # workers up
    return slow


def test_wait_for_and_timeout_fire_while_a_ref_is_awaited(ray, slow):
    async def main():
        out = []
        try:
            await asyncio.wait_for(slow.remote(3), 0.5)
        except asyncio.TimeoutError:
            out.append("wait_for")
        try:
            async with asyncio.timeout(0.5):
                await slow.remote(3)
        except TimeoutError:
            out.append("timeout")
        out.append(await asyncio.wait_for(slow.remote(0.1), 5))
        return out

    assert asyncio.run(main()) == ["wait_for", "timeout", 0.1]


def test_wait_first_completed(ray, slow):
    async def main():
        fast, late = asyncio.ensure_future(slow.remote(0)), asyncio.ensure_future(slow.remote(2))
        done, pending = await asyncio.wait([fast, late], return_when=asyncio.FIRST_COMPLETED)
        return done == {fast}, pending == {late}

    assert asyncio.run(main()) == (True, True)


def test_as_completed_yields_in_finishing_order(ray, slow):
    async def main():
        # (gaps of 2 s: real Ray's workers can start a second apart on a loaded machine)
        return [await c for c in asyncio.as_completed([slow.remote(4), slow.remote(2), slow.remote(0)])]

    assert asyncio.run(main()) == [0, 2, 4]


def test_two_coroutines_awaiting_refs_overlap(ray, slow, backend, now):
    async def main():
        finished = []

        async def one(s):
            finished.append(await slow.remote(s))

        t0 = now()
        await asyncio.gather(one(2), one(1))
        return finished, now() - t0

    finished, took = asyncio.run(main())
    assert finished == [1, 2]
    assert 2.0 <= took <= (2.0 if backend == "sim" else 5.0)


def test_a_heartbeat_keeps_ticking_during_an_await(ray, slow, backend):
    async def main():
        ticks = 0

        async def heartbeat():
            nonlocal ticks
            while True:
                await asyncio.sleep(0.1)
                ticks += 1

        beat = asyncio.create_task(heartbeat())
        t0 = time.monotonic()
        await slow.remote(1)
        beat.cancel()
        return ticks, time.monotonic() - t0

    ticks, took = asyncio.run(main())
    if backend == "sim":
        assert ticks == 10
    else:  # (the await takes 1 s plus a loaded machine's overheads: at most one tick per 0.1 s)
        assert 3 <= ticks <= took / 0.1 + 1


def test_ref_future_settles_under_concurrent_futures(ray, slow):
    futures = [slow.remote(s).future() for s in (2, 1, 0)]
    assert [f.result() for f in cf.as_completed(futures, timeout=60)] == [0, 1, 2]
    done, not_done = cf.wait([slow.remote(0).future(), slow.remote(30).future()],
                             return_when=cf.FIRST_COMPLETED, timeout=60)
    assert len(done) == 1 and len(not_done) == 1
    f = slow.remote(0.5).future()
    seen = threading.Event()
    f.add_done_callback(lambda _: seen.set())
    assert f.result(timeout=60) == 0.5
    assert seen.is_set()


def test_wrap_future_in_the_drivers_loop(ray, slow):
    async def main():
        return await asyncio.wrap_future(slow.remote(0.5).future())

    assert asyncio.run(main()) == 0.5


def test_get_from_another_thread_of_a_ready_ref(ray, slow):
    ref = slow.remote(0)
    ray.get(ref)
    with cf.ThreadPoolExecutor(2) as pool:
        assert list(pool.map(ray.get, [ref, ref])) == [0, 0]


@pytest.mark.sim_only(reason="Real Ray would wait forever")
def test_awaiting_a_ref_that_can_never_be_ready_raises(ray):
    @ray.remote
    class Stuck:
        async def forever(self):
            await asyncio.Event().wait()  # nobody will set it

    ref = Stuck.remote().forever.remote()

    async def main():
        return await ref

    with pytest.raises(ray.exceptions.SimulationDeadlockError, match="Stuck.forever"):
        asyncio.run(main())
    with pytest.raises(ray.exceptions.SimulationDeadlockError, match="Stuck.forever"):
        ray.get(ref)


def test_killing_an_async_actor_leaves_the_drivers_loop_running(ray):
    # (Jupyter's kernel runs every cell on its asyncio loop: losing it left the kernel deaf)
    @ray.remote
    class Sleeper:
        async def nap(self, s):
            await asyncio.sleep(s)
            return s

    async def main():
        a = Sleeper.remote()
        assert await a.nap.remote(0.1) == 0.1
        busy = a.nap.remote(30)  # killed while its coroutine awaits
        ray.kill(a)
        with pytest.raises(ray.exceptions.RayActorError):
            await busy
        return asyncio.get_running_loop() is not None

    assert asyncio.run(main())
