"""Is this machine ready for the course? One call checks the pieces and names what to fix.

A distributed program fails far from its cause; a course should not. The
welcome lesson calls `check_setup()`, which checks, in order: the Python
version, the libraries the lessons import (with their minimum versions), that
a figure renders, the backend chosen by ``DSAI_BACKEND`` (and, for real Ray, that it is installed
and which version), and finally that the cluster runs a task: on the
simulator, four one-second tasks on two CPUs must take exactly 2.0 virtual
seconds. Each check is one `Check` line with a fix when it fails; the
`SetupReport` ends with one verdict.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from importlib import metadata
from typing import Callable

__all__ = ["Check", "SetupReport", "check_setup", "REQUIREMENTS", "RAY_VERSION"]

# What the lessons import, with the minimum versions pyproject.toml asks for.
REQUIREMENTS: dict[str, str] = {
    "numpy": "1.24",
    "matplotlib": "3.7",
    "ipywidgets": "8",
    "cloudpickle": "2.2",
    "greenlet": "3.0",
}
RAY_VERSION = "2.60.0"  # the Ray release the simulator follows, call for call
MIN_PYTHON = (3, 10)


@dataclass(frozen=True)
class Check:
    """One line of the report: what was checked, whether it is fine, and how to fix it if not."""

    name: str
    ok: bool
    detail: str
    fix: str = ""

    def line(self) -> str:
        mark = "ok " if self.ok else "BAD"
        text = f"[{mark}] {self.name}: {self.detail}"
        return text + (f"\n      fix: {self.fix}" if self.fix and not self.ok else "")


@dataclass
class SetupReport:
    """Every check, in order, and the verdict (`ok` is True when nothing needs fixing)."""

    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def problems(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    def verdict(self) -> str:
        if self.ok:
            return "Verdict: all set. Every check passed; go on to the next cell."
        names = ", ".join(c.name for c in self.problems)
        n = len(self.problems)
        return f"Verdict: {n} problem{'s' if n > 1 else ''} to fix before the lessons will run ({names}); see BAD above."

    def __str__(self) -> str:
        return "\n".join([c.line() for c in self.checks] + [self.verdict()])

    def __repr__(self) -> str:
        return f"SetupReport(ok={self.ok}, checks={len(self.checks)}, problems={len(self.problems)})"


def _version_tuple(text: str) -> tuple[int, ...]:
    """'1.26.4' -> (1, 26, 4); stops at the first part that is not a number ('2.0rc1' -> (2,))."""
    parts = []
    for piece in text.split("."):
        digits = ""
        for ch in piece:
            if not ch.isdigit():
                break
            digits += ch
        if not digits:
            break
        parts.append(int(digits))
        if len(digits) < len(piece):
            break
    return tuple(parts)


def _installed(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def check_python(version: tuple[int, ...] | None = None) -> Check:
    v = tuple(sys.version_info[:3]) if version is None else tuple(version)
    shown = ".".join(map(str, v))
    if v[:2] >= MIN_PYTHON:
        return Check("python", True, shown)
    return Check("python", False, f"{shown} is too old; the course needs {MIN_PYTHON[0]}.{MIN_PYTHON[1]} or newer",
                 "install Python 3.10+ and recreate the environment (make clean && make lab)")


def check_package(name: str, minimum: str, installed: Callable[[str], str | None] = _installed) -> Check:
    have = installed(name)
    if have is None:
        return Check(name, False, "not installed", f"pip install '{name}>={minimum}' (or: make lab)")
    if _version_tuple(have) < _version_tuple(minimum):
        return Check(name, False, f"{have} is older than the {minimum} the course needs",
                     f"pip install --upgrade '{name}>={minimum}'")
    return Check(name, True, have)


def check_plotting() -> Check:
    """Draw a tiny figure to PNG: matplotlib imports, and its renderer works (the lessons' figures need both)."""
    try:
        import io

        from matplotlib.figure import Figure

        fig = Figure(figsize=(1, 1))
        fig.subplots().plot([0, 1], [0, 1])
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
    except Exception as e:  # noqa: BLE001 - whatever broke is what the student must see
        return Check("plotting", False, f"drawing a test figure failed: {type(e).__name__}: {e}",
                     "pip install --upgrade 'matplotlib>=3.7', then restart the kernel")
    return Check("plotting", True, "a test figure rendered to PNG")


def check_backend(env: str | None = None, installed: Callable[[str], str | None] = _installed) -> Check:
    raw = os.environ.get("DSAI_BACKEND", "") if env is None else env
    backend = raw.strip().lower() or "sim"
    if backend == "sim":
        return Check("backend", True, "the simulator (dsai.mockray): virtual time, same numbers on every run")
    if backend != "ray":
        return Check("backend", False, f"DSAI_BACKEND={raw!r} is not a backend",
                     "unset DSAI_BACKEND (the simulator) or set DSAI_BACKEND=ray (real Ray), then restart the kernel")
    have = installed("ray")
    if have is None:
        return Check("backend", False, "DSAI_BACKEND=ray but the ray package is not installed",
                     f"pip install 'ray=={RAY_VERSION}' (or unset DSAI_BACKEND to use the simulator)")
    if have != RAY_VERSION:
        return Check("backend", True, f"real Ray {have} (the course is tested on {RAY_VERSION}; "
                                      "small differences are possible)")
    return Check("backend", True, f"real Ray {have}: wall-clock time, numbers vary from run to run")


def check_cluster() -> Check:
    """Run tasks on the backend. On the simulator: 4 one-second tasks on 2 CPUs take 2.0 virtual s."""
    import time

    try:
        from dsai import ray
    except Exception as e:  # noqa: BLE001 - any import failure is what the student must see
        return Check("cluster", False, f"`from dsai import ray` failed: {type(e).__name__}: {e}",
                     "check the backend line above; reinstall with: pip install -e .")

    @ray.remote
    def one_second(i: int) -> int:
        time.sleep(1.0)
        return i

    started_here = not ray.is_initialized()
    # Real Ray with RAY_ADDRESS naming a running cluster (as dsai.course.existing_cluster reads
    # it; not imported: course imports this module): join it, do not start one.
    address = os.environ.get("RAY_ADDRESS", "").strip() if ray.__name__ != "dsai.mockray" else ""
    address = None if address in ("", "local") else address
    try:
        if started_here:
            ray.init(address=address) if address else ray.init(address="local", num_cpus=2)
        if ray.__name__ == "dsai.mockray":  # the backend actually imported, not the variable
            from dsai import sim

            cpus = int(ray.cluster_resources().get("CPU", 0))
            t0 = sim.now()
            got = ray.get([one_second.remote(i) for i in range(4)])
            took = sim.now() - t0
            expected = 4.0 / min(cpus, 4) if cpus else float("inf")
            if got != [0, 1, 2, 3] or abs(took - expected) > 1e-9:
                return Check("cluster", False, f"4 one-second tasks on {cpus} CPUs returned {got} after "
                                               f"{took} virtual s (expected [0, 1, 2, 3] after {expected} s)",
                             "reinstall dsai (pip install -e .) and restart the kernel; report it if it persists")
            return Check("cluster", True, f"4 one-second tasks on {cpus} CPUs: {took:.1f} virtual s, as expected")
        got = ray.get([one_second.remote(i) for i in range(2)])
        if got != [0, 1]:
            return Check("cluster", False, f"two tasks returned {got}, expected [0, 1]",
                         "restart the kernel; check `ray status`")
        if address:
            nodes = len([n for n in ray.nodes() if n.get("Alive", True)])
            return Check("cluster", True, f"two one-second tasks ran on the Ray cluster at "
                                          f"RAY_ADDRESS={address} ({nodes} node(s))")
        return Check("cluster", True, "two one-second tasks ran on real Ray")
    except Exception as e:  # noqa: BLE001
        return Check("cluster", False, f"running a task failed: {type(e).__name__}: {e}",
                     "restart the kernel and run this cell again; on real Ray check `ray status`")
    finally:
        if started_here:
            ray.shutdown()


def check_setup(*, run_cluster: bool = True) -> SetupReport:
    """Check Python, the libraries, the backend and (if `run_cluster`) a run of tasks; return the report."""
    report = SetupReport()
    report.checks.append(check_python())
    packages = {name: check_package(name, minimum) for name, minimum in REQUIREMENTS.items()}
    report.checks.extend(packages.values())
    if packages["matplotlib"].ok:
        report.checks.append(check_plotting())
    backend = check_backend()
    report.checks.append(backend)
    if run_cluster and backend.ok:
        report.checks.append(check_cluster())
    return report
