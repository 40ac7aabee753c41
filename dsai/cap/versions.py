"""Versioned values: how replicas decide which of two copies of a key is newer.

Three orders, one per family of modes:

* a *counter* version, assigned by the key's single leader (cp): a total
  order that matches real time, because one node hands the numbers out;
* a *timestamp* (local clock, node id, sequence) for last-writer-wins
  (ap-lww, dynamo): a total order that matches real time only if the clocks
  do; a skewed clock lets an older write beat a newer one;
* a *version vector* (ap-vv): a partial order; two writes neither of which
  has seen the other are concurrent and both are kept, as siblings.

Every stored value also carries `history`, the ids of all writes it has seen
(its causal history). Version vectors are exactly a compression of causal
histories; here the full set is kept as *ghost state*, never counted as
bytes on the wire, so the run can count acknowledged writes a mode lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Cell", "EMPTY", "dominates", "merge_siblings", "vv_join", "resolve"]


@dataclass(frozen=True)
class Cell:
    """One stored copy of a key's value, with the version that orders it."""

    version: Any  # int (cp), (clock, node, seq) (lww), tuple of ints (vv)
    value: Any = None
    wid: int | None = None  # id of the write that produced it (None: the initial value)
    history: frozenset = frozenset()  # ghost: ids of every write this value has seen

    def __repr__(self) -> str:
        return f"Cell({self.value!r} @ {self.version!r}, w{self.wid})"


EMPTY = Cell(0)


def dominates(a: tuple, b: tuple) -> bool:
    """Version vector `a` has seen everything `b` has, and more."""
    return a != b and all(x >= y for x, y in zip(a, b))


def vv_join(vvs: list[tuple], n: int) -> tuple:
    """The smallest version vector that has seen all of `vvs`."""
    out = [0] * n
    for vv in vvs:
        for i, x in enumerate(vv):
            if x > out[i]:
                out[i] = x
    return tuple(out)


def merge_siblings(a: tuple, b: tuple) -> tuple:
    """Union two sibling sets and drop every sibling another one dominates (sorted, so stable)."""
    by_vv = {c.version: c for c in a}
    for c in b:
        by_vv.setdefault(c.version, c)
    cells = list(by_vv.values())
    kept = [c for c in cells if not any(dominates(o.version, c.version) for o in cells)]
    return tuple(sorted(kept, key=lambda c: c.version))


def resolve(siblings: tuple) -> Cell:
    """The one sibling a client shows as 'the' value: the last in version-vector order.

    A linearizable register never holds two values, so a read that returns
    siblings cannot be written as a register read; the client picks one by a
    fixed rule (and the run counts the reads that saw siblings).
    """
    return siblings[-1] if siblings else EMPTY
