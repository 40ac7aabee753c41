"""`ray._raylet`'s ref and generator types, which Ray's own documentation imports, are the ones `ray` exports."""

from __future__ import annotations

import importlib


def test_raylet_exports_the_ref_and_generator_types(ray):
    raylet = importlib.import_module(ray.__name__ + "._raylet")

    @ray.remote
    def numbers():
        yield 1
        yield 2

    gen = numbers.remote()
    assert raylet.ObjectRefGenerator is ray.ObjectRefGenerator
    assert raylet.StreamingObjectRefGenerator is ray.ObjectRefGenerator
    assert raylet.ObjectRef is ray.ObjectRef
    assert isinstance(gen, raylet.ObjectRefGenerator)
    assert [ray.get(ref) for ref in gen] == [1, 2]
