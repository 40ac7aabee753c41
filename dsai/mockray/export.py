"""Function export: a remote function or actor class reaches the workers as pickled once, not as the driver's live object.

Ray pickles a remote function (with cloudpickle) the first time it is
called with `.remote()` in a cluster, and an actor class the first time an
actor of it is created; workers run what they unpickled. The decorated
function or class is never found under its own name (the module attribute
is the wrapper `ray.remote` returned), so cloudpickle always pickles it BY
VALUE: its code, its closure's contents and the module globals it reads, as
they were at that moment. A later `g = 4` in the driver does not reach it,
nor does a later mutation of a list it read; helpers it calls that are
defined in `__main__` (a script, a notebook) are pickled by value too, with
their own globals. Functions, classes and modules of importable modules are
pickled by reference: the worker imports them.

Here the copy is made the same way, once per function or class and cluster
(re-exported after `ray.shutdown()` and `ray.init()`, as Ray does), and
every task or actor of it runs the copy. What stays shared with the driver:
modules and functions of importable modules (a Ray worker imports its own
copy of the module and sees its import-time state, not the driver's later
rebinding: not followed, see docs/ray_behaviour.md), every class other than
the exported one (so `isinstance` agrees with instances passed as
arguments), and Ray handles (remote functions, actor classes and handles,
ObjectRefs), which name the same thing on both sides anyway, and code objects
(immutable; shared, a traceback names the function's file and line as Ray's does).
"""

from __future__ import annotations

import io
import pickle
import types
import weakref
from typing import Any

import cloudpickle
from cloudpickle import cloudpickle as _cp

from dsai.mockray.object_ref import ObjectRef
from dsai.mockray.serialization import TROUBLESHOOTING, SerializationError

__all__ = ["Export", "export_copy", "shared_by_identity"]


# Types passed by identity (see the module doc). Ray's handle types add themselves with
# `shared_by_identity` (importing them here would make an import cycle: they export).
_SHARED: list[type] = [types.ModuleType, types.CodeType, type, ObjectRef]


def shared_by_identity(cls: type) -> type:
    """Class decorator: export passes instances of `cls` by identity, never copies them."""
    _SHARED.append(cls)
    return cls


class _ExportPickler(cloudpickle.Pickler):
    """cloudpickle, except that what stays shared (see the module doc) is passed by identity."""

    def __init__(self, file: Any, root: Any, shared_types: tuple[type, ...]) -> None:
        super().__init__(file, protocol=5)
        self.root = root
        self.shared_types = shared_types
        self.shared: list[Any] = []

    def persistent_id(self, obj: Any) -> Any:
        if obj is self.root:
            return None
        if isinstance(obj, self.shared_types):
            self.shared.append(obj)
            return len(self.shared) - 1
        return None

    def reducer_override(self, obj: Any) -> Any:
        if obj is self.root and isinstance(obj, type) and not _cp._should_pickle_by_reference(obj):
            # cloudpickle tracks classes it pickled by value so that loading one in the
            # process that pickled it returns the original, and then overwrites the
            # original's methods with the loaded ones: the copy must be a class of its own.
            reduced = list(_cp._dynamic_class_reduce(obj))
            newargs = list(reduced[1])
            newargs[4] = None  # no class tracker id
            reduced[1] = tuple(newargs)
            return tuple(reduced)
        return super().reducer_override(obj)


class _ExportUnpickler(pickle.Unpickler):
    def __init__(self, file: Any, shared: list[Any]) -> None:
        super().__init__(file)
        self.shared = shared

    def persistent_load(self, pid: Any) -> Any:
        return self.shared[pid]


def export_copy(obj: Any, what: str) -> Any:
    """`obj` (a function or class) as a worker would unpickle it now."""
    f = io.BytesIO()
    p = _ExportPickler(f, obj, tuple(_SHARED))
    try:
        p.dump(obj)
    except Exception as e:
        raise SerializationError(
            f"Could not serialize the {what}: {e}. A remote function or actor class is pickled "
            "with the module globals it reads; create locks, sockets and file handles inside "
            "the task or actor instead. " + TROUBLESHOOTING) from e
    f.seek(0)
    return _ExportUnpickler(f, p.shared).load()


class Export:
    """The copy of one function or class the workers of one cluster run (shared by its `.options()`)."""

    __slots__ = ("obj", "what", "runtime", "copy")

    def __init__(self, obj: Any, what: str) -> None:
        self.obj = obj
        self.what = what
        self.runtime: Any = None  # a weak reference to the cluster the copy was made for
        self.copy: Any = None

    def get(self, rt: Any) -> Any:
        """The copy for cluster `rt`, made on its first use there (pickled once, as Ray exports once)."""
        r = self.runtime
        if r is not None and r() is rt:
            return self.copy
        self.copy = export_copy(self.obj, self.what)
        self.runtime = weakref.ref(rt)
        return self.copy

    def __repr__(self) -> str:
        return f"Export({self.what}, {'exported' if self.runtime is not None else 'not exported yet'})"
