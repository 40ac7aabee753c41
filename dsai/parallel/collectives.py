"""Collectives over actors: all-reduce four ways (naive, parameter server, tree, ring),
reduce-scatter and all-gather, each measured as it runs.

Every algorithm is a schedule of the four rank steps of `dsai.parallel.group`:
the driver submits the whole schedule at once, wiring each step's result (an
`ObjectRef` on the rank's node) into the next rank's step, so the work is
pure dataflow: a step runs when the piece it needs has crossed the network.
The ring follows NCCL's: in reduce-scatter, at step s rank i passes chunk
(i-1-s) mod N to rank i+1, which adds its own; after N-1 steps rank i holds
the sum of chunk i. All-gather then passes the finished chunks around the
ring N-1 more times. Each rank sends 2(N-1) chunks of M/N bytes.

`allreduce(group, algorithm)` runs one, waits for it without pulling any
array to the driver, and returns an `AllReduceRun`: the virtual seconds it
took, and per node the payload it sent (from the group's ledger) beside the
bytes the network counted.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from dsai import ray
from dsai.parallel.group import CollectiveGroup, Server, split_bounds
from dsai.parallel.placement import CollectiveError, node_names, pin, simulated, worker_nodes
from dsai.parallel.theory import ALGORITHMS
from dsai.parallel.traffic import INLINE_LIMIT, Ledger, NodeTraffic, counters, diff

__all__ = ["ALGORITHMS", "AllReduceRun", "allreduce", "reduce_scatter", "all_gather",
           "ring_reduce_scatter", "ring_all_gather", "naive_allreduce", "tree_allreduce",
           "ring_allreduce", "ps_allreduce", "measure"]

Refs = list  # of ObjectRef, one per rank: the rank's last step


# --------------------------------------------------------------------------- schedules


def ring_reduce_scatter(group: CollectiveGroup) -> Refs:
    """Rank i ends holding the sum of chunk i; returns the refs of those chunks."""
    n, ranks = group.world_size, group.ranks
    chunk = split_bounds(group.elements, n)
    held = [(i - 1) % n for i in range(n)]  # the chunk rank i passes on next
    out = [ranks[i].piece.remote(*chunk[held[i]]) for i in range(n)]
    if n == 1:
        return out
    for _ in range(n - 1):
        step = []
        for i in range(n):
            left = (i - 1) % n
            group.hand_over(left, i, *chunk[held[left]])
            step.append(ranks[i].reduce.remote(*chunk[held[left]], out[left]))
        out, held = step, [held[(i - 1) % n] for i in range(n)]
    return out


def ring_all_gather(group: CollectiveGroup, start: Refs | None = None) -> Refs:
    """Rank i contributes chunk i of its buffer (`start[i]`, a ref to it, if given);
    afterwards every rank's buffer holds every rank's chunk."""
    n, ranks = group.world_size, group.ranks
    chunk = split_bounds(group.elements, n)
    held = list(range(n))
    out = list(start) if start is not None else [ranks[i].piece.remote(*chunk[i]) for i in range(n)]
    for _ in range(n - 1):
        step = []
        for i in range(n):
            left = (i - 1) % n
            group.hand_over(left, i, *chunk[held[left]])
            step.append(ranks[i].assign.remote(*chunk[held[left]], out[left]))
        out, held = step, [held[(i - 1) % n] for i in range(n)]
    return out


def ring_allreduce(group: CollectiveGroup) -> Refs:
    """Reduce-scatter, then all-gather: 2(N-1) steps of M/N bytes per rank."""
    return ring_all_gather(group, ring_reduce_scatter(group))


def naive_allreduce(group: CollectiveGroup) -> Refs:
    """Everyone sends the whole array to rank 0, which sums and sends the total back."""
    n, ranks, m = group.world_size, group.ranks, group.elements
    pieces = []
    for i in range(1, n):
        group.hand_over(i, 0, 0, m)
        pieces.append(ranks[i].piece.remote(0, m))
    total = ranks[0].reduce.remote(0, m, *pieces)
    out = [total]
    for i in range(1, n):
        group.hand_over(0, i, 0, m)
        out.append(ranks[i].assign.remote(0, m, total))
    return out


def tree_allreduce(group: CollectiveGroup) -> Refs:
    """Binomial tree: in round d rank i+d sends its partial sum to rank i (i a multiple
    of 2d), up to rank 0; the total comes back down the same tree."""
    n, ranks, m = group.world_size, group.ranks, group.elements
    out: list[Any] = [None] * n

    def held(i: int) -> Any:
        if out[i] is None:
            out[i] = ranks[i].piece.remote(0, m)
        return out[i]

    d = 1
    while d < n:
        for i in range(0, n, 2 * d):
            if i + d < n:
                group.hand_over(i + d, i, 0, m)
                out[i] = ranks[i].reduce.remote(0, m, held(i + d))
        d *= 2
    while d > 1:
        d //= 2
        for i in range(0, n, 2 * d):
            if i + d < n:
                group.hand_over(i, i + d, 0, m)
                out[i + d] = ranks[i + d].assign.remote(0, m, held(i))
    return [held(i) for i in range(n)]


def ps_allreduce(group: CollectiveGroup, servers: list[Any], server_nodes: list[str]) -> Refs:
    """Every rank pushes piece s of its array to server s, which sums the N pieces;
    every rank pulls every server's sum back (k servers: k pieces of M/k)."""
    ranks, k = group.ranks, len(servers)
    shard = split_bounds(group.elements, k)
    totals = []
    for s, (lo, hi) in enumerate(shard):
        pushed = []
        for i, r in enumerate(ranks):
            group.hand_over(i, server_nodes[s], lo, hi)
            pushed.append(r.piece.remote(lo, hi))
        totals.append(servers[s].total.remote(*pushed))
    out = []
    for i, r in enumerate(ranks):
        for s, (lo, hi) in enumerate(shard):
            group.hand_over(server_nodes[s], i, lo, hi)
            last = r.assign.remote(lo, hi, totals[s])
        out.append(last)
    return out


