"""All-reduce, reduce-scatter and all-gather over actors: results equal numpy's, the payload
each node sends equals the formulas exactly, the wire bytes are the payload plus one pickle
header per transfer (read from the network's counters), and virtual time is the alpha-beta
model's once those headers are counted."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from dsai.parallel import (ALGORITHMS, CollectiveError, CollectiveGroup, all_gather, allreduce,
                           reduce_scatter, split_bounds)
from dsai.parallel import theory
from tests.parallel.conftest import ALPHA, BETA

E = 2**17  # float64 elements: 1 MiB per rank, every ring chunk >= 128 KiB (transferred, not inlined)


def arrays(n: int, elements: int = E, seed: int = 0) -> list[np.ndarray]:
    # Small integers in float64: every summation order gives the exact same sum.
    rng = np.random.default_rng(seed)
    return [rng.integers(-50, 50, elements).astype(np.float64) for _ in range(n)]


def pickle_header(elements: int) -> int:
    """The bytes a transferred piece carries besides its array: its pickle (protocol 5, out of band)."""
    return len(pickle.dumps(np.zeros(elements), protocol=5, buffer_callback=lambda b: None))


def run(cluster, algorithm, n, shards=1, elements=E, seed=0):
    cluster(n + (shards if algorithm == "ps" else 0))
    group = CollectiveGroup(n)
    xs = arrays(n, elements, seed)
    group.load(xs)
    r = allreduce(group, algorithm, shards=shards)
    return r, group, xs


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_every_rank_ends_with_numpys_sum(cluster, algorithm, n):
    r, group, xs = run(cluster, algorithm, n, elements=1000 + n)  # uneven pieces too
    expected = np.sum(xs, axis=0)
    for v in group.values():
        np.testing.assert_array_equal(v, expected)


def test_shapes_and_integer_dtypes_survive(cluster):
    cluster(3)
    group = CollectiveGroup(3)
    xs = [np.arange(12, dtype=np.int32).reshape(3, 4) * (i + 1) for i in range(3)]
    group.load(xs)
    allreduce(group, "ring")
    for v in group.values():
        assert v.shape == (3, 4) and v.dtype == np.int32
        np.testing.assert_array_equal(v, np.arange(12, dtype=np.int32).reshape(3, 4) * 6)


@pytest.mark.parametrize("n", [2, 4, 8])
def test_ring_payload_per_worker_is_two_n_minus_one_over_n_m_exactly(cluster, n):
    r, _, _ = run(cluster, "ring", n)
    m = E * 8
    for t in r.traffic:
        assert t.payload_sent == t.payload_received == 2 * (n - 1) * m // n
        assert t.transfers_sent == t.transfers_received == 2 * (n - 1)  # counted by the network
        # The counters carry exactly one pickle header per transfer on top of the payload.
        assert t.wire_sent == t.payload_sent + 2 * (n - 1) * pickle_header(E // n)
    assert r.payload_sent_max == theory.payload_sent_max("ring", n, E, 8)


@pytest.mark.parametrize("shards", [1, 2, 4])
def test_parameter_server_carries_two_n_m_over_k_per_shard(cluster, shards):
    n, m = 4, E * 8
    r, _, _ = run(cluster, "ps", n, shards=shards)
    servers = [t for t in r.traffic if t.role.startswith("server")]
    assert len(servers) == shards
    for t in servers:
        assert t.payload_received == t.payload_sent == n * m // shards
        assert t.wire_received + t.wire_sent == 2 * n * (m // shards + pickle_header(E // shards))
    assert r.server_payload_max == theory.server_payload(n, E, 8, shards) == 2 * n * m // shards
    for t in r.traffic:
        if t.role.startswith("rank"):
            assert t.payload_sent == t.payload_received == m


@pytest.mark.parametrize("algorithm,n", [("naive", 4), ("tree", 4), ("tree", 8), ("ps", 4)])
def test_payload_of_every_algorithm_equals_theory(cluster, algorithm, n):
    r, _, _ = run(cluster, algorithm, n)
    assert r.payload_sent_max == theory.payload_sent_max(algorithm, n, E, 8)


def test_the_driver_node_carries_no_array(cluster):
    from dsai.parallel.traffic import counters

    cluster(4)
    group = CollectiveGroup(4)
    group.load(arrays(4))
    before = counters()["head"]
    allreduce(group, "ring")
    after = counters()["head"]
    # It sends only its calls (control messages: per rank its first piece, then 2(N-1) steps,
    # a few dozen bytes each), no transfer.
    calls = after["messages_sent"] - before["messages_sent"]
    assert calls == 4 * (1 + 2 * (4 - 1))
    assert after["bytes_sent"] - before["bytes_sent"] == after["control_bytes_sent"] - before["control_bytes_sent"]
    assert 0 < after["control_bytes_sent"] - before["control_bytes_sent"] < 100 * calls
    for key in ("bytes_received", "transfers_sent", "transfers_received"):
        assert after[key] == before[key]


@pytest.mark.parametrize("algorithm,n", [("ring", 2), ("ring", 4), ("ring", 8), ("naive", 4),
                                         ("tree", 4), ("tree", 8), ("ps", 4)])
def test_virtual_time_is_alpha_beta_plus_the_headers(cluster, algorithm, n):
    r, _, _ = run(cluster, algorithm, n)
    ideal = theory.seconds(algorithm, n, E, 8, alpha=ALPHA, beta=BETA)
    explained = theory.seconds(algorithm, n, E, 8, alpha=ALPHA, beta=BETA, header=r.header_per_transfer)
    # Plus one alpha: the driver's calls are messages that reach the ranks before the first
    # piece moves (their specs, a few hundred bytes queued on the driver's link, add < 1 us).
    assert r.seconds == pytest.approx(ALPHA + explained, abs=1e-6)
    assert 0 < r.seconds - ALPHA - ideal < 1e-3 * ideal  # ~120 header bytes per step at 1.25 GB/s


def test_sharded_servers_are_slower_than_the_ideal_schedule(cluster):
    # Links book transfers first come, first served: k servers pulling from all N ranks at
    # once queue in a staircase of N + k - 1 piece times instead of max(N, k).
    r, _, _ = run(cluster, "ps", 4, shards=4)
    piece = (E // 4 * 8 + r.header_per_transfer) / BETA
    ideal = theory.seconds("ps", 4, E, 8, alpha=ALPHA, beta=BETA, shards=4, header=r.header_per_transfer)
    assert r.seconds > ideal
    assert r.seconds <= 2 * (ALPHA + (4 + 4 - 1) * piece) + 1e-9


def test_reduce_scatter_leaves_rank_i_with_the_sum_of_chunk_i(cluster):
    import dsai.ray as ray

    n = 4
    cluster(n)
    group = CollectiveGroup(n)
    xs = arrays(n)
    group.load(xs)
    r = reduce_scatter(group)
    total = np.sum(xs, axis=0)
    for i, (lo, hi) in enumerate(split_bounds(E, n)):
        np.testing.assert_array_equal(ray.get(r.refs[i]), total[lo:hi])
    for t in r.traffic:
        assert t.payload_sent == (n - 1) * E * 8 // n


def test_all_gather_gives_every_rank_every_chunk(cluster):
    n = 4
    cluster(n)
    group = CollectiveGroup(n)
    xs = arrays(n)
    group.load(xs)
    r = all_gather(group)
    expected = np.concatenate([xs[i][lo:hi] for i, (lo, hi) in enumerate(split_bounds(E, n))])
    for v in group.values():
        np.testing.assert_array_equal(v, expected)
    for t in r.traffic:
        assert t.payload_sent == (n - 1) * E * 8 // n


def test_same_program_same_seconds_and_bytes(cluster):
    a, _, _ = run(cluster, "ring", 4)
    b, _, _ = run(cluster, "ring", 4)
    assert (a.seconds, a.traffic) == (b.seconds, b.traffic)


def test_small_pieces_are_flagged_inline(cluster):
    r, _, _ = run(cluster, "ring", 4, elements=1000)
    assert r.inline  # 2 KB chunks ride in task specs: wire counters are not comparable
    assert not run(cluster, "ring", 4)[0].inline


def test_bad_input_is_named(cluster):
    cluster(2)
    with pytest.raises(CollectiveError, match="at least 1 worker, got world_size=0"):
        CollectiveGroup(0)
    group = CollectiveGroup(2)
    with pytest.raises(CollectiveError, match="call group.load"):
        allreduce(group, "ring")
    with pytest.raises(CollectiveError, match="one array per rank: 2 ranks, got 3"):
        group.load(arrays(3, 10))
    with pytest.raises(CollectiveError, match=r"rank 1 holds an array of shape \(5,\)"):
        group.load([np.zeros(4), np.zeros(5)])
    group.load(arrays(2, 10))
    with pytest.raises(CollectiveError, match="unknown all-reduce algorithm 'rings'"):
        allreduce(group, "rings")
    with pytest.raises(CollectiveError, match="11 shards for 10 elements"):
        allreduce(group, "ps", shards=11)
    with pytest.raises(CollectiveError, match="sums numbers"):
        group.load([np.array(["a"]), np.array(["b"])])


def test_value_refs_stay_on_their_nodes(cluster):
    # A consumer beside rank i (same node) reads the sum without any byte crossing the network.
    import dsai.ray as ray
    from dsai.parallel import pin
    from dsai.parallel.traffic import counters

    @ray.remote
    class Consumer:
        def total(self, x):
            return float(np.sum(x))

    n = 3
    cluster(n)
    group = CollectiveGroup(n)
    xs = arrays(n)
    group.load(xs)
    allreduce(group, "ring")
    consumers = [Consumer.options(**pin(node)).remote() for node in group.nodes]
    ray.get([c.total.remote(0) for c in consumers])
    before = counters()
    sums = ray.get([c.total.remote(ref) for c, ref in zip(consumers, group.value_refs())])
    after = counters()
    assert sums == [float(np.sum(xs))] * n
    for name in group.node_name:
        assert after[name]["transfers_sent"] == before[name]["transfers_sent"]
        assert after[name]["transfers_received"] == before[name]["transfers_received"]


def test_measure_times_and_counts_a_schedule_written_from_rank_steps(cluster):
    # A hand-written schedule (what a student would write): each rank sends its whole array
    # to its right neighbour, which adds it. Its wire bytes are measured even without a ledger.
    from dsai.parallel import measure

    n = 4
    cluster(n)
    group = CollectiveGroup(n)
    xs = arrays(n)
    group.load(xs)

    def shift_and_add():
        sent = [r.piece.remote(0, E) for r in group.ranks]
        return [group.ranks[i].reduce.remote(0, E, sent[i - 1]) for i in range(n)]

    r = measure(group, shift_and_add, "shift")
    assert r.algorithm == "shift" and r.payload_sent_max == 0  # nothing written in the ledger
    for t in r.traffic:
        assert t.transfers_sent == 1 and t.wire_sent == E * 8 + pickle_header(E)
    # One alpha for the calls to reach the ranks (messages), one for the transfer.
    assert r.seconds == pytest.approx(2 * ALPHA + (E * 8 + pickle_header(E)) / BETA, abs=1e-6)
    for i, v in enumerate(group.values()):
        np.testing.assert_array_equal(v, xs[i] + xs[i - 1])


def test_shards_only_apply_to_the_parameter_server(cluster):
    cluster(2)
    group = CollectiveGroup(2)
    group.load(arrays(2, 10))
    with pytest.raises(CollectiveError, match="shards and server_nodes apply to algorithm='ps' only"):
        allreduce(group, "ring", shards=2)


@pytest.mark.parametrize("algorithm,n,shards", [("ring", 3, 1), ("ring", 4, 1), ("naive", 3, 1), ("tree", 3, 1),
                                                ("tree", 4, 1), ("ps", 3, 1), ("ps", 3, 2)])
def test_busiest_node_carries_what_theory_says(cluster, algorithm, n, shards):
    r, _, _ = run(cluster, algorithm, n, shards=shards, elements=E + 1)  # uneven pieces
    carried = max(t.payload_sent + t.payload_received for t in r.traffic)
    assert carried == theory.carried_max(algorithm, n, E + 1, 8, shards)
