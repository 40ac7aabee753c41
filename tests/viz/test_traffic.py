"""dsai.viz.traffic: measured bytes per node as bars (pure part), and the drawn chart."""

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

from dsai import ray  # noqa: E402
from dsai.parallel.exp_allreduce import measure  # noqa: E402
from dsai.viz.traffic import plot_traffic, traffic_bars  # noqa: E402

E = 2**17  # 1 MiB per worker; a ring chunk at N=8 is 128 KiB, above the inline limit
M = E * 8


@pytest.fixture(scope="module")
def runs():
    out = [measure(a, n, k, E)[0] for a, n, k in
           [("ps", 2, 1), ("ps", 4, 1), ("ps", 8, 1), ("ps", 8, 4), ("ring", 8, 1)]]
    ray.shutdown()
    return out


def test_server_bar_grows_with_n_and_sharding_or_the_ring_flatten_it(runs):
    ps2, ps4, ps8, sharded, ring = traffic_bars(runs)
    for g, n in ((ps2, 2), (ps4, 4), (ps8, 8)):
        assert g.busiest.role == "server 0" and g.busiest.total == 2 * n * M  # saturating
        assert all(b.total == 2 * M for b in g.bars if b.role.startswith("rank"))
    assert [b.total for b in sharded.bars if b.role.startswith("server")] == [2 * 8 * M // 4] * 4
    assert {b.total for b in ring.bars} == {4 * 7 * M // 8}  # the same for every node
    assert ring.label == "ring, N=8" and sharded.label == "ps, N=8, k=4"


def test_bars_are_the_measured_counters(runs):
    wire = traffic_bars(runs, "wire")
    for g, run in zip(wire, runs):
        counted = {t.node: t.wire_sent + t.wire_received for t in run.traffic}
        assert {b.node: b.total for b in g.bars} == counted
        assert all(b.total > p.total for b, p in zip(g.bars, traffic_bars([run])[0].bars))  # headers


def test_plot_has_title_axes_and_a_bar_per_node(runs):
    ax = plot_traffic(runs)
    assert len(ax.patches) == sum(len(r.traffic) for r in runs)
    assert "MiB" in ax.get_ylabel() and ax.get_title() and ax.get_xlabel()
    assert [t.get_text() for t in ax.get_xticklabels()][0] == "ps, N=2, k=1"


def test_bad_what_is_named(runs):
    with pytest.raises(ValueError, match="what must be 'payload' or 'wire', got 'bytes'"):
        traffic_bars(runs, "bytes")


def test_the_busiest_measured_node_meets_the_theory_line(runs):
    for g in traffic_bars(runs):
        assert g.busiest.total == g.theory_busiest
    ax = plot_traffic(runs)
    assert len(ax.collections) == len(runs)  # one dashed theory line per group
    assert ax.get_legend() is not None
