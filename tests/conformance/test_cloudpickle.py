"""`from ray import cloudpickle`: cloudpickle's API, and refs pickled with it keep their objects (out-of-band serialization).

Ray pins the object of a ref serialized with `ray.cloudpickle` for the lifetime
of the worker that serialized it, so the bytes can be loaded and the ref used
after every other reference was dropped.
"""

from __future__ import annotations

import importlib


def test_ray_cloudpickle_is_importable_and_pickles_what_pickle_cannot(ray):
    cloudpickle = importlib.import_module(ray.__name__ + ".cloudpickle")
    assert ray.cloudpickle is cloudpickle
    square = cloudpickle.loads(cloudpickle.dumps(lambda x: x * x))
    assert square(7) == 49
    for name in ("dumps", "loads", "dump", "load", "CloudPickler", "register_pickle_by_value"):
        assert hasattr(cloudpickle, name)


def test_a_ref_pickled_with_ray_cloudpickle_keeps_its_object(ray):
    @ray.remote
    def make_and_pickle():
        ref = ray.put("kept")  # its only reference dies with this call...
        return ray.cloudpickle.dumps(ref)

    blob = ray.get(make_and_pickle.remote())
    ref = ray.cloudpickle.loads(blob)
    assert ray.get(ref, timeout=30) == "kept"  # ...but ray.cloudpickle pinned the object


def test_driver_refs_pickled_with_ray_cloudpickle_survive_del(ray):
    ref = ray.put([1, 2, 3])
    blob = ray.cloudpickle.dumps({"ref": ref})
    del ref
    import gc

    gc.collect()
    assert ray.get(ray.cloudpickle.loads(blob)["ref"], timeout=30) == [1, 2, 3]
