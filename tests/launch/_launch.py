"""Helpers of the launch suite: the Binder environment, JupyterLab, the end-of-run report."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("DSAI_ARTIFACTS", REPO / "artifacts")) / "launch"
ENABLED = os.environ.get("DSAI_LAUNCH_TESTS", "") == "1"
SKIP_REASON = ("launch suite not requested: it builds the Binder environment from binder/ "
               "(minutes, needs PyPI); run `make test-launch` or set DSAI_LAUNCH_TESTS=1")
# What the repository copy leaves out: local build state, never part of a clone.
NOT_COPIED = shutil.ignore_patterns(".venv", ".git", "__pycache__", ".pytest_cache",
                                     ".hypothesis", "build", "*.egg-info", "artifacts",
                                     ".ipynb_checkpoints")

REPORT: list[str] = []  # lines for the end-of-run report


def report(line: str) -> None:
    REPORT.append(line)


def student_lessons(root: Path = REPO) -> list[Path]:
    """Every student notebook, in lesson order."""
    return sorted((root / "notebooks").glob("*.ipynb"))


def runtime_python() -> str:
    """The interpreter runtime.txt names (repo2docker's rule: `python-X.Y`)."""
    spec = (REPO / "binder" / "runtime.txt").read_text().strip()
    assert spec.startswith("python-"), f"binder/runtime.txt should read python-X.Y, not {spec!r}"
    version = spec.removeprefix("python-")
    exe = shutil.which(f"python{version}")
    if exe is None and f"{sys.version_info.major}.{sys.version_info.minor}" == version:
        exe = sys.executable
    if exe is None:
        pytest.fail(f"binder/runtime.txt asks for Python {version}, which is not on PATH: "
                    f"install python{version} to build the Binder environment")
    return exe


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


@dataclass
class BinderEnv:
    """A built environment: its venv, the repository copy postBuild ran in, and a HOME."""

    venv: Path
    repo: Path
    home: Path
    install_seconds: float
    size_bytes: int
    env: dict = field(repr=False, default_factory=dict)

    @property
    def bin(self) -> Path:
        return self.venv / "bin"

    def run(self, *args: str, **kw) -> subprocess.CompletedProcess:
        kw.setdefault("cwd", self.repo)
        return subprocess.run(list(args), env=self.env, capture_output=True, text=True, **kw)



def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Lab:
    url: str
    token: str
    root: Path

    def get(self, path: str, follow: bool = True) -> tuple[int, str, str]:
        """(status, final path or Location, body) of a GET with the token."""
        sep = "&" if "?" in path else "?"
        req = urllib.request.Request(f"{self.url}{path}{sep}token={self.token}")
        opener = (urllib.request.build_opener() if follow
                  else urllib.request.build_opener(_NoRedirect()))
        try:
            with opener.open(req, timeout=30) as r:
                return r.status, r.url, r.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            return e.code, e.headers.get("Location", ""), ""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kw):
        return None


def start_lab(env: BinderEnv, root: Path, log: Path):
    """Start JupyterLab from the environment on a free loopback port; return (process, Lab)."""
    port, token = free_port(), secrets.token_hex(16)
    args = [str(env.bin / "jupyter"), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
            f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
            "--ServerApp.port_retries=0",
            # window.jupyterapp, so the browser test can tell when the kernel is connected
            "--LabApp.expose_app_in_browser=True"]
    if os.geteuid() == 0:
        args.append("--allow-root")  # CI runs as root; JupyterLab refuses that unless told
    out = open(log, "w")
    proc = subprocess.Popen(args, cwd=root, env=env.env, stdout=out, stderr=subprocess.STDOUT)
    lab = Lab(f"http://127.0.0.1:{port}", token, root)
    deadline = time.monotonic() + 180  # a hang guard, not a speed check
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"JupyterLab exited with {proc.returncode}:\n{log.read_text()}")
        try:
            if lab.get("/api/status")[0] == 200:
                return proc, lab
        except OSError:
            pass
        time.sleep(0.5)
    proc.terminate()
    raise AssertionError(f"JupyterLab did not answer within 180 s:\n{log.read_text()}")


def stop_lab(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()



def lesson_report_json(stdout: str) -> dict:
    """The JSON line lax_lesson.py prints last."""
    for line in reversed(stdout.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise AssertionError(f"no report line in:\n{stdout[-2000:]}")

