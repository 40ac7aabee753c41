"""Ray's identifiers as objects: a job, node, task or actor is named by an ID of fixed size, shown in hex.

Ray's deprecated `RuntimeContext` properties (`node_id`, `job_id`, `task_id`,
`actor_id`) return these objects, where the `get_*_id()` methods return the
hex strings. They compare and hash by value, as Ray's do.
"""

from __future__ import annotations

__all__ = ["BaseID", "JobID", "NodeID", "TaskID", "ActorID"]


class BaseID:
    """An ID of `SIZE` bytes; `nil()` is all 0xff, as in Ray."""

    SIZE = 0
    __slots__ = ("_bytes",)

    def __init__(self, id_bytes: bytes) -> None:
        if not isinstance(id_bytes, bytes) or len(id_bytes) != self.SIZE:
            raise ValueError(f"{type(self).__name__} needs {self.SIZE} bytes, got {id_bytes!r}")
        self._bytes = id_bytes

    @classmethod
    def from_hex(cls, hex_id: str) -> "BaseID":
        return cls(bytes.fromhex(hex_id))

    @classmethod
    def nil(cls) -> "BaseID":
        return cls(b"\xff" * cls.SIZE)

    def is_nil(self) -> bool:
        return self._bytes == b"\xff" * self.SIZE

    def binary(self) -> bytes:
        return self._bytes

    def hex(self) -> str:
        return self._bytes.hex()

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._bytes == self._bytes

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._bytes))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.hex()})"

    __str__ = __repr__


class JobID(BaseID):
    SIZE = 4


class NodeID(BaseID):
    SIZE = 28


class TaskID(BaseID):
    SIZE = 24


class ActorID(BaseID):
    SIZE = 16
