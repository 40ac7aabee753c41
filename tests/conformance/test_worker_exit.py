"""A worker is a process of its own: its exit, or a signal sent to its pid, ends that worker only.

`os._exit` or `sys.exit(nonzero)` in a task is a worker crash (`WorkerCrashedError`
once retries are spent); in an actor method it kills the actor, which restarts if
`max_restarts` allows: the call gets `ActorUnavailableError` (Ray 2.60: "may or may
not have been executed") while the actor restarts, `ActorDiedError` once none are left. `sys.exit(0)` in an actor
method is an intentional exit: the actor ends for good. `os.getpid()` in a task or
actor names its worker, not the driver, and `os.kill(pid, SIGKILL)` from the driver
kills that worker only. The driver goes on after each.
"""

from __future__ import annotations

import os
import signal
import sys

import pytest

from dsai import ray


@ray.remote(max_retries=0)
def exits_hard():
    os._exit(0)


@ray.remote(max_retries=1)
def exits_with_one():
    sys.exit(1)


@ray.remote
def pid_of_task():
    return os.getpid()


@ray.remote
def one():
    return 1


@ray.remote
class Counter:
    def __init__(self):
        self.n = 0

    def inc(self):
        self.n += 1
        return self.n

    def pid(self):
        return os.getpid()

    def hard_exit(self):
        os._exit(0)

    def sys_exit(self, code):
        sys.exit(code)


def _after_restart(ray, call):
    """The call's value once the actor is back (real Ray may answer 'restarting' meanwhile)."""
    import time

    for _ in range(120):
        try:
            return ray.get(call())
        except ray.exceptions.ActorUnavailableError:
            time.sleep(0.5)
    raise AssertionError("the actor did not come back within 60 s")


def test_os_exit_in_a_task_kills_its_worker_not_the_driver(ray):
    with pytest.raises(ray.exceptions.WorkerCrashedError):
        ray.get(exits_hard.remote())
    assert ray.get(one.remote()) == 1  # the driver, and the cluster, go on


def test_sys_exit_nonzero_in_a_task_is_a_worker_crash_after_its_retries(ray):
    with pytest.raises(ray.exceptions.WorkerCrashedError):
        ray.get(exits_with_one.remote())
    assert ray.get(one.remote()) == 1


def test_os_exit_in_an_actor_method_restarts_the_actor(ray):
    a = Counter.options(max_restarts=1).remote()
    assert ray.get(a.inc.remote()) == 1
    with pytest.raises(ray.exceptions.ActorUnavailableError, match="The actor is temporarily unavailable"):
        ray.get(a.hard_exit.remote())  # it restarts
    assert _after_restart(ray, a.inc.remote) == 1  # a fresh instance: __init__ ran again
    with pytest.raises(ray.exceptions.ActorDiedError):
        ray.get(a.hard_exit.remote())
    with pytest.raises(ray.exceptions.ActorDiedError):  # no restarts left
        ray.get(a.inc.remote())


def test_sys_exit_nonzero_in_an_actor_method_is_an_unexpected_exit(ray):
    a = Counter.options(max_restarts=1).remote()
    assert ray.get(a.inc.remote()) == 1
    with pytest.raises(ray.exceptions.ActorUnavailableError,
                       match="UnexpectedSystemExit: Worker exits with an exit code 3"):
        ray.get(a.sys_exit.remote(3))
    assert _after_restart(ray, a.inc.remote) == 1  # restarted


def test_sys_exit_zero_in_an_actor_method_ends_the_actor_for_good(ray):
    a = Counter.options(max_restarts=2).remote()
    assert ray.get(a.inc.remote()) == 1
    with pytest.raises(ray.exceptions.ActorDiedError):
        ray.get(a.sys_exit.remote(0))
    with pytest.raises(ray.exceptions.ActorDiedError):  # an intentional exit: no restart
        ray.get(a.inc.remote())


def test_getpid_names_the_worker_and_sigkill_to_it_kills_that_actor_only(ray):
    a = Counter.remote()
    b = Counter.remote()
    pid = ray.get(a.pid.remote())
    assert pid != os.getpid() and pid == ray.get(a.pid.remote())  # the actor's own, stable
    assert ray.get(b.pid.remote()) != pid
    assert ray.get(pid_of_task.remote()) != os.getpid()
    assert ray.get(a.inc.remote()) == 1
    os.kill(pid, signal.SIGKILL)  # from the driver, as fault-tolerance tests do
    with pytest.raises(ray.exceptions.ActorDiedError):
        ray.get(a.inc.remote())
    assert ray.get(b.inc.remote()) == 1  # the other actor, and the driver, live on
