"""The course in a real browser: JupyterLab from the Binder environment, driven by headless Chromium.

For each of lessons 00, 01, 03 and 05 that exists (globbed, so lessons merged later are
covered), the student notebook is opened in JupyterLab and run with Run > Run All Cells,
as a student would. Exercise cells are tagged `raises-exception` first (lax_lesson.py
says why: a release's stubs raise by design); every other cell must run without an error.
Where the lesson has an ipywidgets slider, it is dragged and the plot must change.
Screenshots go to artifacts/launch/.

The browser is Debian's Chromium (`apt-get install chromium`), driven by Playwright's Python
package through `executable_path`: nothing downloads a browser. Without Chromium the tests
skip, unless DSAI_REQUIRE_BROWSER=1 (as in .ci/run), where its absence is a failure.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import tempfile
import time
from pathlib import Path

import pytest

from _launch import ARTIFACTS, report, student_lessons
from lax_lesson import EXCUSED_TAG, excuse_exercises

CHROMIUM = os.environ.get("DSAI_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
LESSONS = ("00", "01", "03", "05")  # the lessons with the course's main widgets
# How long a Run All may take before the test gives up: a hang guard, not a speed check.
HANG_GUARD_MS = int(float(os.environ.get("DSAI_BROWSER_TIMEOUT", "600")) * 1000)
IN_BROWSER = [p.name for p in student_lessons() if p.name[:2] in LESSONS]


def _missing() -> str | None:
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)):
        return f"Chromium not found at {CHROMIUM}: `apt-get install chromium` (or set DSAI_CHROMIUM)"
    if importlib.util.find_spec("playwright") is None:
        return "Playwright's Python package is missing: `pip install playwright` (no browser download)"
    return None


@pytest.fixture(scope="module")
def browser(launch_dir):
    why = _missing()
    if why:
        if os.environ.get("DSAI_REQUIRE_BROWSER") == "1":
            pytest.fail(why)
        pytest.skip(why)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tempfile.mkdtemp(prefix="chromium-profile-", dir=launch_dir)),  # a fresh --user-data-dir
            executable_path=CHROMIUM, headless=True, args=FLAGS,
            viewport={"width": 1400, "height": 1000})
        yield context
        context.close()


@pytest.fixture(scope="module")
def served(binder_env, lab_server) -> Path:
    """The lessons JupyterLab opens: copies of notebooks/ with the exercise cells excused."""
    folder = binder_env.repo / "browser-check"
    folder.mkdir(exist_ok=True)
    for name in IN_BROWSER:
        excuse_exercises(binder_env.repo / "notebooks" / name, folder / name)
    return folder


_pages: dict = {}  # lesson -> the page it ran in, for the slider test


_KERNEL_JS = """async () => {
    const panel = window.jupyterapp.shell.currentWidget;
    await panel.context.ready;
    await panel.sessionContext.ready;
    const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
    if (!kernel) return 'no kernel';
    await kernel.info;
    return kernel.connectionStatus + '/' + kernel.status;
}"""


def _wait_for_kernel(page) -> None:
    """Until the notebook's kernel is connected and idle: a Run All sent before that (right
    after the page opened) can reach no kernel and run nothing."""
    deadline = time.monotonic() + 180  # a hang guard
    state = ""
    while time.monotonic() < deadline:
        state = page.evaluate(_KERNEL_JS)
        if state == "connected/idle":
            return
        page.wait_for_timeout(500)
    raise AssertionError(f"the kernel never became ready in the browser: {state}")


def _run_all(page) -> None:
    """Run > Run All Cells, from the menu as a student does."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()


_PROMPTS_JS = """() => Array.from(document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt'))
                   .map(e => e.textContent.trim())"""


def _wait_until_all_ran(page, cells: int) -> None:
    """Nothing queued or running ([*]) and the kernel's counter reached the number of code
    cells (a restarted kernel counts from 1; JupyterLab blanks the prompt of a cell that
    raised, so the last number shown is the proof that every cell was executed)."""
    deadline = time.monotonic() + HANG_GUARD_MS / 1000
    prompts = []
    while time.monotonic() < deadline:
        prompts = page.evaluate(_PROMPTS_JS)
        if len(prompts) == cells and "[*]:" not in prompts and f"[{cells}]:" in prompts:
            return
        page.wait_for_timeout(500)
    _screenshot(page, "timeout")
    raise AssertionError(f"cells did not all run within the hang guard; prompts: {prompts}")


