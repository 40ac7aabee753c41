"""The parameter-server plots and explorer, without a browser."""

import pytest

from dsai import ps, ray
from dsai.viz import plot_learning_curves, plot_staleness
from dsai.viz.ps_widget import explore, run_and_render, summary_rows


@pytest.fixture(autouse=True)
def _no_cluster():
    ray.shutdown()
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def runs():
    cfg = ps.PSConfig(steps=30)
    out = {"sync": ps.simulate(cfg.replace(mode="sync"), slowdown={0: 4.0}),
           "async": ps.simulate(cfg.replace(mode="async"), slowdown={0: 4.0})}
    ray.shutdown()
    return out


def test_learning_curves_draw_one_line_per_run(runs):
    fig = plot_learning_curves(runs, target=0.95)
    ax = fig.axes[0]
    lines = {line.get_gid(): line for line in ax.lines if line.get_gid()}
    assert set(lines) == {"curve-sync", "curve-async"}
    xs, ys = lines["curve-sync"].get_data()
    assert list(ys) == [100 * a for _, _, a in runs["sync"].curve]
    assert xs[-1] == pytest.approx(1000 * runs["sync"].curve[-1][0])  # milliseconds
    assert ax.get_xlabel() == "virtual time (ms)" and ax.get_ylabel() == "test accuracy (%)"
    assert ax.get_title()


def test_staleness_bars_count_every_gradient(runs):
    fig = plot_staleness(runs)
    ax = fig.axes[0]
    bars = [p for p in ax.patches if p.get_gid() == "staleness-async"]
    assert sum(p.get_height() for p in bars) == len(runs["async"].history)
    sync_bars = [p for p in ax.patches if p.get_gid() == "staleness-sync"]
    assert len(sync_bars) == 1 and sync_bars[0].get_height() == 120  # all at staleness 0
    assert "staleness" in ax.get_xlabel()


def test_explore_is_seeded_and_reacts_to_the_straggler():
    a = explore("ssp", workers=3, staleness=1, slowdown=4.0, steps=20)
    b = explore("ssp", workers=3, staleness=1, slowdown=4.0, steps=20)
    assert a.weights.tobytes() == b.weights.tobytes()
    fast = explore("ssp", workers=3, staleness=1, slowdown=1.0, steps=20)
    assert fast.seconds < a.seconds
    assert explore("sync", staleness=5, steps=5).config.staleness == 0  # bound ignored outside ssp


def test_run_and_render_gives_a_figure_and_rows():
    fig, rows = run_and_render("async", workers=2, shards=2, slowdown=2.0, steps=10)
    assert len(fig.axes) == 2
    names = [k for k, _ in rows]
    assert names[:3] == ["run", "test accuracy", "virtual time"]
    assert dict(rows)["run"] == "async, 2 workers, 2 shard(s)"
    assert dict(rows)["gradients applied"] == "20"


def test_explorer_widget_redraws():
    pytest.importorskip("ipywidgets")
    from dsai.viz import ps_explorer

    box = ps_explorer(workers=2, slowdown=1.0)
    first = box.figure
    assert first is not None and len(first.axes) == 2
    box.controls["mode"].value = "async"  # a change re-runs and redraws
    assert box.controls["staleness"].disabled
    assert box.figure is not first
    assert "async, 2 workers" in box.children[1].children[1].value


def test_bandwidth_slider_changes_the_measured_virtual_time():
    """The explorer's default run on 10 Mbit/s links must take visibly longer than on 10 Gbit/s:
    a slider wired to nothing (or to a network that charges nothing) fails here."""
    fast = explore(bandwidth=10_000.0)
    slow = explore(bandwidth=10.0)
    assert slow.seconds > 1.5 * fast.seconds, (slow.seconds, fast.seconds)
    assert slow.config == fast.config  # only the network changed


def test_bandwidth_must_be_positive():
    with pytest.raises(ps.PSConfigError, match="bandwidth must be a positive number of Mbit/s"):
        explore(bandwidth=0)


def test_explorer_bandwidth_control_redraws_with_a_slower_run():
    pytest.importorskip("ipywidgets")
    from dsai.viz import ps_explorer

    box = ps_explorer()
    before = dict_rows(box)
    box.controls["bandwidth"].value = 10.0
    after = dict_rows(box)
    assert float(after["virtual time"].split()[0]) > float(before["virtual time"].split()[0])
    assert "10 Mbit/s" in box.figure.axes[0].get_title()


def dict_rows(box):
    """The explorer's table, as {name: value}."""
    import re

    return dict(re.findall(r"<tr><td>(.*?)</td><td><b>(.*?)</b></td></tr>", box.children[1].children[1].value))
