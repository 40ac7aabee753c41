"""What a student does to each lesson's widget in the browser, and what must change on screen.

Every lesson has a live widget (ipywidgets: the logic in `dsai.viz`, the notebook only calls
it), and not all of them are sliders: lesson 02's event-loop widget has toggle buttons and a
dropdown, lesson 04's explorer starts from a schedule dropdown, lesson 05's CAP explorer runs
only when its Run button is pressed. So each lesson lists the steps a student takes, each a few
`Act`s on controls found by the label the student reads on screen, and after every step the
widget's plot must change (and its text, where it shows some: a table, a summary line, a
verdict). A callback that raised or drew nothing leaves the widget as it was, so the check fails.

The steps run in the order given; each is compared with the state the one before left, once
the kernel is idle and the widget has stopped changing, so a late redraw from one step cannot
pass for the next one's.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

HANG_GUARD_S = 90  # how long a step may take to show its change: a hang guard, not a speed check


@dataclass(frozen=True)
class Act:
    """One thing a student does: drag a slider, pick a dropdown option, press a toggle or a button."""

    how: str      # "drag", "select", "toggle" or "click"
    label: str    # the control's label on screen ("click": the button's own text)
    to: str = ""  # "select", "toggle": the option the student picks

    def __str__(self) -> str:
        return {"drag": f"drag the {self.label!r} slider", "click": f"press {self.label!r}",
                "select": f"pick {self.to!r} in the {self.label!r} dropdown",
                "toggle": f"press {self.to!r} of the {self.label!r} buttons"}[self.how]


def drag(label: str) -> Act:
    return Act("drag", label)


def select(label: str, to: str) -> Act:
    return Act("select", label, to)


def toggle(label: str, to: str) -> Act:
    return Act("toggle", label, to)


def click(label: str) -> Act:
    return Act("click", label)


# Lesson number -> the steps (each a tuple of acts) a student takes on the lesson's widget(s).
# The values are read from each widget's code in dsai/viz/ (labels, options, defaults).
WIDGET_STEPS: dict[str, list[tuple[Act, ...]]] = {
    # tasks_widget: sliders for tasks, CPUs, seconds above the measured Gantt chart
    "00": [(drag("tasks"),)],
    # amdahl_widget: sliders for CPUs and the serial fraction; a summary line and the figure
    "01": [(drag("CPUs n"),)],
    # straggler_widget: a slider, the table and the two timelines; then event_loop_widget:
    # the actor toggle (each way) and the body dropdown, over a summary line and the timeline
    "02": [(drag("straggler (s)"),), (toggle("actor", "threaded"),), (toggle("actor", "async"),),
           (select("each call runs", "await asyncio.sleep"),)],
    # ps_explorer: the mode dropdown and the sliders above the learning curves and the table
    "03": [(select("mode", "sync"),), (drag("workers"),)],
    # model_parallel_explorer (drawn by its first change): the schedule dropdown draws the
    # pipeline, the ZeRO stage dropdown redraws the memory bars. Each schedule pick restarts the
    # devices: a second one fails unless widget messages reach the kernel's main thread
    # (binder/lab-overrides.json).
    "04": [(select("schedule", "gpipe"),), (select("stage", "ZeRO-1"),), (select("schedule", "naive"),)],
    # cap_explorer: nothing runs until Run is pressed; a new mode, then Run
    "05": [(select("mode", "ap-lww"), click("Run"))],
    # fault_explorer: what to kill (dropdown) and when (slider) above three panels and a table
    "06": [(select("kill", "worker"),), (drag("at (ms)"),)],
}

_CONTROL_CSS = {"drag": ".widget-slider", "select": ".widget-dropdown", "toggle": ".widget-toggle-buttons"}


def _exact(text: str) -> re.Pattern:
    return re.compile(rf"^\s*{re.escape(text)}\s*$")


def control(page, act: Act):
    """A locator for the control, relative to whatever contains it (usable in `has=`)."""
    if act.how == "click":
        return page.locator("button.jupyter-button", has_text=_exact(act.label))
    return page.locator(_CONTROL_CSS[act.how]).filter(
        has=page.locator(".widget-label", has_text=_exact(act.label)))


def widget_output(page, scope, act: Act):
    """The output (one cell output: the whole widget) holding the act's control, which must be unique."""
    found = scope.locator(".jp-OutputArea-output").filter(has=control(page, act))
    found.first.wait_for(timeout=60_000)  # rendered by now in practice; the wait is a hang guard
    count = found.count()
    assert count == 1, f"{count} widget outputs have a control to {act} (expected exactly one)"
    return found


