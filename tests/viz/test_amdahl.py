"""Amdahl's law from measured makespans: the simulator's schedule against the formula."""

from __future__ import annotations

import math

import pytest

import dsai.mockray as ray
from dsai.viz import amdahl
from dsai.viz.amdahl import AmdahlError, amdahl_speedup, gustafson_speedup, measure, speedup_curve


@pytest.fixture(autouse=True)
def no_cluster():
    ray.shutdown()
    yield
    ray.shutdown()


def test_formula_values():
    assert amdahl_speedup(0.0, 8) == pytest.approx(8.0)
    assert amdahl_speedup(1.0, 8) == pytest.approx(1.0)
    assert amdahl_speedup(0.1, 4) == pytest.approx(1 / (0.1 + 0.9 / 4))
    assert gustafson_speedup(0.1, 4) == pytest.approx(0.1 + 0.9 * 4)


@pytest.mark.parametrize("s", [0.0, 0.05, 0.1, 0.25, 0.5])
@pytest.mark.parametrize("n", [1, 2, 3, 4, 6, 8, 12, 16])
def test_measured_speedup_matches_amdahl_when_n_divides_the_chunks(s, n):
    t1 = measure(1, s).makespan
    tn = measure(n, s).makespan
    assert t1 == pytest.approx(12.0)
    assert t1 / tn == pytest.approx(amdahl_speedup(s, n), rel=1e-9)


@pytest.mark.parametrize("n", [5, 7, 9, 10, 11, 13, 14, 15])
def test_otherwise_the_last_round_is_partly_empty(n):
    s, work, chunks = 0.1, 12.0, 48
    tn = measure(n, s).makespan
    # the scheduler's makespan: the serial part, then ceil(chunks/n) rounds of equal chunks
    assert tn == pytest.approx(s * work + math.ceil(chunks / n) * (1 - s) * work / chunks)
    assert work / tn < amdahl_speedup(s, n)


def test_the_timeline_shows_the_serial_task_then_the_chunks():
    run = measure(4, 0.25, chunks=8)
    names = sorted(e["cat"] for e in run.events)
    assert names == ["task::parallel"] * 8 + ["task::serial"]
    serial = next(e for e in run.events if e["cat"] == "task::serial")
    first_chunk = min(e["ts"] for e in run.events if e["cat"] == "task::parallel")
    assert first_chunk >= serial["ts"] + serial["dur"]
    assert "makespan=5.250 s" in repr(run)


def test_curve_rows_and_summary():
    rows = speedup_curve(0.2, range(1, 5))
    assert [r["cpus"] for r in rows] == [1, 2, 3, 4]
    assert rows[0]["measured"] == pytest.approx(1.0)
    assert rows[3]["measured"] == pytest.approx(rows[3]["amdahl"])
    text = amdahl.summary_text(4, 0.2)
    assert "T(1) = 12.00 s" in text and "T(4) = 4.80 s" in text and "limit 1/(1-p): 5.0x" in text


@pytest.mark.parametrize("bad", [dict(cpus=0), dict(cpus=2.5), dict(serial_fraction=1.5),
                                 dict(serial_fraction="a"), dict(work=0), dict(chunks=0)])
def test_bad_arguments_name_the_value(bad):
    kwargs = dict(cpus=2, serial_fraction=0.1) | bad
    with pytest.raises(AmdahlError, match=repr(list(bad.values())[0]).replace(".", r"\.")):
        measure(**kwargs)


def test_refuses_to_disturb_a_running_cluster():
    ray.init(num_cpus=2)
    with pytest.raises(AmdahlError, match="call ray.shutdown"):
        measure(3, 0.33)
    assert ray.cluster_resources()["CPU"] == 2


def test_plot_and_widget_without_a_browser():
    from dsai.viz.spacetime import count_gids

    fig = amdahl.plot_amdahl(4, 0.1, max_cpus=8)
    assert len(fig.axes) == 2
    assert count_gids(fig)["measured"] == 1 and count_gids(fig)["current"] == 1
    assert fig.axes[1].get_xlabel() == "CPUs n" and "virtual time" in fig.axes[0].get_xlabel()
    box = amdahl.amdahl_widget(2, 0.5, max_cpus=4)
    cpus_w, frac_w = box.children[0].children
    assert "T(2) = 9.00 s" in box.children[1].value
    cpus_w.value = 4
    assert "T(4) = 7.50 s" in box.children[1].value
    frac_w.value = 0.0
    assert "speedup 4.00x" in box.children[1].value
    assert bytes(box.children[2].value).startswith(b"\x89PNG")
