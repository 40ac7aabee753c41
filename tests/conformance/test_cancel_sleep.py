"""Conformance: a non-force `ray.cancel` reaches a task in `time.sleep` only when the sleep returns.

Ray 2.60 sets the worker's interrupt flag (as Ctrl-C does) without sending a
signal, so a sleep in progress runs to its end; then `KeyboardInterrupt` is
raised before the task's next line, its `except` and `finally` blocks run, and
`get` raises `TaskCancelledError` (measured: cancelled 0.3 s into `time.sleep(5)`,
`get` raised 4.7 s after the cancel; the line after the sleep never ran).
"""

from __future__ import annotations

import os
import time

import pytest


@pytest.fixture
def marked(ray):
    @ray.remote(max_retries=0)
    def marked(d, s):
        open(os.path.join(d, "started"), "w").close()
        try:
            time.sleep(s)
            open(os.path.join(d, "after_sleep"), "w").close()
        except BaseException as e:  # noqa: BLE001
            with open(os.path.join(d, "except"), "w") as fh:
                fh.write(type(e).__name__)
            raise
        finally:
            open(os.path.join(d, "finally"), "w").close()
        return s

    return marked


def test_cancel_waits_for_the_sleep_to_return(ray, marked, tmp_path, now, backend):
    ref = marked.remote(str(tmp_path), 5)
    for _ in range(600):
        if (tmp_path / "started").exists():
            break
        ray.wait([ref], timeout=0.05)
    ray.wait([ref], timeout=0.3)
    t0 = now()
    ray.cancel(ref)
    with pytest.raises(ray.exceptions.TaskCancelledError):
        ray.get(ref)
    waited = now() - t0
    # The sleep ran to its end: about 4.6 s were left of it when the cancel was sent
    # (a lower bound on real Ray, whatever the machine's speed; exact in virtual time).
    assert waited >= 2.5
    if backend == "sim":
        assert waited == pytest.approx(4.65)  # (started at 0.05 s, as the driver's poll saw it)
    assert (tmp_path / "except").read_text() == "KeyboardInterrupt"
    assert (tmp_path / "finally").exists()
    assert not (tmp_path / "after_sleep").exists()  # raised before the next line


def test_cancel_reaches_a_task_blocked_in_get_at_once(ray, tmp_path, now, backend):
    # ray.get polls for the interrupt while it waits: the parent is cancelled without
    # waiting for its child (the child is cancelled too: recursive=True).
    @ray.remote
    def child(s):
        time.sleep(s)
        return s

    @ray.remote(max_retries=0)
    def parent(d):
        open(os.path.join(d, "started"), "w").close()
        return ray.get(child.remote(30))

    ref = parent.remote(str(tmp_path))
    for _ in range(600):
        if (tmp_path / "started").exists():
            break
        ray.wait([ref], timeout=0.05)
    ray.wait([ref], timeout=0.5)
    t0 = now()
    ray.cancel(ref)
    with pytest.raises(ray.exceptions.TaskCancelledError):
        ray.get(ref)
    if backend == "sim":
        assert now() - t0 < 1
