"""The alpha-beta model of all-reduce: payload bytes per node and seconds, from first principles.

A message of n bytes costs alpha + n / beta: alpha the one-way latency,
beta the bandwidth of a node's link. The simulated network refines this in
one way the formulas follow: a link sends one transfer at a time, but it is
free for the next one as soon as the last byte has left (the latency is paid
in flight, not on the link), so transfers queued on one link cost n / beta
each and a single alpha. For M bytes of array on each of N workers:

| algorithm | payload sent by the busiest node | seconds |
|---|---|---|
| naive (gather to rank 0, broadcast) | (N-1) M (rank 0) | 2 (alpha + (N-1) M / beta) |
| ps, k shards (push, pull) | N M / k (each server) | 2 (alpha + N M / (k beta)) |
| tree (binomial reduce, broadcast) | ceil(log2 N) M | 2 ceil(log2 N) (alpha + M / beta) |
| ring (reduce-scatter, all-gather) | 2 (N-1) / N x M | 2 (N-1) (alpha + M / (N beta)) |

The ring is bandwidth-optimal: every node sends the same 2(N-1)/N x M,
which does not grow with N, while one server carries 2 N M (N pushes, N
pulls) and k shards 2 N M / k each. Pieces are counted exactly, so arrays
that do not divide evenly are handled too; `header` adds the bytes each
transfer carries besides the array (its pickle header) to explain the
measured time.
"""

from __future__ import annotations

import math

from dsai.parallel.placement import CollectiveError

__all__ = ["ALGORITHMS", "payload_sent_max", "carried_max", "server_payload", "seconds"]

ALGORITHMS = ("naive", "ps", "tree", "ring")


def _pieces(elements: int, parts: int) -> list[int]:
    q, r = divmod(elements, parts)
    return [q + (1 if i < r else 0) for i in range(parts)]


def _check(algorithm: str, workers: int, shards: int) -> None:
    if algorithm not in ALGORITHMS:
        raise CollectiveError(f"unknown all-reduce algorithm {algorithm!r}; choose one of {', '.join(ALGORITHMS)}")
    if workers < 1:
        raise CollectiveError(f"an all-reduce needs at least 1 worker, got {workers}")
    if algorithm == "ps" and shards < 1:
        raise CollectiveError(f"a parameter server needs at least 1 shard, got shards={shards}")


def payload_sent_max(algorithm: str, workers: int, elements: int, itemsize: int, shards: int = 1) -> int:
    """Array bytes sent by the node that sends the most (ranks and servers alike)."""
    _check(algorithm, workers, shards)
    n, m = workers, elements * itemsize
    if n == 1 and algorithm != "ps":
        return 0
    if algorithm == "naive":
        return (n - 1) * m
    if algorithm == "tree":
        return math.ceil(math.log2(n)) * m
    if algorithm == "ring":
        # Rank i sends every chunk but its own in reduce-scatter and every chunk
        # but its right neighbour's in all-gather: 2M - c_i - c_{i+1}.
        c = _pieces(elements, n)
        return max(2 * elements - c[i] - c[(i + 1) % n] for i in range(n)) * itemsize
    c = _pieces(elements, shards)  # ps: a rank pushes M; server s pulls out N c_s
    return max(m, n * max(c) * itemsize)


def carried_max(algorithm: str, workers: int, elements: int, itemsize: int, shards: int = 1) -> int:
    """Array bytes through the busiest node's link, sent plus received: ring 4(N-1)/N x M,
    naive 2(N-1) M (rank 0), tree 2 ceil(log2 N) M (rank 0), ps max(2M, 2NM/k)."""
    _check(algorithm, workers, shards)
    n, m = workers, elements * itemsize
    if n == 1 and algorithm != "ps":
        return 0
    if algorithm == "naive":
        return 2 * (n - 1) * m
    if algorithm == "tree":
        return 2 * math.ceil(math.log2(n)) * m
    if algorithm == "ring":
        # Rank i sends all chunks but c_i and c_{i+1}, and receives all but c_{i-1} and c_i.
        c = _pieces(elements, n)
        return max(4 * elements - 2 * c[i] - c[(i + 1) % n] - c[i - 1] for i in range(n)) * itemsize
    return max(2 * m, server_payload(n, elements, itemsize, shards))


def server_payload(workers: int, elements: int, itemsize: int, shards: int = 1) -> int:
    """Array bytes through the busiest server's link in one step: 2 N M / k (push and pull)."""
    _check("ps", workers, shards)
    return 2 * workers * max(_pieces(elements, shards)) * itemsize


def seconds(algorithm: str, workers: int, elements: int, itemsize: int, *, alpha: float,
            beta: float, shards: int = 1, header: float = 0.0) -> float:
    """The alpha-beta time of one all-reduce; `header` bytes ride with every transfer."""
    _check(algorithm, workers, shards)
    n, m = workers, elements * itemsize + header
    if n == 1 and algorithm != "ps":
        return 0.0
    if algorithm == "naive":
        return 2 * (alpha + (n - 1) * m / beta)
    if algorithm == "tree":
        return 2 * math.ceil(math.log2(n)) * (alpha + m / beta)
    if algorithm == "ring":
        chunk = max(_pieces(elements, n)) * itemsize + header
        return 2 * (n - 1) * (alpha + chunk / beta)
    piece = max(_pieces(elements, shards)) * itemsize + header
    # The busiest link of each phase: a server's (N pieces) or a rank's (k pieces).
    return 2 * (alpha + max(n, shards) * piece / beta)
