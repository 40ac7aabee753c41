"""Generators on both backends: a remote generator streams its values as ObjectRefs while it runs (Ray 2.60's default).

The "while it runs" tests hold the generator on a gate actor, so they decide
the order of events without depending on how fast either backend is.
"""

from __future__ import annotations

import asyncio
import time

import pytest


@pytest.fixture
def gate(ray, names):
    """An actor a generator waits on (`ray.get(g.passed.remote())`) until the driver opens it."""

    @ray.remote
    class Gate:
        def __init__(self):
            self.open = False

        def set(self):
            self.open = True

        def passed(self):
            return self.open

    g = Gate.options(name=names("gate")).remote()
    return g


@pytest.fixture
def count(ray):
    @ray.remote
    def count(n, fail_at=None):
        for i in range(n):
            if i == fail_at:
                raise ValueError(f"boom at {i}")
            yield i

    return count


def test_a_remote_generator_returns_an_object_ref_generator(ray, count):
    gen = count.remote(3)
    assert isinstance(gen, ray.ObjectRefGenerator)
    refs = list(gen)
    assert all(isinstance(r, ray.ObjectRef) for r in refs)
    assert ray.get(refs) == [0, 1, 2]
    with pytest.raises(StopIteration):
        next(gen)
    assert gen.is_finished() and not gen.next_ready()
    assert ray.get(gen.completed()) is None
    assert ray.get(gen) is gen  # Ray 2.60 hands the generator back
    assert list(count.options(num_returns="streaming").remote(2)) != []
    assert list(count.remote(0)) == []


def test_values_stream_while_the_generator_still_runs(ray, gate):
    @ray.remote
    def two(gate):
        yield "first"
        while not ray.get(gate.passed.remote()):  # (inline: real Ray's workers cannot import this file)
            time.sleep(0.05)
        yield "second"

    gen = two.remote(gate)
    first = next(gen)
    assert ray.get(first) == "first"
    assert not gen.next_ready()
    ready, _ = ray.wait([gen.completed()], timeout=0.5)
    assert ready == []  # the task is still running
    ray.get(gate.set.remote())
    assert ray.get(next(gen)) == "second"
    assert list(gen) == []


def test_an_error_surfaces_at_the_item_after_the_last_value(ray, count):
    gen = count.remote(5, fail_at=2)
    assert [ray.get(next(gen)) for _ in range(2)] == [0, 1]
    bad = next(gen)
    assert bad != gen.completed()  # the error is the stream's next object; the task itself is done
    with pytest.raises(ray.exceptions.RayTaskError) as info:
        ray.get(bad)
    assert isinstance(info.value, ValueError) and "boom at 2" in str(info.value)
    with pytest.raises(StopIteration):
        next(gen)
    assert gen.is_finished()
    assert ray.get(gen.completed()) is None


def test_ray_wait_on_generators_waits_for_their_next_value(ray, gate, count):
    @ray.remote
    def late(gate):
        while not ray.get(gate.passed.remote()):
            time.sleep(0.05)
        yield 1

    gen = late.remote(gate)
    assert ray.wait([gen], timeout=0.5) == ([], [gen])
    ray.get(gate.set.remote())
    assert ray.wait([gen], timeout=60) == ([gen], [])
    assert ray.get(next(gen)) == 1
    done = count.remote(1)
    ref = next(done)
    ready, rest = ray.wait([gen, ref, done], num_returns=3, timeout=60)  # generators and refs mix
    assert ready == [gen, ref, done] and rest == []  # (an ended stream is ready: next() returns at once)
    with pytest.raises(TypeError, match="got a single ray.ObjectRef or ray.ObjectRefGenerator"):
        ray.wait(gen)


def test_cancelling_a_generator_ends_its_stream_with_the_cancel(ray, gate):
    @ray.remote
    def stalls(gate):
        yield 0
        while not ray.get(gate.passed.remote()):  # (never opened)
            time.sleep(0.05)

    gen = stalls.remote(gate)
    assert ray.get(next(gen)) == 0
    ray.cancel(gen)
    last = next(gen)
    with pytest.raises(ray.exceptions.TaskCancelledError):
        ray.get(last)
    with pytest.raises(StopIteration):
        next(gen)


def test_dynamic_returns_one_ref_to_all_the_refs(ray, count):
    ref = count.options(num_returns="dynamic").remote(3)
    assert isinstance(ref, ray.ObjectRef)
    inner = ray.get(ref)
    assert type(inner).__name__ == "DynamicObjectRefGenerator"
    assert len(inner) == 3
    assert [ray.get(r) for r in inner] == [0, 1, 2]


def test_a_fixed_num_returns_splits_the_generator(ray, count):
    refs = count.options(num_returns=3).remote(3)
    assert ray.get(refs) == [0, 1, 2]


def test_actor_generator_methods_stream_too(ray):
    @ray.remote
    class Sync:
        def items(self, n):
            for i in range(n):
                yield i * 10

    @ray.remote
    class Async:
        async def items(self, n):
            for i in range(n):
                await asyncio.sleep(0.01)
                yield i * 100

    s, a = Sync.remote(), Async.remote()
    gen = s.items.remote(3)
    assert isinstance(gen, ray.ObjectRefGenerator)
    assert [ray.get(r) for r in gen] == [0, 10, 20]
    assert [ray.get(r) for r in a.items.remote(3)] == [0, 100, 200]
    ray.kill(s)
    ray.kill(a)


def test_async_for_reads_a_generator_in_the_driver(ray, count):
    async def main():
        out = []
        async for ref in count.remote(3):
            out.append(await ref)
        return out

    assert asyncio.run(main()) == [0, 1, 2]


def test_a_generator_cannot_be_passed_to_a_task(ray, count):
    @ray.remote
    def f(x):
        return x

    gen = count.remote(1)
    with pytest.raises(TypeError):
        f.remote(gen)
    assert [ray.get(r) for r in gen] == [0]
