"""The model-parallelism lesson's explorer: change a pipeline or a ZeRO layout and see it measured.

Everything the widget does is a plain function, usable (and tested) without
a browser; `model_parallel_explorer()` only wires ipywidgets controls to them:

* `render_schedule(schedule, stages, microbatches, chunks)` -> (Figure, info):
  runs one pipelined step on fresh simulated devices and draws the measured
  timeline; info holds the measured bubble, its formulas and the peaks.
* `render_memory(parameters, devices, stage)` -> (Figure, info): DP and
  ZeRO 1-3 bytes per device by formula, the chosen stage outlined.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dsai.errors import ParallelConfigError
from dsai.parallel.memory import ZERO_STAGES, zero_total
from dsai.parallel.schedule import SCHEDULES
from dsai.viz.memory_plot import STAGE_NAMES, plot_memory, zero_bars
from dsai.viz.pipeline_plot import plot_pipeline

__all__ = ["render_schedule", "render_memory", "schedule_text", "model_parallel_explorer"]

_WIDTH, _ROWS_PER_MICROBATCH = 64, 8


def render_schedule(schedule: str = "1f1b", stages: int = 4, microbatches: int = 8, chunks: int = 1,
                    seed: int = 0) -> tuple[Any, dict[str, Any]]:
    """One measured step of an MLP with one equal layer per model stage, drawn; raises on a bad layout."""
    from dsai.models import MLP
    from dsai.parallel.device import DeviceSpec, start_devices
    from dsai.parallel.pipeline import run_pipeline
    from dsai.parallel.schedule import check_layout

    stages, microbatches, chunks = int(stages), int(microbatches), int(chunks)
    if schedule != "interleaved":
        chunks = 1  # only interleaving uses chunks: the slider's value is ignored, not an error
    check_layout(schedule, stages, microbatches, chunks)
    model = MLP([_WIDTH] * (stages * chunks + 1), seed=seed)
    rng = np.random.default_rng(seed)
    batch = microbatches * _ROWS_PER_MICROBATCH
    x, y = rng.normal(size=(batch, _WIDTH)), rng.integers(0, _WIDTH, size=batch)
    spec = DeviceSpec(memory=2**30, flops=1e8)  # a step of a layer: ~0.7 ms of virtual time
    start_devices(stages, spec, seed=seed)
    run = run_pipeline(model, x, y, stages=stages, microbatches=microbatches, schedule=schedule,
                       chunks=chunks, spec=spec)
    info = {"schedule": schedule, "stages": stages, "microbatches": microbatches, "chunks": chunks,
            "bubble_fraction": run.bubble_fraction, "theory_bubble_fraction": run.theory_bubble_fraction,
            "megatron_bubble_fraction": run.megatron_bubble, "peak_activations": run.peak_activations,
            "makespan_ms": run.makespan * 1e3}
    return plot_pipeline(run), info


def schedule_text(info: dict[str, Any]) -> str:
    """One line under the chart: the measured bubble beside both formulas, and the stored activations."""
    return (f"bubble {info['bubble_fraction']:.3f} measured vs {info['theory_bubble_fraction']:.3f} = "
            f"(p-1)/(m+p-1)-style theory; Megatron's bubble/ideal {info['megatron_bubble_fraction']:.3f}; "
            f"peak stored activations per stage {info['peak_activations']}; "
            f"step {info['makespan_ms']:.1f} ms")


def render_memory(parameters: float = 7.5e9, devices: int = 64, stage: int = 3,
                  capacity: float | None = None) -> tuple[Any, dict[str, Any]]:
    """DP and ZeRO 1-3 model state per device (mixed-precision Adam, 16 bytes/parameter), by formula."""
    if stage not in ZERO_STAGES:
        raise ParallelConfigError(f"ZeRO stage must be 0 (plain data parallelism), 1, 2 or 3, got {stage!r}")
    bars = zero_bars(parameters, int(devices))
    title = f"{parameters / 1e9:,.3g}B parameters on {int(devices)} devices (mixed-precision Adam)"
    fig = plot_memory(bars, title=title, capacity=capacity, highlight=STAGE_NAMES[stage])
    info = {"stage": stage, "devices": int(devices), "parameters": parameters,
            "bytes_per_device": zero_total(parameters, int(devices), stage),
            "fits": None if capacity is None else zero_total(parameters, int(devices), stage) <= capacity}
    return fig, info


# Parameter counts (billions) of well-known models, from GPT-2 small to a trillion; 7.5 is the
# ZeRO paper's running example (on 64 devices).
MODEL_SIZES_B = (0.125, 0.35, 1.3, 7.5, 13.0, 70.0, 175.0, 530.0, 1000.0)


def model_parallel_explorer(schedule: str = "1f1b", stages: int = 4, microbatches: int = 8,
                            chunks: int = 2, parameters_b: float = 7.5, devices: int = 64,
                            stage: int = 3, draw_now: bool = True) -> Any:
    """Two panels: a pipeline schedule (measured) and memory per device (formula), each redrawn on change.

    With `draw_now=False` the panels start empty and draw at the first change
    (a notebook that shows the default figures itself, so that the saved
    notebook has them, passes False to avoid drawing them twice).
    """
    import ipywidgets as w
    from IPython.display import display

    still = {"continuous_update": False}  # each change reruns a schedule: once, where the drag ends
    sched_w = w.Dropdown(options=list(SCHEDULES), value=schedule, description="schedule")
    p_w = w.IntSlider(value=stages, min=1, max=8, description="stages p", **still)
    m_w = w.IntSlider(value=microbatches, min=1, max=16, description="micro-b. m", **still)
    v_w = w.IntSlider(value=chunks, min=2, max=4, description="chunks v", **still)
    pipe_text, pipe_out = w.HTML(), w.Output()
    # Real model sizes rather than a log slider, whose steps would move 7.5 to 7.94.
    sizes = sorted({*MODEL_SIZES_B, float(parameters_b)})
    size_w = w.SelectionSlider(options=[(f"{b:g}", b) for b in sizes], value=float(parameters_b),
                               description="params (B)", **still)
    n_w = w.IntSlider(value=devices, min=1, max=1024, description="devices N", **still)
    stage_w = w.Dropdown(options=[(STAGE_NAMES[s], s) for s in ZERO_STAGES], value=stage, description="stage")
    mem_text, mem_out = w.HTML(), w.Output()

    def on_schedule(_: Any = None) -> None:
        try:
            fig, info = render_schedule(sched_w.value, p_w.value, m_w.value, v_w.value)
        except ParallelConfigError as e:
            pipe_text.value = f"<span style='color:crimson'>{e}</span>"
            return
        pipe_text.value = schedule_text(info)
        pipe_out.clear_output(wait=True)
        with pipe_out:
            display(fig)

    def on_memory(_: Any = None) -> None:
        fig, info = render_memory(size_w.value * 1e9, n_w.value, stage_w.value)
        mem_text.value = (f"{STAGE_NAMES[info['stage']]}: {info['bytes_per_device'] / 1e9:,.2f} GB of model "
                          f"state per device")
        mem_out.clear_output(wait=True)
        with mem_out:
            display(fig)

    for control in (sched_w, p_w, m_w, v_w):
        control.observe(on_schedule, names="value")
    for control in (size_w, n_w, stage_w):
        control.observe(on_memory, names="value")
    if draw_now:
        on_schedule()
        on_memory()
    else:
        pipe_text.value = mem_text.value = "<i>move a control to redraw</i>"
    box = w.VBox([w.HBox([sched_w, p_w]), w.HBox([m_w, v_w]), pipe_text, pipe_out,
                  w.HBox([size_w, n_w, stage_w]), mem_text, mem_out])
    box.redraw_schedule, box.redraw_memory = on_schedule, on_memory  # for tests and notebooks
    return box
