"""Out-of-band serialization: `ray.cloudpickle` pickles anything cloudpickle can, and pins the objects of the refs it pickles.

Ray counts references to an object to know when to free it; a ref pickled
by user code (out of band) escapes that count. Ray's answer for refs pickled
with `ray.cloudpickle` is to pin their objects for the lifetime of the
worker that pickled them (here: until `ray.shutdown()`), so loading the
bytes later still finds the object. A ref pickled with plain `pickle` is not
pinned, in Ray or here. Everything else is the `cloudpickle` package's API.
"""

from __future__ import annotations

import io
from typing import Any

import cloudpickle as _cloudpickle
from cloudpickle import load, loads, register_pickle_by_value, unregister_pickle_by_value  # noqa: F401

from dsai.mockray import session
from dsai.mockray.object_ref import ObjectRef

__all__ = ["CloudPickler", "Pickler", "dumps", "dump", "loads", "load", "register_pickle_by_value",
           "unregister_pickle_by_value", "pin"]


def pin(ref: ObjectRef) -> None:
    """Keep `ref`'s object until the session ends (one more reference that is never dropped)."""
    rt = session.runtime_or_none()
    if rt is None or rt.objects.get(ref._id) is None:
        return  # nothing to pin: not of this cluster, or freed already
    rt.entry(ref).nrefs += 1


class CloudPickler(_cloudpickle.CloudPickler):
    """cloudpickle's pickler, pinning the object of every ObjectRef it pickles."""

    def reducer_override(self, obj: Any) -> Any:
        if type(obj) is ObjectRef:
            pin(obj)
        return super().reducer_override(obj)


Pickler = CloudPickler


def dump(obj: Any, file: Any, protocol: int | None = None, buffer_callback: Any = None) -> None:
    CloudPickler(file, protocol=protocol, buffer_callback=buffer_callback).dump(obj)


def dumps(obj: Any, protocol: int | None = None, buffer_callback: Any = None) -> bytes:
    with io.BytesIO() as f:
        CloudPickler(f, protocol=protocol, buffer_callback=buffer_callback).dump(obj)
        return f.getvalue()
