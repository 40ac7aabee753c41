"""Amdahl's law, measured: the serial part of a job caps its speedup, whatever the number of CPUs.

A job of `work` seconds has a serial fraction s that must run alone (loading,
a reduction, a driver step) and a parallel part split into `chunks` equal
tasks. On n CPUs its makespan (first start to last finish) is

    T(n) = s·W + ceil(chunks / n) · (1 − s)·W / chunks

and its speedup T(1) / T(n) is Amdahl's 1 / ((1 − p) + p / n) with p = 1 − s
whenever n divides `chunks` (otherwise the last round of tasks is partly
empty, and the measured speedup falls a little below the formula).

Nothing here computes T(n) from that formula: `measure` runs the job on a
fresh simulated cluster of n CPUs (`dsai.mockray`) and reads the virtual
clock, so the widget's numbers come from the scheduler. Every function is
plain and tested without a browser; `amdahl_widget()` only wires sliders to
them. The simulated clusters are the widget's own, so the lesson's cluster
must be shut down first (`ray.shutdown()`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from dsai.errors import DsaiError

__all__ = ["AmdahlRun", "amdahl_speedup", "gustafson_speedup", "measure", "speedup_curve",
           "plot_amdahl", "summary_text", "figure_png", "amdahl_widget", "MAX_CPUS"]

MAX_CPUS = 64  # the widget's clusters stay small: every callback answers in well under a second


class AmdahlError(DsaiError, ValueError):
    """A bad argument to the Amdahl experiment (the message names it and the fix)."""


def _check_fraction(serial_fraction: float) -> float:
    if not isinstance(serial_fraction, (int, float)) or not 0.0 <= serial_fraction <= 1.0:
        raise AmdahlError(f"serial_fraction must be a number between 0 and 1 (the share of the work "
                          f"that cannot run in parallel), got {serial_fraction!r}")
    return float(serial_fraction)


def _check_cpus(cpus: int) -> int:
    if isinstance(cpus, bool) or not isinstance(cpus, int) or not 1 <= cpus <= MAX_CPUS:
        raise AmdahlError(f"cpus must be a whole number from 1 to {MAX_CPUS}, got {cpus!r}")
    return cpus


def amdahl_speedup(serial_fraction: float, cpus: int) -> float:
    """Amdahl (1967): speedup on n CPUs of a job whose fraction s is serial, 1 / (s + (1 − s) / n)."""
    s = _check_fraction(serial_fraction)
    n = _check_cpus(cpus)
    return 1.0 / (s + (1.0 - s) / n)


def gustafson_speedup(serial_fraction: float, cpus: int) -> float:
    """Gustafson (1988): scaled speedup when the parallel work grows with n, s + (1 − s)·n."""
    s = _check_fraction(serial_fraction)
    n = _check_cpus(cpus)
    return s + (1.0 - s) * n


@dataclass(frozen=True)
class AmdahlRun:
    """One measured run: the job on `cpus` CPUs, its makespan in virtual seconds, its timeline."""

    cpus: int
    serial_fraction: float
    work: float
    chunks: int
    makespan: float
    events: list = field(repr=False, compare=False)

    def __repr__(self) -> str:
        return (f"AmdahlRun(cpus={self.cpus}, serial_fraction={self.serial_fraction}, "
                f"work={self.work} s, chunks={self.chunks}, makespan={self.makespan:.3f} s)")


@lru_cache(maxsize=512)
def _measure(cpus: int, serial_fraction: float, work: float, chunks: int, seed: int) -> AmdahlRun:
    import time

    import dsai.mockray as ray
    from dsai import sim

    if ray.is_initialized():
        raise AmdahlError("the Amdahl experiment runs on its own simulated clusters (one per number "
                          "of CPUs), but a cluster is running; call ray.shutdown() first")

    @ray.remote
    def serial(seconds: float) -> None:
        time.sleep(seconds)  # the part no second CPU can help with

    @ray.remote
    def parallel(seconds: float) -> None:
        time.sleep(seconds)  # one chunk of the part that splits

    ray.init(num_cpus=cpus, seed=seed)
    try:
        start = sim.now()
        if serial_fraction > 0:
            ray.get(serial.remote(serial_fraction * work))
        if serial_fraction < 1:
            ray.get([parallel.remote((1 - serial_fraction) * work / chunks) for _ in range(chunks)])
        makespan = sim.now() - start
        events = ray.timeline()
    finally:
        ray.shutdown()
    return AmdahlRun(cpus, serial_fraction, work, chunks, round(makespan, 9), events)


def measure(cpus: int, serial_fraction: float, *, work: float = 12.0, chunks: int = 48,
            seed: int = 0) -> AmdahlRun:
    """Run the job (serial part, then `chunks` parallel tasks) on a fresh cluster of `cpus` CPUs."""
    _check_cpus(cpus)
    s = _check_fraction(serial_fraction)
    if not isinstance(work, (int, float)) or not work > 0:
        raise AmdahlError(f"work must be a positive number of seconds, got {work!r}")
    if isinstance(chunks, bool) or not isinstance(chunks, int) or chunks < 1:
        raise AmdahlError(f"chunks must be a whole number of tasks, at least 1, got {chunks!r}")
    return _measure(cpus, s, float(work), chunks, int(seed))


def speedup_curve(serial_fraction: float, cpus: range | list[int] = range(1, 17), *,
                  work: float = 12.0, chunks: int = 48) -> list[dict[str, float]]:
    """Per number of CPUs n: measured makespan T(n), measured speedup T(1)/T(n), Amdahl's formula."""
    t1 = measure(1, serial_fraction, work=work, chunks=chunks).makespan
    rows = []
    for n in cpus:
        t = measure(n, serial_fraction, work=work, chunks=chunks).makespan
        rows.append({"cpus": n, "makespan": t, "measured": t1 / t,
                     "amdahl": amdahl_speedup(serial_fraction, n)})
    return rows


