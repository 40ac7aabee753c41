"""An actor's event loop: a call that awaits lets the others run, a call that blocks holds them all up.

An async actor (`async def` methods) runs every call on one asyncio event
loop, in one thread. A call that *awaits* (`await asyncio.sleep`, `await
ref`) hands the loop to the other calls while it waits, so up to
`max_concurrency` calls overlap. A call that *blocks* (`time.sleep`, a
blocking `ray.get`) keeps the loop: every other call waits behind it, and
n calls of s seconds take n·s. A threaded actor (plain `def` methods and
`max_concurrency=k`) runs up to k calls on k threads, so blocking calls
overlap there; with k = 1 it is an ordinary actor, one call at a time.
Calls that wait for a task also need a free CPU for that task.

So the makespan of n calls of s seconds each, submitted at once, is

    blocking on an event loop:        n · s
    awaiting, or threaded:            ceil(n / k) · s,   k = max_concurrency
                                                         (min(k, CPUs) when each call runs a task)

Nothing here computes the measured figure from that formula: `run_calls`
starts a fresh actor on the simulated cluster, submits the calls, and reads
each call's start and end on the virtual clock. Every function is plain and
tested without a browser; `event_loop_widget()` wires controls to them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from dsai.errors import DsaiError

__all__ = ["ACTORS", "BODIES", "CallsRun", "theory_makespan", "run_calls", "plot_calls", "summary_text",
           "event_loop_widget"]

ACTORS = ("async", "threaded")
BODIES = ("await asyncio.sleep", "time.sleep", "await ref", "ray.get")
BLOCKING = ("time.sleep", "ray.get")  # hold the thread they run on
NEEDS_CPU = ("await ref", "ray.get")  # wait for a task, which needs a CPU of its own
MAX_CALLS = 16  # the widget's runs stay small: every callback answers in well under a second


class EventLoopError(DsaiError, ValueError):
    """A bad argument to the event-loop experiment (the message names it and the fix)."""


def _check(actor: str, body: str, calls: int, max_concurrency: int, seconds: float) -> None:
    if actor not in ACTORS:
        raise EventLoopError(f"actor must be one of {ACTORS}, got {actor!r}")
    if body not in BODIES:
        raise EventLoopError(f"body must be one of {BODIES}, got {body!r}")
    if actor == "threaded" and body not in BLOCKING:
        raise EventLoopError(f"a threaded actor's methods are plain `def` and cannot {body!r}: "
                             f"pick one of {BLOCKING}, or an async actor")
    for name, value, top in (("calls", calls, MAX_CALLS), ("max_concurrency", max_concurrency, MAX_CALLS)):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= top:
            raise EventLoopError(f"{name} must be a whole number from 1 to {top}, got {value!r}")
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 < seconds <= 10:
        raise EventLoopError(f"seconds must be a number of seconds in (0, 10], got {seconds!r}")


def theory_makespan(actor: str, body: str, calls: int, max_concurrency: int, seconds: float,
                    cpus: int = 4) -> float:
    """What n calls of `seconds` each, submitted at once, should take (see the module's docstring)."""
    _check(actor, body, calls, max_concurrency, seconds)
    if actor == "async" and body in BLOCKING:
        return calls * seconds
    slots = min(max_concurrency, cpus) if body in NEEDS_CPU else max_concurrency
    return math.ceil(calls / slots) * seconds


@dataclass(frozen=True)
class CallsRun:
    """One measured run: each call's start and end, in virtual seconds from the submission."""

    actor: str
    body: str
    calls: int
    max_concurrency: int
    seconds: float
    cpus: int
    spans: tuple[tuple[float, float], ...]  # (start, end) per call, in submission order

    @property
    def makespan(self) -> float:
        """From submitting the calls to the last one's end."""
        return max(end for _, end in self.spans)

    @property
    def most_at_once(self) -> int:
        """The most calls running at one instant (a call ending as another starts does not overlap it)."""
        points = sorted([(round(s, 9), 1) for s, _ in self.spans] + [(round(e, 9), -1) for _, e in self.spans])
        now = best = 0
        for _, step in points:
            now += step
            best = max(best, now)
        return best

    @property
    def theory(self) -> float:
        return theory_makespan(self.actor, self.body, self.calls, self.max_concurrency, self.seconds, self.cpus)

    def __repr__(self) -> str:
        return (f"CallsRun({self.actor} actor, {self.body}({self.seconds:g}), calls={self.calls}, "
                f"max_concurrency={self.max_concurrency}: {self.most_at_once} at once, "
                f"makespan {self.makespan:.2f} s, theory {self.theory:.2f} s)")


def _ray() -> tuple[Any, bool]:
    """The simulator, started here (4 CPUs) unless the lesson's cluster runs; True if started here."""
    import dsai.mockray as ray

    if ray.is_initialized():
        return ray, False
    ray.init(num_cpus=4)
    return ray, True


def run_calls(actor: str = "async", body: str = "await asyncio.sleep", calls: int = 4,
              max_concurrency: int = 8, seconds: float = 0.5) -> CallsRun:
    """Submit `calls` calls to a fresh actor at once; each runs `body` for `seconds`; measure them."""
    import asyncio
    import time

    from dsai import sim

    _check(actor, body, calls, max_concurrency, seconds)
    ray, started = _ray()

    @ray.remote
    def work(s: float) -> float:
        time.sleep(s)
        return s

    @ray.remote
    class AsyncServer:
        async def call(self, body: str, s: float) -> tuple[float, float]:
            start = sim.now()
            if body == "await asyncio.sleep":
                await asyncio.sleep(s)
            elif body == "time.sleep":
                time.sleep(s)  # blocks the loop: the lesson's point
            elif body == "await ref":
                await work.remote(s)
            else:
                ray.get(work.remote(s))  # blocks the loop (Ray warns about it)
            return start, sim.now()

    @ray.remote
    class ThreadedServer:
        def call(self, body: str, s: float) -> tuple[float, float]:
            start = sim.now()
            if body == "time.sleep":
                time.sleep(s)
            else:
                ray.get(work.remote(s))
            return start, sim.now()

    try:
        cls = AsyncServer if actor == "async" else ThreadedServer
        server = cls.options(max_concurrency=max_concurrency).remote()
        cpus = int(ray.available_resources().get("CPU", 0))
        t0 = sim.now()
        spans = ray.get([server.call.remote(body, seconds) for _ in range(calls)])
        # The actor ends when its handle goes; no ray.kill, which in the simulator (as of this
        # writing) also clears the calling thread's running event loop: Jupyter's own, in a widget.
        del server
    finally:
        if started:
            ray.shutdown()
    return CallsRun(actor, body, calls, max_concurrency, float(seconds), cpus,
                    tuple((round(s - t0, 9), round(e - t0, 9)) for s, e in spans))


def summary_text(run: CallsRun) -> str:
    """One line: the measured makespan beside the formula's."""
    if run.actor == "async" and run.body in BLOCKING:
        formula = f"n·s = {run.calls} × {run.seconds:g}"
    elif run.body in NEEDS_CPU:
        formula = f"ceil(n / min(k, CPUs))·s = ceil({run.calls} / {min(run.max_concurrency, run.cpus)}) × {run.seconds:g}"
    else:
        formula = f"ceil(n / k)·s = ceil({run.calls} / {run.max_concurrency}) × {run.seconds:g}"
    return (f"{run.calls} calls of {run.body}({run.seconds:g}) on a {run.actor} actor, max_concurrency="
            f"{run.max_concurrency}: {run.most_at_once} at once, {run.makespan:.2f} s measured; "
            f"{formula} = {run.theory:.2f} s")


def plot_calls(run: CallsRun, ax: Any = None) -> Any:
    """One bar per call, from its start to its end on the virtual clock."""
    from matplotlib.figure import Figure

    fig = None
    if ax is None:
        fig = Figure(figsize=(8, 0.45 * run.calls + 1.6))
        ax = fig.subplots()
    color = "tab:red" if run.actor == "async" and run.body in BLOCKING else "tab:blue"
    for i, (start, end) in enumerate(run.spans):
        ax.barh(i, end - start, left=start, height=0.6, color=color, edgecolor="black", linewidth=0.5)
    ax.axvline(run.theory, color="black", ls=":", lw=1, label=f"formula: {run.theory:.2f} s")
    ax.set_yticks(range(run.calls), [f"call {i}" for i in range(run.calls)])
    ax.invert_yaxis()
    ax.set_xlim(0, max(run.makespan, run.theory) * 1.05)
    ax.set_xlabel("virtual time since the calls were submitted (s)")
    ax.set_title(f"{run.actor} actor, {run.body}({run.seconds:g}), max_concurrency={run.max_concurrency}: "
                 f"{run.makespan:.2f} s", fontsize=10)
    ax.legend(loc="lower right", fontsize=8)
    if fig is not None:
        fig.tight_layout()
    return fig if fig is not None else ax.figure


def event_loop_widget(actor: str = "async", body: str = "time.sleep", calls: int = 4,
                      max_concurrency: int = 8, seconds: float = 0.5, *,
                      bodies: tuple[str, ...] = BODIES) -> Any:
    """Pick the actor, what each call does (one of `bodies`), how many calls and max_concurrency:
    the run redraws."""
    import ipywidgets as w

    from dsai.viz.amdahl import figure_png

    if not bodies or any(b not in BODIES for b in bodies) or body not in bodies:
        raise EventLoopError(f"bodies must be some of {BODIES} and include body={body!r}, got {bodies!r}")
    style = {"description_width": "initial"}
    actor_w = w.ToggleButtons(options=list(ACTORS), value=actor, description="actor", style=style)
    body_w = w.Dropdown(options=list(bodies), value=body, description="each call runs", style=style)
    calls_w = w.IntSlider(value=calls, min=1, max=8, description="calls n", continuous_update=False)
    conc_w = w.IntSlider(value=max_concurrency, min=1, max=8, description="max_concurrency k",
                         continuous_update=False, style=style)
    line = w.HTML()
    image = w.Image(format="png")

    def update(_: Any = None) -> None:
        try:
            run = run_calls(actor_w.value, body_w.value, calls_w.value, conc_w.value, seconds)
        except EventLoopError as e:
            line.value = f"<b>{e}</b>"
            return
        line.value = summary_text(run)
        image.value = figure_png(plot_calls(run))

    for control in (actor_w, body_w, calls_w, conc_w):
        control.observe(update, names="value")
    box = w.VBox([w.HBox([actor_w, body_w]), w.HBox([calls_w, conc_w]), line, image])
    box.update = update  # so a notebook (or a test) can redraw
    update()
    return box
