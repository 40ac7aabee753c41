"""The object store: immutable objects kept where they were made, copied over the network to whoever needs them.

Objects smaller than `INLINE_THRESHOLD` travel inside task specs and
replies, as in Ray: they are available everywhere at once and survive node
deaths (their bytes are still counted). Larger objects live in the store of
the node that made them (`ObjectEntry.locations`) and cross the network when
another node needs them: `fetch` queues one transfer per (object, node) and
every caller waiting for it shares it. An object whose every copy died with
its node is LOST; `when_available` and `fetch` rebuild it from lineage
(`_recover` re-runs the task that made it, if its retries allow) or fail it
with `ObjectLostError`.

Part of `Runtime` (runtime.py): this mixin reads `objects`, `nodes`, `sim`
and `clock`, and calls `submit` (submission.py) to re-run a lost object's task.
"""

from __future__ import annotations

from typing import Any, Callable

from dsai.mockray.exceptions import (ObjectLostError, ObjectReconstructionFailedError, RayError,
                                     ReferenceCountingAssertionError)
from dsai.mockray.object_ref import FAILED, LOST, PENDING, READY, ObjectEntry, ObjectRef
from dsai.mockray.serialization import serialize
from dsai.mockray.task import Task
from dsai.sim.process import current_process

__all__ = ["ObjectStore", "INLINE_THRESHOLD"]

INLINE_THRESHOLD = 100 * 1024  # bytes; Ray's max_direct_call_object_size


class _ThenFetch:
    """Callback: once an object is ready, copy it to `node_id`, then call `cb(e)`."""

    __slots__ = ("rt", "node_id", "cb")

    def __init__(self, rt: "ObjectStore", node_id: int, cb: Callable[[ObjectEntry], Any]) -> None:
        self.rt, self.node_id, self.cb = rt, node_id, cb

    def __call__(self, e: ObjectEntry) -> None:
        if self.rt.is_local(e, self.node_id):
            self.cb(e)
        else:
            self.rt.fetch(e, self.node_id, lambda: self.cb(e))



class ObjectStore:
    """The runtime's objects: made, put, looked up, copied between nodes, rebuilt."""

    def new_object(self, object_id: bytes, creator: Task | None, owner_node: int) -> ObjectEntry:
        e = ObjectEntry(object_id, creator, owner_node, self.objects)
        self.objects[object_id] = e
        return e

    def freed(self, object_id: bytes) -> ObjectEntry:
        """An object asked for by id after reference counting freed it: a failed entry."""
        e = self.new_object(object_id, None, 0)
        e.set_error(ReferenceCountingAssertionError(object_id.hex()), 0, self.clock.time)
        return e

    def entry(self, ref: ObjectRef) -> ObjectEntry:
        e = ref._entry
        if e is None:
            e = self.objects.get(ref._id)
            if e is None:
                raise ValueError(f"{ref!r} does not belong to this cluster (was it made before "
                                 "ray.shutdown() or by another ray.init()?)")
            ref._entry = e
            e.nrefs += 1
        return e

    def put(self, value: Any, node_id: int) -> ObjectRef:
        self._put_seq += 1
        oid = self.driver_task_id + (0x80000000 | self._put_seq).to_bytes(4, "little")
        proc = current_process()
        if proc is not None and proc.context is not None:
            oid = proc.context.id + (0x80000000 | self._put_seq).to_bytes(4, "little")
        e = self.new_object(oid, None, node_id)
        s = serialize(value, "the put value")
        e.set_value(s, node_id, self.clock.time)
        return ObjectRef(oid, e)

    def is_inline(self, e: ObjectEntry) -> bool:
        return e.value is not None and e.value.nbytes < INLINE_THRESHOLD

    def is_local(self, e: ObjectEntry, node_id: int) -> bool:
        if e.state is FAILED:
            return True
        if e.state is not READY:
            return False
        return e.value.nbytes < INLINE_THRESHOLD or node_id in e.locations

    def when_available(self, e: ObjectEntry, node_id: int | None, cb: Callable[[ObjectEntry], Any]) -> None:
        """`cb(e)` once `e` is ready or failed and, if `node_id` is given, copied there."""
        if e.state is LOST:
            self._recover(e)  # rebuild it from lineage, or fail it with ObjectLostError
        e.on_done(cb if node_id is None else _ThenFetch(self, node_id, cb))

    def fetch(self, e: ObjectEntry, node_id: int, cb: Callable[[], Any]) -> None:
        """Copy a ready object to `node_id` over the network, then `cb()`."""
        if self.is_local(e, node_id):
            cb()
            return
        if e.state is LOST or e.state is PENDING:
            if e.state is LOST:
                self._recover(e)
            e.on_done(lambda e: self.fetch(e, node_id, cb))
            return
        if e.fetching is None:
            e.fetching = {}
        waiting = e.fetching.get(node_id)
        if waiting is not None:
            waiting.append(cb)
            return
        src = next((n for n in e.locations if self.nodes[n].alive), None)
        if src is None:
            e.state = LOST
            self.fetch(e, node_id, cb)
            return
        e.fetching[node_id] = [cb]
        self.sim.network.transfer(src, node_id, e.value.nbytes, lambda: self._fetched(e, node_id, src))

    def _fetched(self, e: ObjectEntry, node_id: int, src: int) -> None:
        waiting = e.fetching.pop(node_id, []) if e.fetching else []
        if not self.nodes[node_id].alive:
            return  # the tasks that wanted it died with the node
        if not self.nodes[src].alive or e.state is not READY:
            for cb in waiting:  # the source died mid-copy: try another copy
                self.fetch(e, node_id, cb)
            return
        if node_id not in e.locations:
            e.locations += (node_id,)
        for cb in waiting:
            cb()

    def _recover(self, e: ObjectEntry) -> None:
        """Lineage reconstruction: re-run the task that made a lost object, if allowed."""
        creator = e.creator
        if creator is not None and creator.kind == "task" and creator.done and creator.state == "finished":
            if creator.retries_left != 0:
                if creator.retries_left > 0:
                    creator.retries_left -= 1
                for r in creator.returns:
                    if r.state is not PENDING:
                        r.state, r.value, r.locations = PENDING, None, ()
                self.submit(creator)
                return
            err: RayError = ObjectReconstructionFailedError(e.id.hex())
        else:
            err = ObjectLostError(e.id.hex())
        e.error, e.value, e.state = err, None, FAILED
        e._fire()
