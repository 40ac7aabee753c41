"""The course in a real browser: JupyterLab from the Binder environment, driven by headless Chromium.

Every lesson in notebooks/ (globbed, so lessons merged later are covered) is opened in
JupyterLab and run with Run > Run All Cells, as a student would. Exercise cells are tagged
`raises-exception` first (lax_lesson.py says why: a release's stubs raise by design); every
other cell must run without an error and every widget must render. Then the student uses the
lesson's widget: widget_steps.py lists, per lesson, what to drag, pick or press (a slider, a
dropdown, toggle buttons, a Run button: whatever the widget is), and after each step its plot
(and its text) must change. A lesson with no steps listed fails: every lesson has a widget.
Screenshots go to artifacts/launch/: the whole notebook after Run All, and each widget after use.

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
from widget_steps import WIDGET_STEPS, run_step, widget_output

CHROMIUM = os.environ.get("DSAI_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# How long a Run All may take before the test gives up: a hang guard, not a speed check.
HANG_GUARD_MS = int(float(os.environ.get("DSAI_BROWSER_TIMEOUT", "600")) * 1000)
# Lessons the browser shows a reported bug in, and what it is (strict: the marker must go when fixed).
KNOWN_BUGS: dict[str, str] = {}  # lesson number -> the bug that makes it fail in the browser (strict xfail)
IN_BROWSER = [p.name for p in student_lessons()]
PARAMS = [pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[name[:2]]))
          if name[:2] in KNOWN_BUGS else name for name in IN_BROWSER]


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


# kernel_info on the shell channel: a kernel that lost its event loop never answers it.
_ANSWERS_JS = """async () => {
    const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
    const silent = new Promise(resolve => setTimeout(() => resolve(false), 30000));  // a hang guard
    return await Promise.race([kernel.requestKernelInfo().then(() => true), silent]);
}"""


_SHUTDOWN_JS = """async () => {
    const panel = window.jupyterapp.shell.currentWidget;
    if (panel && panel.sessionContext) await panel.sessionContext.shutdown();
}"""


@pytest.fixture(scope="class")
def lesson_page(browser, lab_server, served, lesson):
    """The lesson open in a page of its own; afterwards its kernel is shut down and the page closed
    (so a lesson's kernel never runs beside the next one's)."""
    if lesson == "none":
        pytest.fail("no notebooks/*.ipynb to open in the browser")
    page = browser.new_page()
    # ?reset: a fresh workspace, so the page holds this lesson's notebook and no earlier tab
    page.goto(f"{lab_server.url}/lab/tree/{served.name}/{lesson}?reset&token={lab_server.token}")
    state = {"page": page, "ran": False, "answers": False}
    yield state
    try:
        page.evaluate(_SHUTDOWN_JS)
    finally:
        page.close()


@pytest.mark.parametrize("lesson", PARAMS or ["none"], scope="class")
class TestLessonInTheBrowser:
    """Each lesson, in one page: run it all, then use its widget (the two tests run back to back)."""

    def test_runs_without_errors(self, lesson_page, served, lesson):
        start = time.monotonic()
        page = lesson_page["page"]
        path = served / lesson
        nb = json.loads(path.read_text())
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
        _wait_for_kernel(page)
        _run_all(page)
        _wait_until_all_ran(page, len(code))
        lesson_page["ran"] = True
        lesson_page["answers"] = page.evaluate(_ANSWERS_JS)
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
        assert lesson_page["answers"], f"after Run All the kernel of {lesson} no longer answers"
        assert "Error displaying widget" not in page.inner_text(".jp-Notebook")
        views = sum(1 for c in saved["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])
                    if "application/vnd.jupyter.widget-view+json" in o.get("data", {}))
        rendered = page.locator(".jp-Notebook .jupyter-widgets").count()
        assert views > 0, f"{lesson} made no widget view: every lesson has a live widget"
        assert rendered > 0, f"{lesson} made {views} widget views but none rendered"
        excused = sum(EXCUSED_TAG in c.get("metadata", {}).get("tags", []) for c in code)
        report(f"browser {lesson}: {len(code)} code cells ran, {excused} exercise cells excused, "
               f"no other error; {views} widget views, {rendered} widget elements rendered "
               f"({time.monotonic() - start:.0f} s)")

    def test_widget_answers_its_controls(self, lesson_page, lesson):
        if not lesson_page["ran"]:
            pytest.skip(f"{lesson} did not run in the browser (see the test above)")
        if not lesson_page["answers"]:
            pytest.fail(f"the kernel of {lesson} no longer answers, so its widgets cannot (see the test above)")
        steps = WIDGET_STEPS.get(lesson[:2])
        assert steps, (f"{lesson}: no widget steps in tests/launch/widget_steps.py; list what a "
                       f"student drags, picks or presses on the lesson's widget")
        start = time.monotonic()
        page = lesson_page["page"]
        scope = page.locator(".jp-Notebook")
        for n, acts in enumerate(steps, 1):
            what = ", then ".join(map(str, acts))
            before, after = run_step(page, scope, acts)
            assert not after["errors"], f"{lesson}: after '{what}' the widget shows: {after['errors']}"
            assert after["plots"], f"{lesson}: after '{what}' the widget shows no plot"
            assert after["plots"] != before["plots"], f"{lesson}: '{what}' did not change the plot"
            if before["text"] or after["text"]:
                assert after["text"] != before["text"], (
                    f"{lesson}: '{what}' changed the plot but not the widget's text: {after['text']}")
        widget_output(page, scope, steps[-1][0]).screenshot(  # the last widget used, as left
            path=str(ARTIFACTS / f"{Path(lesson).stem}-widget.png"))
        report(f"browser {lesson}: {len(steps)} widget steps ({'; '.join(', '.join(map(str, a)) for a in steps)}), "
               f"each changed the plot ({time.monotonic() - start:.0f} s)")
