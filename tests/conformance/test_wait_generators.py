"""`ray.wait` on many generators, on both backends: a generator is ready when `next()` would not block, now.

The simulator answers a driver's repeated `ray.wait` on the list it returned
last from memory (dsai/mockray/wait_list.py, from 32 items on). A
generator's next object changes when the driver reads one with `next()`,
so that memory must not answer for the object the generator waited for
when the list was made.
"""

from __future__ import annotations

N = 65  # over the simulator's 32-item threshold, and over 64


def test_wait_sees_each_generator_advanced_by_next(ray):
    @ray.remote(max_concurrency=N + 1)
    class Streams:
        def __init__(self):
            import asyncio

            self.go = asyncio.Event()

        async def stream(self, i):
            yield i
            await self.go.wait()
            yield i + 100

        async def open(self):
            self.go.set()

    s = Streams.remote()
    gens = [s.stream.remote(i) for i in range(N)]
    ready, rest = ray.wait(gens, num_returns=1, timeout=60)
    assert len(ready) == 1 and len(rest) == N - 1
    assert [ray.get(next(g)) for g in rest] == [i for i in range(N) if gens[i] is not ready[0]]
    # Every generator in `rest` now waits for its second value, which is held back.
    again, still = ray.wait(rest, num_returns=1, timeout=0)
    assert again == [] and still == rest
    ray.get(s.open.remote())
    done, left = ray.wait(rest, num_returns=len(rest), timeout=60)
    assert len(done) == N - 1 and left == []
    assert sorted(ray.get(next(g)) for g in done) == sorted(i + 100 for i in range(N)
                                                            if gens[i] is not ready[0])
    ray.kill(s)
