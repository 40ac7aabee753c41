"""The space-time diagram draws what the run did: lanes, arrows, drops, shaded faults, coloured ops."""

from __future__ import annotations

import functools

import pytest
from matplotlib.colors import to_hex

from dsai.cap import run
from dsai.viz.spacetime import CAS_MISMATCH_COLOR, OUTCOME_COLORS, count_gids, default_window, spacetime


@functools.lru_cache(maxsize=None)
def _run(mode="cp", nemesis="partition", seed=1, ops=60):
    return run(mode=mode, nemesis=nemesis, seed=seed, ops=ops)


def _expected_arrows(r, t0, t1, gossip=True):
    lat = r.config.latency
    delivered = dropped = 0
    for m in r.cluster.sim.network.messages:
        if m.src == m.dst or m.sent > t1 or (not gossip and m.payload.kind in ("sync", "sync-reply")):
            continue
        if m.dropped_because is None:
            delivered += m.arrives >= t0
        else:
            end = m.sent + ((m.arrives - m.sent) if m.arrives is not None else lat) / 2
            dropped += end >= t0
    return delivered, dropped


def test_lanes_arrows_and_drops_match_the_run():
    r = _run()
    t0, t1 = default_window(r)
    span = r.spans[0]
    assert t0 < span.start and span.end < t1 + 1e-9
    fig = spacetime(r)
    g = count_gids(fig)
    assert g["lane"] == 5
    delivered, dropped = _expected_arrows(r, t0, t1)
    assert dropped > 0
    assert (g["msg"], g.get("msg-dropped", 0), g.get("drop-mark", 0)) == (delivered, dropped, dropped)
    assert fig.axes[0].get_xlim() == (t0, t1)


def test_partition_is_shaded_with_the_cut_side_darker():
    r = _run()
    fig = spacetime(r)
    g = count_gids(fig)
    span = r.spans[0]
    assert g["fault-partition"] == 1 and g["fault-partition-clients"] == 1
    assert g["fault-cut-lane"] == len(span.nodes)
    shade = [a for a in fig.axes[0].get_children() if a.get_gid() == "fault-partition"][0]
    x0, x1 = shade.get_x(), shade.get_x() + shade.get_width()
    assert (x0, x1) == pytest.approx((span.start, span.end))
    lanes = sorted(a.get_y() + a.get_height() / 2 for a in fig.axes[0].get_children()
                   if a.get_gid() == "fault-cut-lane")
    assert lanes == pytest.approx(sorted(span.nodes))


def test_client_timeline_colours_each_outcome():
    r = _run()
    t0, t1 = 0.0, r.metrics["duration"]
    fig = spacetime(r, (t0, t1), gossip=False)
    g = count_gids(fig)
    assert any(op.outcome == "fail" and op.answered for op in r.ops)  # both shades of fail are drawn
    assert any(op.outcome == "fail" and not op.answered for op in r.ops)
    for outcome in ("ok", "fail", "info"):
        n = sum(1 for op in r.ops if op.outcome == outcome)
        assert n > 0 and g.get(f"op-{outcome}", 0) == n
        bars = [a for a in fig.axes[1].get_children() if a.get_gid() == f"op-{outcome}"]
        ops = [op for op in r.ops if op.outcome == outcome]  # drawn in the same order
        want = [CAS_MISMATCH_COLOR if outcome == "fail" and op.answered else OUTCOME_COLORS[outcome] for op in ops]
        assert [to_hex(b.get_facecolor()) for b in bars] == want
    assert g["msg"] == _expected_arrows(r, t0, t1, gossip=False)[0]


def test_gossip_can_be_hidden_and_crashes_grey_out_a_lane():
    r = _run("ap-lww", "crash", 2, 100)
    t0, t1 = default_window(r)
    with_gossip = count_gids(spacetime(r, clients=False))
    without = count_gids(spacetime(r, clients=False, gossip=False))
    assert with_gossip["msg"] > without["msg"] == _expected_arrows(r, t0, t1, gossip=False)[0]
    fig = spacetime(r, clients=False, gossip=False)
    (crash,) = [a for a in fig.axes[0].get_children() if a.get_gid() == "fault-crash"]
    assert crash.get_y() + crash.get_height() / 2 == pytest.approx(r.spans[0].nodes[0])
    assert len(fig.axes) == 1


def test_bad_window_is_refused():
    with pytest.raises(ValueError, match="end > start"):
        spacetime(_run(), (0.5, 0.2))


def test_png_and_notebook_display(monkeypatch):
    """A pyplot-free figure must still show in Jupyter: spacetime registers a PNG formatter."""
    import IPython
    from IPython.core.formatters import PNGFormatter
    from matplotlib.figure import Figure

    from dsai.viz.spacetime import figure_png

    class Shell:
        class display_formatter:
            formatters = {"image/png": PNGFormatter()}

    monkeypatch.setattr(IPython, "get_ipython", lambda: Shell)
    fig = spacetime(_run(), labels=True)
    png = Shell.display_formatter.formatters["image/png"]
    assert png.lookup_by_type(Figure) is figure_png
    assert png(fig)[:8] == b"\x89PNG\r\n\x1a\n"
