"""Conformance: arguments and results cross a serialization boundary; refs in arguments."""

import asyncio
import threading

import numpy as np
import pytest

SMALL, LARGE = 10, 200_000  # LARGE (1.6 MB) goes to the shared-memory store on real Ray


def test_task_cannot_mutate_callers_objects(ray):
    @ray.remote
    def mutate(xs, d):
        xs.append(99)
        d["new"] = 1
        return len(xs), sorted(d)

    xs, d = [1, 2], {"a": 0}
    assert ray.get(mutate.remote(xs, d)) == (3, ["a", "new"])
    assert xs == [1, 2] and d == {"a": 0}


def test_put_is_a_copy(ray):
    xs = [1, 2]
    ref = ray.put(xs)
    xs.append(3)
    assert ray.get(ref) == [1, 2]
    got = ray.get(ref)
    got.append(4)
    assert ray.get(ref) == [1, 2]  # each get deserializes afresh


@pytest.mark.parametrize("n", [SMALL, LARGE], ids=["small", "large"])
def test_numpy_from_put_is_read_only(ray, n):
    arr = np.arange(n, dtype=np.float64)
    got = ray.get(ray.put(arr))
    assert not got.flags.writeable
    np.testing.assert_array_equal(got, arr)
    with pytest.raises(ValueError, match="read-only"):
        got[0] = 1.0
    assert arr.flags.writeable  # the caller's own array is untouched
    nested = ray.get(ray.put([arr, {"k": arr}]))
    assert not nested[0].flags.writeable and not nested[1]["k"].flags.writeable


@pytest.mark.parametrize("n", [SMALL, LARGE], ids=["small", "large"])
def test_numpy_task_args_and_results_are_read_only(ray, n):
    @ray.remote
    def flags(x):
        if isinstance(x, list):
            return [a.flags.writeable for a in x]
        return x.flags.writeable

    @ray.remote
    def make(n):
        return np.zeros(n)

    @ray.remote
    def make_list(n):
        return [np.zeros(n)]

    arr = np.zeros(n)
    assert ray.get(flags.remote(arr)) is False
    assert ray.get(flags.remote([arr])) == [False]
    assert ray.get(flags.remote(ray.put(arr))) is False
    assert ray.get(make.remote(n)).flags.writeable is False
    assert ray.get(make_list.remote(n))[0].flags.writeable is False
    copy = ray.get(make.remote(n)).copy()
    copy[0] = 1.0  # the documented fix: copy, then write


def test_unpicklable_argument_fails_at_submit(ray):
    @ray.remote
    def f(x):
        return 1

    with pytest.raises(TypeError, match="Could not serialize the argument"):
        f.remote(threading.Lock())
    with pytest.raises(TypeError, match="Could not serialize the put value"):
        ray.put(threading.Lock())


def test_unpicklable_result_is_a_task_error(ray):
    @ray.remote
    def f():
        return threading.Lock()

    with pytest.raises(TypeError, match="cannot pickle '_thread.lock' object") as info:
        ray.get(f.remote())
    assert isinstance(info.value, ray.exceptions.RayTaskError)


def test_top_level_refs_resolved_nested_refs_passed(ray):
    @ray.remote
    def inspect(x, xs, d):
        return type(x).__name__, [type(v).__name__ for v in xs], type(d["r"]).__name__, ray.get(xs[0])

    r = ray.put(7)
    assert ray.get(inspect.remote(r, [r], {"r": r})) == ("int", ["ObjectRef"], "ObjectRef", 7)


def test_task_result_refs_as_arguments(ray):
    @ray.remote
    def inc(x):
        return x + 1

    ref = inc.remote(0)
    for _ in range(5):
        ref = inc.remote(ref)
    assert ray.get(ref) == 6


def test_failed_dependency_nested_in_list_is_not_raised_by_the_task(ray):
    @ray.remote
    def bad():
        raise ValueError("no")

    @ray.remote
    def count(xs):
        return len(xs)

    assert ray.get(count.remote([bad.remote()])) == 1  # nested refs are not resolved


# ----------------------------------------------------------------- ObjectRef


def test_object_ref_repr_and_hex(ray):
    ref = ray.put(5)
    h = ref.hex()
    assert isinstance(h, str) and len(h) == 56
    int(h, 16)
    assert repr(ref) == f"ObjectRef({h})"
    (same,), _ = ray.wait([ref])
    assert same == ref and hash(same) == hash(ref) and same != ray.put(5)
    assert isinstance(ref, ray.ObjectRef)


def test_object_ref_future(ray):
    @ray.remote
    def f(x):
        return x * 2

    fut = f.remote(21).future()
    assert fut.result(timeout=10) == 42

    @ray.remote
    def bad():
        raise ValueError("f")

    with pytest.raises(ValueError):
        bad.remote().future().result(timeout=10)


def test_await_object_ref(ray):
    @ray.remote
    def f(x):
        return x + 1

    async def main():
        a = await f.remote(1)
        b, c = await asyncio.gather(f.remote(10), f.remote(20))
        return a, b, c

    assert asyncio.run(main()) == (2, 11, 21)


SCALARS = [b"ok", b"x" * 5000, "text", 0, 1, True, False, 10**30, -0.0, 0.0, 1.5, None]


def test_scalars_keep_type_and_value(ray):
    @ray.remote
    def echo(x):
        return x

    for x in SCALARS:
        for got in (ray.get(echo.remote(x)), ray.get(ray.put(x))):
            assert type(got) is type(x) and got == x, (x, got)
            if isinstance(x, float):
                assert str(got) == str(x)  # -0.0 stays negative
    nan = ray.get(echo.remote(float("nan")))
    assert nan != nan