def _screenshot(page, name: str) -> None:
    """The whole notebook in one picture: the viewport stretched to the notebook's height."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    height = page.evaluate("""() => Math.max(...Array.from(document.querySelectorAll(
        '.jp-NotebookPanel-notebook, .jp-WindowedPanel-outer')).map(e => e.scrollHeight), 0)""")
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": min(max(height + 200, 1000), 16000)})
    page.evaluate("""() => document.querySelectorAll('.jp-WindowedPanel-outer, .jp-NotebookPanel-notebook')
                       .forEach(e => { e.scrollTop = 0; })""")
    page.wait_for_timeout(500)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
    page.set_viewport_size(size)


def _save_and_read(page, path: Path, must_run: list[int]) -> dict:
    """Save from JupyterLab and read what it wrote (outputs have explicit types on disk)."""
    page.locator(".jp-Notebook").first.click(position={"x": 5, "y": 5})
    page.keyboard.press("Control+s")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        nb = json.loads(path.read_text())
        counts = [c.get("execution_count") for c in nb["cells"] if c["cell_type"] == "code"]
        if all(counts[i] for i in must_run):
            return nb
        page.wait_for_timeout(500)
    raise AssertionError(f"JupyterLab did not save {path.name} with every cell run")


@pytest.mark.parametrize("lesson", IN_BROWSER or ["none"])
def test_lesson_runs_in_the_browser_without_errors(browser, lab_server, served, lesson):
    if lesson == "none":
        pytest.fail("none of lessons 00, 01, 03, 05 is in notebooks/")
    path = served / lesson
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    page = browser.new_page()
    _pages[lesson] = page
    page.goto(f"{lab_server.url}/lab/tree/{path.parent.name}/{lesson}?token={lab_server.token}")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
    _wait_for_kernel(page)
    _run_all(page)
    _wait_until_all_ran(page, len(code))
    page.wait_for_timeout(1000)  # let widget views finish rendering before the screenshot
    _screenshot(page, f"{path.stem}-ran")

    must_run = [i for i, c in enumerate(code) if EXCUSED_TAG not in c["metadata"].get("tags", [])]
    saved = _save_and_read(page, path, must_run)
    errors = []
    for i, cell in enumerate(c for c in saved["cells"] if c["cell_type"] == "code"):
        excused = EXCUSED_TAG in cell.get("metadata", {}).get("tags", [])
        for out in cell.get("outputs", []):
            if out["output_type"] == "error" and not excused:
                errors.append(f"code cell {i + 1}: {out['ename']}: {out['evalue']}")
    assert not errors, f"{lesson} shows errors in the browser:\n" + "\n".join(errors)
    assert "Error displaying widget" not in page.inner_text(".jp-Notebook")
    views = sum(1 for c in saved["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])
                if "application/vnd.jupyter.widget-view+json" in o.get("data", {}))
    rendered = page.locator(".jp-Notebook .jupyter-widgets").count()
    if views:
        assert rendered > 0, f"{lesson} made {views} widget views but none rendered"
    excused = sum(EXCUSED_TAG in c.get("metadata", {}).get("tags", []) for c in code)
    report(f"browser {lesson}: {len(code)} code cells ran, {excused} exercise cells excused, "
           f"no other error; {views} widget views, {rendered} widget elements rendered")


_IMAGES_JS = """() => Array.from(document.querySelectorAll('.jp-Notebook .jp-OutputArea img'))
                  .map(e => e.src).concat(Array.from(document.querySelectorAll(
                  '.jp-Notebook .jp-OutputArea svg')).map(e => e.outerHTML.length + ':' +
                  e.outerHTML.slice(-2000)))"""


@pytest.mark.parametrize("lesson", IN_BROWSER or ["none"])
def test_a_slider_changes_the_plot(browser, lesson):
    page = _pages.get(lesson)
    if page is None:
        pytest.skip(f"{lesson} did not open in the browser (see the test above)")
    sliders = page.locator(".jp-Notebook .widget-slider .noUi-handle, "
                           ".jp-Notebook .widget-slider input[type=range]")
    if sliders.count() == 0:
        report(f"browser {lesson}: no ipywidgets slider, slider check skipped")
        pytest.skip(f"{lesson} has no ipywidgets slider")
    handle = sliders.first
    handle.scroll_into_view_if_needed()
    track = handle.locator("xpath=ancestor::*[contains(@class,'widget-slider')][1]")
    before = page.evaluate(_IMAGES_JS)
    assert before, f"{lesson} has a slider but no plot in any output"
    box, bar = handle.bounding_box(), track.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    target = bar["x"] + bar["width"] * (0.25 if x > bar["x"] + bar["width"] / 2 else 0.75)
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(target, y, steps=10)
    page.mouse.up()
    deadline = time.monotonic() + 30  # a hang guard: callbacks answer well under a second
    after = before
    while time.monotonic() < deadline and after == before:
        page.wait_for_timeout(250)
        after = page.evaluate(_IMAGES_JS)
    _screenshot(page, f"{Path(lesson).stem}-slider")
    assert after != before, f"{lesson}: moving the slider did not change any plot"
    report(f"browser {lesson}: dragging a slider changed the plot")
