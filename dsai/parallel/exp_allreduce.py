"""Experiment: all-reduce algorithms on the simulated network, traffic and time beside theory.

Every worker holds M = 1,048,576 float64 elements (8 MiB). For each
algorithm and N, a fresh cluster (a driver node plus one node per worker and
per server) runs one all-reduce; the row gives the payload the busiest node
sent (from the collective's ledger) beside the formula, the bytes the
network counted (payload plus a pickle header per transfer), the virtual
seconds beside the alpha-beta time, the alpha-beta time once the measured
headers are added (equal to the measurement for every schedule but sharded
servers, whose links queue first come, first served), and the largest
difference of any rank's result from numpy's sum.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dsai.parallel import theory
from dsai.parallel.collectives import AllReduceRun, allreduce
from dsai.parallel.group import CollectiveGroup
from dsai.parallel.placement import start_cluster
from dsai.parallel.report import Column, Progress, Section

__all__ = ["ELEMENTS", "ALPHA", "BETA", "CASES", "measure", "row", "run"]

ELEMENTS = 2**20  # float64 per worker: 8 MiB, so even 1/8 of it travels as a transfer
ALPHA, BETA = 1e-4, 1.25e9  # 100 us one way, 10 Gbit/s per link
# (algorithm, workers, shards): ring and every algorithm at N = 2, 4, 8; sharded servers at N = 4.
CASES = [(a, n, 1) for a in ("ring", "naive", "tree", "ps") for n in (2, 4, 8)] + [("ps", 4, 2), ("ps", 4, 4)]


def measure(algorithm: str, workers: int, shards: int = 1, elements: int = ELEMENTS, *,
            alpha: float = ALPHA, beta: float = BETA, seed: int = 0) -> tuple[AllReduceRun, float]:
    """One all-reduce on a fresh cluster: the run, and max |result - numpy sum| over ranks."""
    servers = shards if algorithm == "ps" else 0
    start_cluster(workers + servers, latency=alpha, bandwidth=beta, seed=seed)
    rng = np.random.default_rng(seed)
    xs = [rng.standard_normal(elements) for _ in range(workers)]
    group = CollectiveGroup(workers)
    group.load(xs)
    r = allreduce(group, algorithm, shards=shards)
    expected = np.sum(xs, axis=0)
    err = max(float(np.max(np.abs(v - expected))) for v in group.values())
    return r, err


def row(r: AllReduceRun, err: float, alpha: float = ALPHA, beta: float = BETA) -> dict[str, Any]:
    """The JSON row of one measured all-reduce, theory beside each measured figure."""
    shards = max(r.shards, 1)
    args = (r.algorithm, r.workers, r.elements, r.itemsize)
    ps = r.algorithm == "ps"
    return {
        "algorithm": r.algorithm,
        "workers": r.workers,
        "shards": r.shards,
        "elements": r.elements,
        "bytes_per_element": r.itemsize,
        "payload_bytes_per_worker_max": r.payload_sent_max,
        "theory_payload_bytes": theory.payload_sent_max(*args, shards=shards),
        "bytes_per_worker_max": r.wire_sent_max,
        "header_bytes_per_transfer": r.header_per_transfer,
        "server_payload_bytes": r.server_payload_max if ps else None,
        "theory_server_payload_bytes": theory.server_payload(r.workers, r.elements, r.itemsize, shards) if ps else None,
        "seconds": r.seconds,
        "theory_seconds": theory.seconds(*args, alpha=alpha, beta=beta, shards=shards),
        # ... plus one alpha: the driver's calls (task specs, messages too) must reach the ranks first.
        "theory_seconds_with_headers": alpha + theory.seconds(*args, alpha=alpha, beta=beta, shards=shards,
                                                              header=r.header_per_transfer or 0.0),
        "alpha_seconds": alpha,
        "beta_bytes_per_second": beta,
        "max_abs_error_vs_numpy": err,
    }


def run(progress: Progress) -> Section:
    rows = []
    for algorithm, n, k in CASES:
        r, err = measure(algorithm, n, k)
        rows.append(row(r, err))
        progress(f"[allreduce] {algorithm:5} N={n} shards={r.shards}: {r.seconds * 1e3:.3f} ms virtual, "
                 f"busiest node sent {r.payload_sent_max:,} payload bytes")
    mb = lambda v: f"{v / 2**20:.3f}"  # noqa: E731  (MiB)
    ms = lambda v: f"{v * 1e3:.4f}"  # noqa: E731
    return Section(
        "allreduce", f"All-reduce of {ELEMENTS:,} float64 per worker (M = {ELEMENTS * 8 / 2**20:g} MiB), "
        f"alpha = {ALPHA * 1e6:g} us, beta = {BETA / 1e9:g} GB/s", rows,
        [Column("algorithm", "algorithm"), Column("workers", "N"), Column("shards", "k"),
         Column("payload_bytes_per_worker_max", "sent MiB", mb),
         Column("theory_payload_bytes", "theory MiB", mb),
         Column("bytes_per_worker_max", "wire MiB", mb),
         Column("header_bytes_per_transfer", "hdr B/xfer", "{:.0f}"),
         Column("server_payload_bytes", "server MiB", mb),
         Column("theory_server_payload_bytes", "2NM/k MiB", mb),
         Column("seconds", "ms", ms), Column("theory_seconds", "alpha-beta ms", ms),
         Column("theory_seconds_with_headers", "+headers ms", ms),
         Column("max_abs_error_vs_numpy", "|err|", "{:.1e}")],
        ["sent: array payload bytes sent by the busiest node (ledger); wire: bytes the network counted "
         "(payload + a pickle header per transfer).",
         "alpha-beta: 2(N-1)(alpha + M/(N beta)) for the ring; +headers: the same with the measured "
         "header bytes per transfer, plus one alpha for the driver's calls to reach the ranks, equal to the measurement except for sharded servers, whose links "
         "book transfers first come, first served (up to N+k-1 pieces queue on a link per phase instead of max(N, k)).",
         "|err|: max difference of any rank's result from numpy's sum (the summation order differs)."])
