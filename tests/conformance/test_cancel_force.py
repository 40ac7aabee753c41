"""Conformance: `ray.cancel(ref, force=True)` kills the running task's worker process.

Measured on Ray 2.60: `get` raises a plain `TaskCancelledError` (not wrapped in
`RayTaskError`), the task is not retried even with retries left, and none of the
task's own code runs after the kill: neither an `except BaseException:` nor a
`finally:` block, not even when the driver later collects garbage or exits.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import pytest



@pytest.fixture
def marked(ray):
    @ray.remote  # (default max_retries: a forced cancel must not retry it anyway)
    def marked(d, s):
        with open(os.path.join(d, "started"), "a") as fh:
            fh.write("x")
        try:
            time.sleep(s)
            open(os.path.join(d, "after_sleep"), "w").close()
        except BaseException as e:  # noqa: BLE001  (what a forced cancel must not reach)
            with open(os.path.join(d, "except"), "w") as fh:
                fh.write(repr(e))
            raise
        finally:
            open(os.path.join(d, "finally"), "w").close()
        return s

    return marked


def _wait_for(ray, ref, path):
    for _ in range(600):
        if path.exists():
            return
        ray.wait([ref], timeout=0.05)  # real time on Ray, virtual time on the simulator
    raise AssertionError("the task never started")


def test_force_cancel_runs_none_of_the_tasks_handlers(ray, marked, tmp_path):
    ref = marked.remote(str(tmp_path), 30)
    _wait_for(ray, ref, tmp_path / "started")
    ray.cancel(ref, force=True)
    with pytest.raises(ray.exceptions.TaskCancelledError) as info:
        ray.get(ref)
    assert type(info.value) is ray.exceptions.TaskCancelledError  # plain, not RayTaskError(...)
    time.sleep(1.0)  # (the simulator runs 1 virtual second meanwhile)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["started"]
    assert (tmp_path / "started").read_text() == "x"  # run once: not retried


def test_force_cancel_frees_the_cpu(ray, marked, tmp_path):
    refs = [marked.remote(str(tmp_path / str(i)), 30) for i in range(4)]  # all 4 CPUs
    for i, ref in enumerate(refs):
        (tmp_path / str(i)).mkdir()
    for i, ref in enumerate(refs):
        _wait_for(ray, ref, tmp_path / str(i) / "started")

    @ray.remote
    def quick():
        return "ran"

    waiting = quick.remote()
    ray.cancel(refs[0], force=True)
    assert ray.get(waiting, timeout=60) == "ran"  # it got the killed task's CPU
    for ref in refs[1:]:
        ray.cancel(ref, force=True)


_SCRIPT = textwrap.dedent("""
    import gc, os, sys, time
    os.environ["RAY_ADDRESS"] = "local"
    from dsai import ray
    ray.init(num_cpus=2, include_dashboard=False)

    @ray.remote
    def task(path):
        open(path, "w").close()
        try:
            time.sleep(30)
        finally:
            print("FINALLY-RAN", flush=True)

    path = sys.argv[1]
    ref = task.remote(path)
    while not os.path.exists(path):
        ray.wait([ref], timeout=0.05)
    ray.cancel(ref, force=True)
    try:
        ray.get(ref)
    except ray.exceptions.TaskCancelledError as e:
        print("GOT", type(e).__name__, flush=True)
    del ref
    gc.collect()
    time.sleep(1)
    gc.collect()
    print("DRIVER-END", flush=True)
""")


def test_force_cancelled_handlers_never_run_even_at_exit(ray, tmp_path, backend):
    # A fresh interpreter (the simulator's or Ray's driver) that exits after the kill:
    # neither the garbage collector nor the interpreter's exit runs the task's finally.
    env = dict(os.environ, DSAI_BACKEND=backend)
    out = subprocess.run([sys.executable, "-c", _SCRIPT, str(tmp_path / "started")],
                         capture_output=True, text=True, timeout=300, env=env)
    text = out.stdout + out.stderr
    assert out.returncode == 0, text
    assert "GOT TaskCancelledError" in out.stdout, text
    assert "DRIVER-END" in out.stdout, text
    assert "FINALLY-RAN" not in text
    assert "GreenletExit" not in text