# --------------------------------------------------------------------------- measured runs


@dataclass
class AllReduceRun:
    """One measured collective: what it cost, per node, beside what it computed."""

    algorithm: str
    workers: int
    shards: int  # parameter-server shards (0 for algorithms without servers)
    elements: int
    itemsize: int
    seconds: float  # virtual seconds on the simulator, wall seconds on real Ray
    traffic: list[NodeTraffic]
    inline: bool  # some piece was under Ray's inline limit: wire bytes are not comparable
    refs: Refs = field(repr=False, default_factory=list)

    @property
    def payload_bytes(self) -> int:
        """M: the bytes of one rank's array."""
        return self.elements * self.itemsize

    @property
    def payload_sent_max(self) -> int:
        return max((t.payload_sent for t in self.traffic), default=0)

    @property
    def wire_sent_max(self) -> int | None:
        sent = [t.wire_sent for t in self.traffic if t.wire_sent is not None]
        return max(sent) if sent else None

    @property
    def server_payload_max(self) -> int:
        """Payload in and out of the busiest server (0 without servers)."""
        return max((t.payload_sent + t.payload_received for t in self.traffic
                    if t.role.startswith("server")), default=0)

    @property
    def header_per_transfer(self) -> float | None:
        """Wire bytes beyond the payload, per transfer: the pickle header of one piece."""
        if self.wire_sent_max is None:
            return None
        transfers = sum(t.transfers_sent or 0 for t in self.traffic)
        extra = sum(t.wire_sent - t.payload_sent for t in self.traffic)
        return extra / transfers if transfers else 0.0

    def __repr__(self) -> str:
        shards = f", {self.shards} shards" if self.shards else ""
        return (f"AllReduceRun({self.algorithm}, {self.workers} workers{shards}, "
                f"{self.payload_bytes:,} bytes each: {self.seconds * 1e3:.3f} ms, busiest node sent "
                f"{self.payload_sent_max:,} payload bytes)")


