"""A collective group: N worker actors, one per node, each holding one array to combine.

Every rank is an actor pinned to its own node. It keeps its array as a flat,
writable buffer and offers four small steps that every algorithm is built
from: hand out a piece (`piece`), add a received piece into its own
(`reduce`), overwrite a piece with a received one (`assign`), and return the
whole buffer (`value`). A received piece arrives as an `ObjectRef` argument,
so Ray fetches it from the node that made it: that fetch is the network
traffic, and it happens whether the backend is the simulator or real Ray.

The driver only wires refs from one rank's step to another's and writes each
hand-over into the group's `Ledger` (which piece, from which node, to which).
It never fetches an array itself while an operation runs.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from dsai import ray
from dsai.parallel.placement import CollectiveError, node_names, pin, simulated, worker_nodes
from dsai.parallel.traffic import Ledger

__all__ = ["Rank", "Server", "CollectiveGroup", "split_bounds"]


def split_bounds(elements: int, parts: int) -> list[tuple[int, int]]:
    """[lo, hi) element ranges cutting `elements` into `parts` contiguous pieces, the
    first ones one element longer when it does not divide (as numpy.array_split)."""
    q, r = divmod(elements, parts)
    bounds, lo = [], 0
    for i in range(parts):
        hi = lo + q + (1 if i < r else 0)
        bounds.append((lo, hi))
        lo = hi
    return bounds


@ray.remote
class Rank:
    """One member of a collective: its array, as a flat buffer it updates in place."""

    def __init__(self, rank: int) -> None:
        self.rank = rank
        self.buf: np.ndarray | None = None
        self.shape: tuple[int, ...] = ()

    def load(self, value: Any) -> tuple[tuple[int, ...], str]:
        # Arrays arrive read-only (they are the sender's bytes): keep a writable copy.
        arr = np.array(value, copy=True)
        self.shape = arr.shape
        self.buf = arr.reshape(-1)
        return arr.shape, arr.dtype.str

    def piece(self, lo: int, hi: int) -> np.ndarray:
        return self.buf[lo:hi].copy()

    def reduce(self, lo: int, hi: int, *incoming: np.ndarray) -> np.ndarray:
        """Add received pieces into [lo, hi); return the sum, the piece to pass on."""
        for x in incoming:
            self.buf[lo:hi] += x
        return self.buf[lo:hi].copy()

    def assign(self, lo: int, hi: int, incoming: np.ndarray) -> np.ndarray:
        """Take a finished piece as ours; return it, the piece to pass on."""
        self.buf[lo:hi] = incoming
        return self.buf[lo:hi].copy()

    def value(self) -> np.ndarray:
        return self.buf.reshape(self.shape).copy()


@ray.remote
class Server:
    """A parameter-server shard for all-reduce: sums the pieces the ranks push."""

    def total(self, *pieces: np.ndarray) -> np.ndarray:
        out = np.array(pieces[0], copy=True)
        for p in pieces[1:]:
            out += p
        return out


class CollectiveGroup:
    """`world_size` Rank actors, rank i on `nodes[i]` (default: one node each, driver's excluded).

    >>> group = CollectiveGroup(4)                  # doctest: +SKIP
    >>> group.load([np.ones(3) * i for i in range(4)])   # doctest: +SKIP
    >>> run = allreduce(group, "ring")               # doctest: +SKIP
    """

    def __init__(self, world_size: int, nodes: Sequence[str] | None = None) -> None:
        if isinstance(world_size, bool) or not isinstance(world_size, int) or world_size < 1:
            raise CollectiveError(f"a collective needs at least 1 worker, got world_size={world_size!r}")
        if nodes is None:
            free = worker_nodes()
            nodes = [free[i % len(free)] for i in range(world_size)]
        nodes = list(nodes)
        if len(nodes) != world_size:
            raise CollectiveError(f"{world_size} workers need {world_size} node IDs, got {len(nodes)}: "
                                  "pass one node per rank, or nodes=None to spread them")
        self.world_size = world_size
        self.nodes = nodes
        self._names = node_names()  # node ID -> network_stats key
        self.node_name = [self._names.get(n, n) for n in nodes]
        self.ranks = [Rank.options(**pin(n)).remote(i) for i, n in enumerate(nodes)]
        self.shape: tuple[int, ...] | None = None
        self.dtype: np.dtype | None = None
        self.ledger = Ledger()

    @property
    def elements(self) -> int:
        self._need_load()
        return int(np.prod(self.shape))

    @property
    def itemsize(self) -> int:
        self._need_load()
        return self.dtype.itemsize

    def _need_load(self) -> None:
        if self.shape is None:
            raise CollectiveError("this group holds no arrays yet: call group.load(arrays) first")

    def load(self, values: Sequence[Any]) -> None:
        """Give rank i `values[i]` (an array, or an ObjectRef to one: a ref made on
        rank i's node stays there). All must have one shape and dtype."""
        values = list(values)
        if len(values) != self.world_size:
            raise CollectiveError(f"load needs one array per rank: {self.world_size} ranks, "
                                  f"got {len(values)} arrays")
        infos = ray.get([r.load.remote(v) for r, v in zip(self.ranks, values)])
        shape, dtype = infos[0]
        for i, (s, d) in enumerate(infos):
            if tuple(s) != tuple(shape) or d != dtype:
                raise CollectiveError(f"rank {i} holds an array of shape {tuple(s)} and dtype {d}, rank 0 "
                                      f"one of shape {tuple(shape)} and dtype {dtype}: every rank must "
                                      "contribute an array of the same shape and dtype")
        if np.dtype(dtype).kind not in "iufc":
            raise CollectiveError(f"all-reduce sums numbers; got arrays of dtype {dtype}")
        self.shape, self.dtype = tuple(shape), np.dtype(dtype)

    def hand_over(self, src: int | str, dst: int | str, lo: int, hi: int) -> None:
        """Write in the ledger that piece [lo, hi) goes from `src` to `dst`: a rank
        number or a node ID (a server's)."""
        def name(x: int | str) -> str:
            return self.node_name[x] if isinstance(x, int) else self._names.get(x, x)

        self.ledger.record(name(src), name(dst), (hi - lo) * self.itemsize)

    def value_refs(self) -> list[Any]:
        """A ref per rank to its array now, made on the rank's node: pass ref i to an
        actor on the same node (tensor parallelism, an optimizer step) and no byte moves."""
        return [r.value.remote() for r in self.ranks]

    def values(self) -> list[np.ndarray]:
        """Every rank's array now (fetched to the driver: do it after measuring)."""
        return ray.get(self.value_refs())

    def __repr__(self) -> str:
        held = "empty" if self.shape is None else f"shape {self.shape} {self.dtype}"
        where = "simulator" if simulated() else "real Ray"
        return f"CollectiveGroup({self.world_size} ranks on {len(set(self.nodes))} nodes, {held}, {where})"
