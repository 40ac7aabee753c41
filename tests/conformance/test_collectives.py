"""Conformance: dsai.parallel's ring all-reduce over actors, the same code on both backends.

The sum is checked on both; the traffic and virtual time need the simulator's
network counters and clock, so those cases are simulator-only.
"""

import numpy as np
import pytest

from dsai.parallel import CollectiveGroup, allreduce, reduce_scatter, split_bounds


def _arrays(n, elements):
    rng = np.random.default_rng(7)
    return [rng.integers(-9, 9, elements).astype(np.float64) for _ in range(n)]


def test_ring_allreduce_sums_into_every_rank(ray):
    n, elements = 3, 30_001  # uneven chunks
    group = CollectiveGroup(n)
    xs = _arrays(n, elements)
    group.load(xs)
    run = allreduce(group, "ring")
    assert run.algorithm == "ring" and run.workers == n and run.seconds >= 0
    for v in group.values():
        np.testing.assert_array_equal(v, np.sum(xs, axis=0))
    rs = reduce_scatter(group)  # on the summed buffers: chunk i of n times the sum
    for i, (lo, hi) in enumerate(split_bounds(elements, n)):
        np.testing.assert_array_equal(ray.get(rs.refs[i]), n * np.sum(xs, axis=0)[lo:hi])
    for r in group.ranks:
        ray.kill(r)


@pytest.mark.sim_only(reason="network byte counters and the virtual clock exist only in the simulator")
@pytest.mark.own_cluster
def test_ring_allreduce_traffic_and_time_match_theory(bare_ray):
    from dsai.parallel import start_cluster, theory

    n, elements = 4, 2**17
    start_cluster(n, latency=1e-4, bandwidth=1.25e9)
    group = CollectiveGroup(n)
    group.load(_arrays(n, elements))
    run = allreduce(group, "ring")
    for t in run.traffic:
        assert t.payload_sent == 2 * (n - 1) * elements * 8 // n
        assert t.transfers_sent == 2 * (n - 1)
    # Plus one alpha: the driver's calls reach the ranks first (their specs add < 1 us).
    assert run.seconds == pytest.approx(1e-4 + theory.seconds(
        "ring", n, elements, 8, alpha=1e-4, beta=1.25e9, header=run.header_per_transfer), abs=1e-6)