# The widget's state as the student sees it: each image's bytes (hashed: the widget's Image
# shows a blob: URL that changes on every update, an Output widget a data: URL), each SVG, the
# text of its HTML panes, and any error or stderr text shown inside it.
_STATE_JS = """async (root) => {
    const hash = (bytes) => {
        let h = 0x811c9dc5;
        for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
        return (h >>> 0).toString(16) + '/' + bytes.length;
    };
    const plots = [];
    for (const img of root.querySelectorAll('img')) {
        try { plots.push(hash(new Uint8Array(await (await fetch(img.src)).arrayBuffer()))); }
        catch (e) { plots.push('unreadable'); }  // replaced while read: the next poll sees the new one
    }
    for (const svg of root.querySelectorAll('svg'))
        plots.push(hash(new TextEncoder().encode(svg.outerHTML)));
    const text = Array.from(root.querySelectorAll('.widget-html-content')).map(e => e.innerText.trim());
    const errors = Array.from(root.querySelectorAll(
        '.jp-RenderedText[data-mime-type="application/vnd.jupyter.stderr"]')).map(e => e.innerText.slice(0, 500));
    return {plots, text, errors};
}"""

_KERNEL_IDLE_JS = """() => {
    const panel = window.jupyterapp.shell.currentWidget;
    const kernel = panel && panel.sessionContext.session && panel.sessionContext.session.kernel;
    return !!kernel && kernel.status === 'idle';
}"""


def state(output) -> dict:
    return output.evaluate(_STATE_JS)


def settled(page, output) -> dict:
    """The widget's state once the kernel is idle and two reads in a row agree."""
    deadline = time.monotonic() + HANG_GUARD_S
    last = None
    while time.monotonic() < deadline:
        now = state(output)
        if now == last and page.evaluate(_KERNEL_IDLE_JS):
            return now
        last = now
        page.wait_for_timeout(300)
    raise AssertionError(f"the widget kept changing (or the kernel stayed busy) for {HANG_GUARD_S} s")


def perform(page, output, act: Act) -> None:
    """Do the act with the mouse, as a student would (a dropdown through its <select>)."""
    ctl = output.locator(control(page, act))
    ctl.scroll_into_view_if_needed()
    if act.how == "click":
        ctl.click()
    elif act.how == "select":
        ctl.locator("select").select_option(label=act.to)
    elif act.how == "toggle":
        ctl.locator("button", has_text=_exact(act.to)).click()
    elif act.how == "drag":
        _drag(page, ctl)
    else:
        raise ValueError(f"unknown act {act.how!r}: drag, select, toggle or click")


def _drag(page, slider) -> None:
    """Press the handle and move it to a quarter or three quarters of the track, away from where it is."""
    handle, track = slider.locator(".noUi-handle"), slider.locator(".slider-container")
    before = handle.get_attribute("aria-valuenow")
    box, bar = handle.bounding_box(), track.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    target = bar["x"] + bar["width"] * (0.25 if x > bar["x"] + bar["width"] / 2 else 0.75)
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(target, y, steps=5)
    page.mouse.up()
    after = handle.get_attribute("aria-valuenow")
    assert after != before, f"dragging the slider left it at {before}"


def run_step(page, scope, steps: tuple[Act, ...]) -> tuple[dict, dict]:
    """Do one step's acts on its widget; return (before, after), both settled, after showing a change."""
    output = widget_output(page, scope, steps[0])
    before = settled(page, output)
    for act in steps:
        perform(page, output, act)
    deadline = time.monotonic() + HANG_GUARD_S
    while time.monotonic() < deadline and state(output)["plots"] == before["plots"]:
        page.wait_for_timeout(250)
    return before, settled(page, output)
