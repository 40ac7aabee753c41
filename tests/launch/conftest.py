"""The launch suite: the course as a student gets it, from binder/ files alone.

These tests build a fresh environment the way repo2docker does from `binder/` (the Python
of runtime.txt, a new virtual environment, `pip install -r binder/requirements.txt`, then
`binder/postBuild` run in a copy of the repository), then run the lessons and JupyterLab
in it. Building takes minutes and needs PyPI, so `make test` skips them; `make test-launch`
and `.ci/run` set DSAI_LAUNCH_TESTS=1 to run them.

Lessons are found by globbing `notebooks/*.ipynb`, so a lesson merged later is covered
with no edit here. Figures (environment size, install seconds, each lesson's peak kernel
memory) are printed at the end of the run and written to artifacts/launch/report.txt.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
import pytest

from _launch import (ARTIFACTS, ENABLED, NOT_COPIED, REPO, REPORT, SKIP_REASON, BinderEnv, du,
                     report, runtime_python, start_lab, stop_lab)

# Tests that need the built environment (or the browser, which needs it too).
_HEAVY = {"binder_env", "lab_server", "browser", "served"}


def pytest_collection_modifyitems(config, items):
    if ENABLED:
        return
    for item in items:
        if _HEAVY & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.skip(reason=SKIP_REASON))


def pytest_terminal_summary(terminalreporter):
    if not REPORT:
        return
    terminalreporter.section("launch report")
    for line in REPORT:
        terminalreporter.write_line(line)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with open(ARTIFACTS / "report.txt", "a") as f:  # appended: .ci/run runs several sessions
        f.write("\n".join(REPORT) + "\n")


@pytest.fixture(scope="session")
def launch_dir():
    """A folder of this run's own (pytest's shared temp root is pruned by other runs).

    DSAI_LAUNCH_DIR names one to keep; an environment already built there is reused,
    which is for iterating on these tests, never for CI."""
    keep = os.environ.get("DSAI_LAUNCH_DIR")
    base = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="dsai-launch-"))
    base.mkdir(parents=True, exist_ok=True)
    yield base
    if not keep:
        shutil.rmtree(base, ignore_errors=True)


# Test-only JupyterLab settings in the environment's HOME: no news pop-up over the
# screenshots, and every cell kept in the page so the test can read each prompt.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
}


@pytest.fixture(scope="session")
def binder_env(launch_dir) -> BinderEnv:
    base = launch_dir
    repo, venv, home = base / "repo", base / "venv", base / "home"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("VIRTUAL_ENV", "PYTHON", "JUPYTER", "DSAI_", "PIP_", "MPL"))}
    env.update(HOME=str(home), PATH=f"{venv / 'bin'}:{env.get('PATH', '/usr/bin:/bin')}",
               VIRTUAL_ENV=str(venv), PIP_NO_CACHE_DIR="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    if (base / ".built").is_file():
        built = BinderEnv(venv, repo, home, float((base / ".built").read_text()), du(venv), env)
        report(f"Binder environment: {built.size_bytes / 2**20:.0f} MiB, reused from {base}")
        return built
    shutil.rmtree(base / "repo", ignore_errors=True)
    shutil.copytree(REPO, repo, ignore=NOT_COPIED)
    start = time.monotonic()
    steps = [[runtime_python(), "-m", "venv", "--clear", str(venv)],
             [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "-r",
              str(repo / "binder" / "requirements.txt")],
             ["bash", str(repo / "binder" / "postBuild")]]
    for step in steps:
        done = subprocess.run(step, cwd=repo, env=env, capture_output=True, text=True)
        assert done.returncode == 0, f"{' '.join(step)} failed:\n{done.stdout}\n{done.stderr}"
    seconds = time.monotonic() - start
    for name, values in LAB_SETTINGS.items():
        path = home / ".jupyter" / "lab" / "user-settings" / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    (base / ".built").write_text(f"{seconds:.1f}")
    built = BinderEnv(venv, repo, home, seconds, du(venv), env)
    report(f"Binder environment: {built.size_bytes / 2**20:.0f} MiB, built in {seconds:.0f} s "
           f"(venv + pinned requirements + postBuild, no pip cache)")
    return built


@pytest.fixture(scope="session")
def lab_server(binder_env, launch_dir):
    """JupyterLab from the Binder environment, serving the repository copy."""
    proc, lab = start_lab(binder_env, binder_env.repo, launch_dir / "lab.log")
    yield lab
    stop_lab(proc)
