"""Serialization boundary: what crosses between workers is bytes, never a shared object.

Values are pickled (protocol 5, numpy buffers out of band, like Ray) when
they are put or passed to a task, and unpickled afresh for every reader:
a task cannot mutate its caller's objects, and numpy arrays arrive
read-only, backed by the stored buffer. cloudpickle handles what plain
pickle cannot (lambdas, closures, classes defined in a notebook), as in Ray.
"""

from __future__ import annotations

import pickle
from typing import Any

import cloudpickle

__all__ = ["Serialized", "serialize", "serialize_scalar", "deserialize", "SCALARS", "SerializationError"]

class SerializationError(TypeError):
    pass


class Serialized:
    """A value as it sits in an object store: pickle bytes plus raw buffers."""

    __slots__ = ("data", "buffers", "nbytes", "refs", "plain")

    def __init__(self, data: bytes, buffers: list, refs: tuple = (), plain: Any = None) -> None:
        self.data = data
        self.buffers = buffers
        self.nbytes = len(data) + sum(b.nbytes for b in buffers) if buffers else len(data)
        self.refs = refs  # the ObjectRefs pickled inside: held while the value exists
        self.plain = plain  # a _Plain: a small immutable value readers may share

    def __repr__(self) -> str:
        return f"Serialized({self.nbytes} bytes, {len(self.buffers)} buffers)"


_dumps = pickle.dumps
CONTAINED: list | None = None  # while pickling: the ObjectRefs met (ObjectRef.__reduce__ adds them)
TROUBLESHOOTING = ("Check https://docs.ray.io/en/master/ray-core/objects/serialization.html"
                   "#troubleshooting for more information.")


class _Plain:
    """A small immutable scalar kept beside its pickle: every reader would
    unpickle an equal value that nobody can mutate, so it is handed out as is."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


SCALARS = frozenset({bytes, str, int, bool, float, type(None)})
_PLAIN_MAX = 1024  # bytes of pickle; bigger values are unpickled per reader as usual
_known: dict[tuple[type, Any], Serialized] = {}  # the same small result, returned again and again
_KNOWN_MAX = 4096


def serialize_scalar(value: Any, t: type) -> Serialized:
    """`serialize` for a value of a type in SCALARS (`t`, its type), which cannot fail."""
    key = (t, value)
    s = _known.get(key) if t is not float else None  # -0.0 == 0.0: floats are never shared
    if s is None:
        data = _dumps(value, protocol=5)
        if len(data) > _PLAIN_MAX:
            return Serialized(data, ())
        s = Serialized(data, (), plain=_Plain(value))
        if t is not float and len(_known) < _KNOWN_MAX:
            _known[key] = s
    return s


def serialize(value: Any, what: str = "the object") -> Serialized:
    """Pickle `value`; on failure raise TypeError with `what` (e.g. "the put value")."""
    t = type(value)
    if t in SCALARS:
        return serialize_scalar(value, t)
    global CONTAINED
    buffers: list = []
    outer, CONTAINED = CONTAINED, []
    try:
        try:
            data = _dumps(value, protocol=5, buffer_callback=buffers.append)
        except (pickle.PicklingError, AttributeError, TypeError):
            buffers, CONTAINED = [], []
            data = cloudpickle.dumps(value, protocol=5, buffer_callback=buffers.append)
    except Exception as e:
        raise SerializationError(
            f"Could not serialize {what} {value!r}: {e}. Everything sent to or returned from a "
            "task is pickled: create locks, sockets and file handles inside the task instead. "
            + TROUBLESHOOTING) from e
    finally:
        refs, CONTAINED = tuple(CONTAINED), outer
    # Copy each buffer once into immutable bytes: later writes by the caller do
    # not reach the store, and readers get zero-copy, read-only numpy arrays.
    if not buffers:
        return Serialized(data, (), refs)
    return Serialized(data, tuple(memoryview(bytes(b.raw())) for b in buffers), refs)




def deserialize(s: Serialized) -> Any:
    plain = s.plain
    if plain is not None:
        return plain.value
    return pickle.loads(s.data, buffers=s.buffers)
