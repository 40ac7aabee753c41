"""A generator with a number for num_returns, on both backends: each value is stored as it is yielded.

Ray's worker stores a generator task's returns one by one as the generator
yields them, so when it raises partway, the refs of the values already
yielded resolve and only the rest carry the error; an error after the last
return is only logged; too few values fail the refs left over.
"""

from __future__ import annotations

import pytest


def test_the_values_yielded_before_the_error_resolve(ray):
    @ray.remote(num_returns=3)
    def gen():
        yield 1
        raise ValueError("boom")

    first, second, third = gen.remote()
    assert ray.get(first) == 1
    for ref in (second, third):
        with pytest.raises(ray.exceptions.RayTaskError) as info:
            ray.get(ref)
        assert isinstance(info.value, ValueError) and "boom" in str(info.value)


def test_options_num_returns_on_a_generator_function(ray):
    # Ray's generator.py documentation example: 2 of 4 values, then the error.
    @ray.remote
    def gen():
        for i in range(2):
            yield i
        raise Exception("error")

    ref1, ref2, ref3, ref4 = gen.options(num_returns=4).remote()
    assert ray.get([ref1, ref2]) == [0, 1]
    with pytest.raises(Exception, match="error"):
        ray.get([ref3, ref4])


def test_an_error_after_the_last_return_is_dropped(ray):
    @ray.remote(num_returns=3)
    def gen():
        yield from (1, 2, 3)
        raise ValueError("late")

    assert ray.get(list(gen.remote())) == [1, 2, 3]


def test_too_few_values_fail_the_refs_left_over(ray):
    @ray.remote(num_returns=3)
    def gen():
        yield 1

    first, *rest = gen.remote()
    assert ray.get(first) == 1
    for ref in rest:
        with pytest.raises(ValueError, match=r"Task returned 1 objects, but num_returns=3\."):
            ray.get(ref)


def test_an_actor_method_generator_stores_its_values_too(ray):
    @ray.remote
    class Source:
        @ray.method(num_returns=3)
        def gen(self):
            yield "a"
            yield "b"
            raise KeyError("c")

    s = Source.remote()
    a, b, c = s.gen.remote()
    assert ray.get([a, b]) == ["a", "b"]
    with pytest.raises(KeyError):
        ray.get(c)
    ray.kill(s)


@pytest.mark.filterwarnings("ignore:num_returns='dynamic' is deprecated")
def test_a_dynamic_generator_keeps_its_error_in_its_last_ref(ray):
    @ray.remote(num_returns="dynamic")
    def gen():
        yield 0
        yield 1
        raise Exception("error")

    dynamic_ref = gen.remote()
    ref1, ref2, ref3 = ray.get(dynamic_ref)
    assert ray.get([ref1, ref2]) == [0, 1]
    with pytest.raises(Exception, match="error"):
        ray.get(ref3)
