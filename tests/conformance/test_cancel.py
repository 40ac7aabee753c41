"""Conformance: ray.cancel on pending, running, finished and actor tasks."""

import time

import pytest


@pytest.fixture
def marked_sleeper(ray):
    @ray.remote
    def marked_sleeper(path, s):
        open(path, "w").close()  # "I am running" (a file: visible across processes)
        time.sleep(s)
        return s

    return marked_sleeper


def _wait_started(ray, ref, path):
    """Return once the task has really started (cancel races with start-up otherwise)."""
    for _ in range(600):
        if path.exists():
            return
        ray.wait([ref], timeout=0.05)  # waits real time on Ray, virtual time on the simulator
    raise AssertionError("the task never started")


@pytest.fixture
def sleeper(ray):
    @ray.remote
    def sleeper(s):
        time.sleep(s)
        return s

    return sleeper


def test_cancel_pending_task(ray, sleeper):
    blockers = [sleeper.remote(1.0) for _ in range(4)]  # all 4 CPUs busy
    ray.wait(blockers, timeout=0.3)  # let them start, so `pending` surely waits for a CPU
    pending = sleeper.remote(0.01)
    ray.cancel(pending)
    with pytest.raises(ray.exceptions.TaskCancelledError):
        ray.get(pending)
    assert ray.get(blockers) == [1.0] * 4  # the others are untouched


@pytest.mark.sim_only(reason="real Ray 2.60 here once crashed the driver on this test "
                             "(task_manager.cc:1329 'Tried to complete task that was not pending'); "
                             "the same behaviour is tested on both backends with a shorter sleep "
                             "in test_cancel_sleep.py")
def test_cancel_running_task(ray, marked_sleeper, now, tmp_path, backend):
    path = tmp_path / "started"
    running = marked_sleeper.remote(str(path), 30)
    _wait_started(ray, running, path)
    t0 = now()
    ray.cancel(running)
    with pytest.raises(ray.exceptions.TaskCancelledError):
        ray.get(running)
    # As on Ray, the interrupt waits for the task's time.sleep to return (its 30 s).
    assert now() - t0 > 25


def test_cancel_force(ray, marked_sleeper, tmp_path):
    path = tmp_path / "started"
    running = marked_sleeper.remote(str(path), 30)
    _wait_started(ray, running, path)
    ray.cancel(running, force=True)
    with pytest.raises(ray.exceptions.TaskCancelledError):
        ray.get(running)


def test_cancel_finished_task_is_a_no_op(ray, sleeper):
    done = sleeper.remote(0)
    assert ray.get(done) == 0
    assert ray.cancel(done) is None
    assert ray.get(done) == 0


def test_cancel_recursive_reaches_children(ray, marked_sleeper, tmp_path):
    path = tmp_path / "child-started"

    @ray.remote
    def parent(p):
        return ray.get(marked_sleeper.remote(p, 30))

    ref = parent.remote(str(path))
    _wait_started(ray, ref, path)
    ray.cancel(ref, recursive=True)
    with pytest.raises(ray.exceptions.TaskCancelledError):
        ray.get(ref)


def test_cancel_argument_checks(ray):
    with pytest.raises(TypeError, match="ray.cancel\\(\\) only supported for object refs. For actors, try ray.kill\\(\\). Got: <class 'int'>."):
        ray.cancel(1)


def test_cancel_actor_task_force_refused(ray):
    # Cancelling a queued call of a sync actor can leave real Ray 2.60's actor waiting 30 s
    # for the missing sequence number (ActorUnavailableError), so only the checks are tested.
    @ray.remote
    class Slow:
        def slow(self, s):
            time.sleep(s)
            return s

    a = Slow.remote()
    ref = a.slow.remote(0)
    with pytest.raises(ValueError, match="force=True is not supported for actor tasks."):
        ray.cancel(ref, force=True)
    assert ray.get(ref) == 0
