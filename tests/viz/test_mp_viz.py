"""Model-parallelism pictures: lanes from measured steps, stacked memory bars, and the explorer's plain callbacks."""

import pytest

from dsai import ray
from dsai.errors import ParallelConfigError
from dsai.parallel import schedule as S
from dsai.parallel.memory import zero_total
from dsai.viz.memory_plot import measured_bars, plot_memory, zero_bars
from dsai.viz.mp_explorer import model_parallel_explorer, render_memory, render_schedule, schedule_text
from dsai.viz.pipeline_plot import plot_pipeline, schedule_lanes


def _gids(fig):
    out = {}
    for ax in fig.axes:
        for artist in ax.get_children():
            gid = artist.get_gid()
            if gid:
                out[gid] = out.get(gid, 0) + 1
    return out


@pytest.fixture(autouse=True)
def _shutdown():
    yield
    ray.shutdown()


def test_lanes_hold_every_step_and_the_idle_time_is_the_bubble():
    steps = S.simulate(S.schedule("gpipe", 4, 8), 1.0, 2.0)
    lanes = schedule_lanes(steps, 4)
    assert [sum(b.kind != "idle" for b in lane.bars) for lane in lanes] == [16] * 4
    makespan = max(s.end for s in steps)
    idle = sum(lane.idle for lane in lanes)
    assert idle / (4 * makespan) == pytest.approx(S.theory_bubble("gpipe", 4, 8))
    assert lanes[0].bars[0].kind == "F" and lanes[3].bars[0].kind == "idle"  # the fill is visible
    g = _gids(plot_pipeline(steps))
    assert g["bar-F"] == g["bar-B"] == 4 and g["bar-idle"] == 4  # one collection per lane and kind


def test_render_schedule_draws_the_measured_run():
    fig, info = render_schedule("1f1b", 4, 8)
    assert abs(info["bubble_fraction"] - info["theory_bubble_fraction"]) <= 0.02
    assert info["peak_activations"] == [4, 3, 2, 1]
    assert "measured" in fig.axes[0].get_title(loc="left") and "bubble" in schedule_text(info)
    fig, info = render_schedule("gpipe", 2, 4, chunks=3)  # chunks only matter when interleaving
    assert info["chunks"] == 1
    with pytest.raises(ParallelConfigError, match="multiple of 4"):
        render_schedule("interleaved", 4, 6, 2)


def test_memory_bars_stack_the_formula_and_the_measurement():
    bars = zero_bars(7.5e9, 64)
    assert [round(sum(b.values()) / 1e9, 1) for b in bars.values()] == [120.0, 31.4, 16.6, 1.9]
    g = _gids(plot_memory(bars, capacity=32e9, highlight="ZeRO-2"))
    assert g["bar-parameters"] == g["bar-gradients"] == g["bar-optimizer"] == 4 and g["capacity"] == 1
    fig, info = render_memory(7.5e9, 64, 2)
    assert info["bytes_per_device"] == zero_total(7.5e9, 64, 2)

    class Run:  # what measured_bars reads from a ZeroRun
        stage = 1
        memory = [{"used": 10, "bytes": {"parameters": 4, "gradients": 4, "optimizer": 2, "activations": 0}}]

    assert measured_bars([Run()]) == {"ZeRO-1": {"parameters": 4, "gradients": 4, "optimizer": 2,
                                                 "activations": 0}}


def test_explorer_runs_without_a_browser():
    box = model_parallel_explorer("gpipe", 2, 2, 2, 1.0, 8, 1)
    texts = [c.value for c in box.children if hasattr(c, "value") and isinstance(c.value, str)]
    assert any("bubble" in t for t in texts) and any("ZeRO-1" in t for t in texts)
    box.children[0].children[0].value = "interleaved"  # p=2, m=2, v=2: a valid interleaving
    assert "bubble" in box.children[2].value
    box.children[1].children[0].value = 3  # m=3 is not a multiple of p=2: the error is shown
    assert "multiple of 2" in box.children[2].value


def test_explorer_can_start_empty():
    box = model_parallel_explorer(draw_now=False)
    assert box.children[2].value == "<i>move a control to redraw</i>"
    box.children[4].children[2].value = 2  # ZeRO-2
    assert "ZeRO-2" in box.children[5].value


def test_the_size_control_keeps_the_size_it_was_given_and_offers_real_models():
    box = model_parallel_explorer(draw_now=False)
    size = box.children[4].children[0]
    assert size.value == 7.5 and size.label == "7.5"  # (a log slider's steps moved it to 7.94)
    size.value = 175.0
    assert f"{zero_total(175e9, 64, 3) / 1e9:,.2f} GB" in box.children[5].value  # ZeRO-3 on 64 devices
    assert model_parallel_explorer(parameters_b=3.0, draw_now=False).children[4].children[0].value == 3.0


def test_sliders_rerun_once_where_a_drag_ends():
    from dsai.viz.ps_widget import ps_explorer

    for box in (model_parallel_explorer(draw_now=False), ps_explorer()):
        sliders = [c for c in _descendants(box) if "Slider" in type(c).__name__]
        assert sliders and all(s.continuous_update is False for s in sliders)


def _descendants(widget):
    for child in getattr(widget, "children", ()):
        yield child
        yield from _descendants(child)