def summary_text(cpus: int, serial_fraction: float, *, work: float = 12.0, chunks: int = 48) -> str:
    """One line: measured T(1), T(n), speedup, beside Amdahl's formula and its limit 1/s."""
    t1 = measure(1, serial_fraction, work=work, chunks=chunks).makespan
    tn = measure(cpus, serial_fraction, work=work, chunks=chunks).makespan
    p = 1 - serial_fraction
    limit = "no limit" if serial_fraction == 0 else f"{1 / serial_fraction:.1f}x"
    return (f"measured: T(1) = {t1:.2f} s, T({cpus}) = {tn:.2f} s, speedup {t1 / tn:.2f}x  |  "
            f"Amdahl 1/((1-p)+p/n) with p = {p:.2f}, n = {cpus}: "
            f"{amdahl_speedup(serial_fraction, cpus):.2f}x  |  limit 1/(1-p): {limit}")


def plot_amdahl(cpus: int = 4, serial_fraction: float = 0.1, *, max_cpus: int = 16,
                work: float = 12.0, chunks: int = 48) -> Any:
    """Left: the run on `cpus` CPUs as a Gantt chart. Right: speedup against n, measured and formula."""
    from matplotlib.figure import Figure

    from dsai.viz.gantt import plot_timeline

    run = measure(cpus, serial_fraction, work=work, chunks=chunks)
    curve = speedup_curve(serial_fraction, range(1, max(max_cpus, cpus) + 1), work=work, chunks=chunks)
    fig = Figure(figsize=(11, 3.6))
    gantt, speed = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.4, 1]})
    plot_timeline(run.events, gantt, legend=False,
                  title=f"{chunks} chunks on {cpus} CPU(s), serial fraction {serial_fraction:.2f}: "
                        f"makespan {run.makespan:.2f} s")
    gantt.set_ylabel("worker")
    gantt.set_yticks(gantt.get_yticks(), [f"worker {i + 1}" for i in range(len(gantt.get_yticks()))])
    ns = [r["cpus"] for r in curve]
    speed.plot(ns, [r["amdahl"] for r in curve], "-", color="tab:blue", label="Amdahl 1/((1-p)+p/n)")
    speed.plot(ns, [r["measured"] for r in curve], "o", color="tab:orange", ms=5,
               label="measured T(1)/T(n)", gid="measured")
    speed.plot(ns, ns, ":", color="grey", label="ideal (speedup = n)")
    if serial_fraction > 0:
        speed.axhline(1 / serial_fraction, ls="--", color="tab:red", lw=1,
                      label=f"limit 1/(1-p) = {1 / serial_fraction:.1f}")
    here = next(r for r in curve if r["cpus"] == cpus)
    speed.plot([cpus], [here["measured"]], "o", ms=11, mfc="none", mec="black", gid="current")
    speed.set_xlabel("CPUs n")
    speed.set_ylabel("speedup T(1) / T(n)")
    speed.set_title(f"speedup: {here['measured']:.2f}x measured, {here['amdahl']:.2f}x Amdahl")
    speed.set_ylim(0, max_cpus + 1)
    speed.grid(alpha=0.3)
    speed.legend(fontsize="small", loc="upper left")
    fig.tight_layout()
    return fig


def figure_png(fig: Any) -> bytes:
    """A figure as PNG bytes (what the widget's Image shows; no Output widget, so it renders the same
    in JupyterLab, in nbclient and under nbval)."""
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)
    return buf.getvalue()


def amdahl_widget(cpus: int = 4, serial_fraction: float = 0.1, *, max_cpus: int = 16) -> Any:
    """Sliders for CPUs and the serial fraction above the summary line and the measured figure."""
    import ipywidgets as w

    cpus_w = w.IntSlider(value=cpus, min=1, max=max_cpus, description="CPUs n", continuous_update=False)
    frac_w = w.FloatSlider(value=serial_fraction, min=0.0, max=0.5, step=0.05,
                           description="serial 1-p", readout_format=".2f", continuous_update=False)
    line = w.HTML()
    image = w.Image(format="png")

    def update(_: Any = None) -> None:
        s = round(frac_w.value, 2)
        line.value = f"<code>{summary_text(cpus_w.value, s)}</code>"
        image.value = figure_png(plot_amdahl(cpus_w.value, s, max_cpus=max_cpus))

    cpus_w.observe(update, names="value")
    frac_w.observe(update, names="value")
    box = w.VBox([w.HBox([cpus_w, frac_w]), line, image])
    box.update = update  # so a notebook (or a test) can redraw
    update()
    return box
