"""Quorum grid and PACELC latencies: measured figures beside the formulas they illustrate."""

from __future__ import annotations

from dsai.viz.quorums import median, pacelc_latencies, plot_latencies, plot_quorum_grid, quorum_grid
from dsai.viz.spacetime import count_gids


def test_overlapping_quorums_never_read_stale_and_small_ones_do():
    n = 3
    grid = quorum_grid(n=n, seeds=range(3), ops=60)
    assert sorted(grid) == [(r, w) for r in range(1, n + 1) for w in range(1, n + 1)]
    for (r, w), cell in grid.items():
        if r + w > n:  # every read quorum meets every write quorum
            assert cell["stale_reads"] == 0, (r, w, cell)
    assert grid[(1, 1)]["stale_reads"] > 0  # measured: they miss each other
    assert grid[(1, 1)]["availability"] >= grid[(n, n)]["availability"]
    assert "not_linearizable" not in grid[(1, 1)]
    checked = quorum_grid(n=2, seeds=[0], ops=30, check=True)
    assert set(checked[(1, 1)]) >= {"stale_reads", "not_linearizable", "availability", "runs"}


def test_plot_quorum_grid_labels_every_cell():
    grid = quorum_grid(n=3, seeds=[0], ops=30)
    fig = plot_quorum_grid(grid)
    g = count_gids(fig)
    assert g["cell"] == 9 and g["boundary"] == 1
    ax = fig.axes[0]
    assert "N = 3" in ax.get_title() and ax.get_xlabel().startswith("W") and ax.get_ylabel().startswith("R")


def test_pacelc_consistency_costs_a_round_trip_without_any_fault():
    rows = {row["config"]: row for row in pacelc_latencies(seeds=range(2), ops=60)}
    delta, jitter = 0.005, 0.002  # CapConfig defaults: one-way latency and its extra jitter
    cp = rows["cp"]
    assert 2 * delta <= cp["read_p50"] <= 2 * (delta + jitter)  # one round trip to a majority
    assert 2 * delta <= cp["write_p50"] <= 4 * (delta + jitter)  # forward, round trip, result
    assert cp["not_linearizable"] == 0.0 and cp["stale_reads"] == 0
    ap = rows["ap-lww"]
    assert ap["read_p50"] == ap["write_p50"] == 0.0  # nothing is awaited...
    assert ap["not_linearizable"] > 0  # ...and it is wrong even on a healthy network
    fig = plot_latencies(list(rows.values()), one_way=delta)
    g = count_gids(fig)
    assert g["bar-read"] == g["bar-write"] == len(rows)
    assert fig.axes[0].get_xlabel().startswith("store configuration")


def test_median_is_a_value_that_happened():
    assert median([]) is None
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median([4.0, 1.0, 2.0, 3.0]) == 2.0