def _start_servers(group: CollectiveGroup, shards: int, server_nodes: list[str] | None) -> tuple[list, list[str]]:
    if isinstance(shards, bool) or not isinstance(shards, int) or shards < 1:
        raise CollectiveError(f"a parameter server needs at least 1 shard, got shards={shards!r}")
    if shards > group.elements:
        raise CollectiveError(f"{shards} shards for {group.elements} elements: each shard must own at "
                              f"least one element; use at most {group.elements} shards")
    if server_nodes is None:
        free = [n for n in worker_nodes() if n not in group.nodes] or worker_nodes()
        server_nodes = [free[s % len(free)] for s in range(shards)]
    if len(server_nodes) != shards:
        raise CollectiveError(f"{shards} shards need {shards} server node IDs, got {len(server_nodes)}")
    servers = [Server.options(**pin(n)).remote() for n in server_nodes]
    ray.get([s.total.remote(0) for s in servers])  # started before the clock is read
    return servers, list(server_nodes)


def allreduce(group: CollectiveGroup, algorithm: str = "ring", *, shards: int = 1,
              server_nodes: list[str] | None = None) -> AllReduceRun:
    """Sum the ranks' arrays into every rank with `algorithm` (one of ALGORITHMS), measured.

    Afterwards every rank holds the sum (`group.values()`). `shards` and
    `server_nodes` apply to "ps" (default: servers on nodes no rank uses).
    """
    if algorithm not in ALGORITHMS:
        raise CollectiveError(f"unknown all-reduce algorithm {algorithm!r}; choose one of {', '.join(ALGORITHMS)}")
    if algorithm != "ps" and (shards != 1 or server_nodes is not None):
        raise CollectiveError(f"shards and server_nodes apply to algorithm='ps' only, not {algorithm!r}")
    servers, snodes = _start_servers(group, shards, server_nodes) if algorithm == "ps" else ([], [])
    schedule: Callable[[], Refs] = {
        "naive": lambda: naive_allreduce(group),
        "tree": lambda: tree_allreduce(group),
        "ring": lambda: ring_allreduce(group),
        "ps": lambda: ps_allreduce(group, servers, snodes),
    }[algorithm]
    run = measure(group, schedule, algorithm, snodes)
    for s in servers:  # a server lives for one all-reduce; the ranks hold the result
        ray.kill(s)
    return run


def reduce_scatter(group: CollectiveGroup) -> AllReduceRun:
    """Ring reduce-scatter, measured: rank i ends with the sum of chunk i of every array
    (`run.refs[i]`); each rank sends (N-1)/N x M."""
    return measure(group, lambda: ring_reduce_scatter(group), "reduce-scatter")


def all_gather(group: CollectiveGroup) -> AllReduceRun:
    """Ring all-gather, measured: rank i contributes chunk i of its array, and every
    rank ends with all chunks; each rank sends (N-1)/N x M."""
    return measure(group, lambda: ring_all_gather(group), "all-gather")


def measure(group: CollectiveGroup, schedule: Callable[[], Refs], name: str = "custom",
            server_nodes: Sequence[str] = ()) -> AllReduceRun:
    """Run `schedule()` (it submits rank steps and returns one ref per rank, each the
    rank's last step) and measure it: counters before and after, virtual seconds, and
    the payload the schedule wrote with `group.hand_over` (a schedule that writes
    nothing there has only its wire bytes measured)."""
    group._need_load()
    names = node_names()
    roles = {node: f"rank {i}" for i, node in enumerate(group.node_name)}
    for s, n in enumerate(server_nodes):
        roles.setdefault(names.get(n, n), f"server {s}")
    group.ledger = Ledger()
    before, t0 = counters(), _clock()
    refs = schedule()
    # Wait where the results are: fetch_local=False pulls no array to the driver.
    ray.wait(refs, num_returns=len(refs), fetch_local=False)
    seconds, after = _clock() - t0, counters()
    # The smallest piece moved decides whether pieces travel inline (a guess for custom schedules).
    parts = 1 if name in ("naive", "tree") else len(server_nodes) or group.world_size
    smallest = min(hi - lo for lo, hi in split_bounds(group.elements, parts)) * group.itemsize
    return AllReduceRun(name, group.world_size, len(server_nodes), group.elements, group.itemsize,
                        seconds, diff(before, after, group.ledger, roles), smallest < INLINE_LIMIT, refs)


def _clock() -> float:
    if simulated():
        import dsai.sim

        return dsai.sim.now()
    return time.perf_counter()
