"""Garbage-collector policy: keep a long simulation's bookkeeping out of the collector's scans.

(One process holds what Ray spreads over many: see `GCPolicy`.)
"""

from __future__ import annotations

import gc

__all__ = ["GCPolicy", "gc_policy"]


class GCPolicy:
    """Keep long-lived simulation state out of the garbage collector's scans.

    In Ray, workers are other processes, so their bookkeeping never burdens
    the driver's collector; here everything shares one heap, and CPython's
    full collections rescan every live object, so without this the cost per
    task would grow with the number of tasks run. So at a driver `get`/`wait`
    once 1,024 units of work (tasks run, objects put) have been done since the
    last time, and every 16k tasks within one, the objects alive so far are
    frozen (`gc.freeze()`, O(1)); when the work done has grown fourfold since
    the last full collection, the frozen objects are given back and collected
    once. That is amortized O(1) per object: 1 + 1/4 + 1/16 + ... = 4/3 scans
    each; cyclic garbage waits at most one such growth.

    While a cluster runs, the youngest generation is collected after 20,000
    allocations instead of 700: the objects of a batch of calls (a task, its
    entry, its ref) then mostly die before a collection scans them. A ref kept
    alive only by a reference cycle is freed when the collector finds the
    cycle, so later than with the default. A threshold of 0 (collection off)
    is left alone, and `ray.shutdown()` restores the old one unless the
    program changed it since.
    """

    GEN0 = 20_000

    def __init__(self) -> None:
        self.collected_at = 0
        self.frozen_at = -1024
        self.saved: tuple[int, int, int] | None = None  # the thresholds before `start`

    def start(self) -> None:
        if self.saved is None:
            saved = gc.get_threshold()
            if 0 < saved[0] < self.GEN0:
                self.saved = saved
                gc.set_threshold(self.GEN0, *saved[1:])

    def checkpoint(self, work: int) -> None:
        if work < self.frozen_at + 1024:
            return  # young objects are cheap to scan; a get per task need not freeze each time
        self.frozen_at = work
        if work > 4 * max(self.collected_at, 25_000):
            gc.unfreeze()
            gc.collect()
            self.collected_at = work
        gc.freeze()

    def release(self) -> None:
        if self.saved is not None:
            if gc.get_threshold() == (self.GEN0, *self.saved[1:]):  # (not changed since by the program)
                gc.set_threshold(*self.saved)
            self.saved = None
        gc.unfreeze()
        self.collected_at, self.frozen_at = 0, -1024



gc_policy = GCPolicy()  # one per process: the collector's thresholds are global
