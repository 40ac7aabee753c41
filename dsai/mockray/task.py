"""A task: one invocation of a remote function or actor method, from submission to result.

States: `waiting` (for its argument objects), `queued` (for resources),
`fetching` (its large arguments are crossing the network), `running`, then
`finished`, `failed` or `cancelled`. A retry sends a task back to `waiting`.
"""

from __future__ import annotations

from typing import Any, Callable

from dsai.mockray.object_ref import ObjectEntry, ObjectRef
from dsai.mockray.serialization import Serialized, deserialize, serialize

__all__ = ["Task", "pack_args", "unpack_args", "DONE_STATES"]

DONE_STATES = ("finished", "failed", "cancelled")
JOB_ID = bytes.fromhex("01000000")  # the one job: the driver's
NO_ACTOR = b"\xff" * 12  # the actor part of a task id for a plain task (Ray's layout)


class _Slot:
    """Stands in a pickled argument list for a top-level ObjectRef, resolved at run time."""

    __slots__ = ("i",)

    def __init__(self, i: int) -> None:
        self.i = i

    def __reduce__(self):
        return (_Slot, (self.i,))


def pack_args(args: tuple, kwargs: dict, what: str) -> tuple[Serialized | None, list[ObjectRef]]:
    """Serialize call arguments; top-level refs are pulled out to be resolved."""
    if not args and not kwargs:
        return None, []
    refs: list[ObjectRef] = []

    def slot(v: Any) -> Any:
        if type(v) is ObjectRef:
            refs.append(v)
            return _Slot(len(refs) - 1)
        return v

    a = tuple(slot(v) for v in args)
    k = {key: slot(v) for key, v in kwargs.items()}
    try:
        return serialize((a, k)), refs
    except TypeError:
        for v in (*a, *k.values()):  # name the argument that cannot cross, as Ray does
            serialize(v, f"the argument (for a task or actor {what})")
        raise


def unpack_args(blob: Serialized | None, values: list[Any]) -> tuple[tuple, dict]:
    if blob is None:
        return (), {}
    a, k = deserialize(blob)
    if values:
        a = tuple(values[v.i] if type(v) is _Slot else v for v in a)
        k = {key: (values[v.i] if type(v) is _Slot else v) for key, v in k.items()}
    return a, k


class Task:
    """A unit of remote work and the bookkeeping Ray keeps for it."""

    # Fields read for every task are slots, set in __init__ (a million tasks are
    # submitted in the scale benchmark); rarely used ones live in a lazily
    # created __dict__ and default to the class attributes below.
    __slots__ = ("seq", "id", "name", "fn", "args_blob", "arg_entries", "returns", "num_returns",
                 "demand", "hold", "max_retries", "retry_exceptions", "retries_left", "attempt",
                 "state", "node", "proc", "actor", "method", "caller_node", "strategy", "start",
                 "worker", "kind", "rt", "shape", "unreleased", "children", "cancel_requested",
                 "released_cpu", "__dict__")

    deps_pending = 0
    pg = None  # its placement group binding (placement_groups.Binding), if it runs in one
    stream = None  # a generator task's stream of yielded objects (generator.Stream)

    def __init__(self, rt: Any, seq: int, task_id: bytes, name: str, fn: Callable[..., Any] | None,
                 args_blob: Serialized | None, arg_refs: "list[ObjectRef] | tuple", num_returns: int,
                 demand: dict[str, float], kind: str = "task", max_retries: int = 0,
                 retry_exceptions: Any = False, caller_node: int = 0, strategy: Any = None,
                 actor: Any = None, method: str | None = None, shape: tuple | None = None) -> None:
        self.rt = rt
        self.seq = seq
        self.id = task_id
        self.name = name
        self.fn = fn
        self.args_blob = args_blob
        if arg_refs:
            self.arg_entries: tuple[ObjectEntry, ...] = tuple(rt.entry(r) for r in arg_refs)
            for e in self.arg_entries:
                e.nrefs += 1  # held until this task's lineage is no longer needed
        else:
            self.arg_entries = ()
        self.unreleased = num_returns  # returns someone may still ask for (or rebuild)
        self.returns: tuple[ObjectEntry, ...] = ()
        self.num_returns = num_returns
        self.demand = self.hold = demand  # placement needs `demand` free; the task holds `hold`
        self.max_retries = self.retries_left = max_retries  # -1: forever
        self.retry_exceptions = retry_exceptions
        self.attempt = 0
        self.state = "new"
        self.node: Any = None  # the NodeState (scheduler.py) it runs on, once placed
        self.proc: Any = None
        self.actor = actor
        self.method = method
        self.caller_node = caller_node
        self.strategy = strategy
        self.start = 0.0
        self.worker = -1
        self.kind = kind  # "task", "actor_creation", "actor_task"
        self.shape = shape  # scheduler queue key, precomputed by the caller
        # (Rarely set, but read for every task: slots, faster to read than class defaults.)
        self.children: list[Task] | None = None  # tasks it submitted (for recursive cancel)
        self.cancel_requested = False
        self.released_cpu = False

    def release_args(self) -> None:
        """Done, and nobody can ask for its results again: its arguments are
        no longer needed to rebuild them."""
        for e in self.drop_args():
            e.release()

    def drop_args(self) -> list[ObjectEntry]:
        """Let go of the arguments; the ones nothing else refers to now (to release)."""
        self.unreleased = -1
        freed = []
        for e in self.arg_entries:
            e.nrefs -= 1
            if not e.nrefs:
                freed.append(e)
        return freed

    @property
    def task_id_hex(self) -> str:
        return self.id.hex()

    @property
    def done(self) -> bool:
        return self.state in DONE_STATES

    def preferred_nodes(self) -> list[Any]:
        """Nodes to try first: where most argument bytes are, then the caller's."""
        rt = self.rt
        best, best_bytes = None, 0
        for e in self.arg_entries:
            if e.value is not None and not rt.is_inline(e) and e.locations:
                nb = e.value.nbytes
                if nb > best_bytes:
                    best, best_bytes = e.locations[0], nb
        out = []
        if best is not None:
            out.append(rt.nodes[best])
        caller = rt.nodes[self.caller_node]
        if caller not in out:
            out.append(caller)
        return out

    def add_child(self, task: "Task") -> None:
        if self.children is None:
            self.children = []
        self.children.append(task)

    def retryable(self, error: BaseException | None) -> bool:
        """Whether a failure may be retried: system failures always, app errors if asked."""
        if self.retries_left == 0:
            return False
        if error is None:
            return True
        re = self.retry_exceptions
        if re is True:
            return isinstance(error, Exception)
        if isinstance(re, (list, tuple)):
            return isinstance(error, tuple(re))
        return False

    def __repr__(self) -> str:
        where = f" on {self.node.name}" if self.node is not None else ""
        return f"Task({self.name}, {self.state}{where}, attempt={self.attempt})"
