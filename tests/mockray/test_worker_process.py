"""The simulator's side of process isolation: simulated pids, signals, exits inside reused workers."""

import os
import signal
import sys

import pytest

import dsai.mockray as ray
import dsai.sim as sim


@ray.remote
def pid_and_wait(seconds):
    import time

    time.sleep(seconds)
    return os.getpid()


@ray.remote
class Box:
    def pid(self):
        return os.getpid()

    def kill_myself(self):
        os.kill(os.getpid(), signal.SIGKILL)
        return "not reached"

    def ping(self):
        return "pong"


def test_pids_are_the_workers_of_the_error_messages_and_deterministic(sim_ray):
    pids = ray.get([pid_and_wait.remote(1.0) for _ in range(3)])
    assert pids == [10000, 10001, 10002]  # node 0, workers 0-2 (NodeState.pid)
    assert os.getpid() not in pids  # the driver keeps its real pid


def test_signal_zero_checks_a_worker_and_other_signals_are_refused(sim_ray):
    b = Box.remote()
    pid = ray.get(b.pid.remote())
    assert os.kill(pid, 0) is None
    with pytest.raises(NotImplementedError, match="SIGUSR1.*SIGKILL and SIGTERM"):
        os.kill(pid, signal.SIGUSR1)
    os.kill(os.getpid(), 0)  # the driver's own pid reaches the real os.kill
    assert ray.get(b.ping.remote()) == "pong"


def test_an_actor_that_sends_itself_sigkill_dies_and_restarts(sim_ray):
    b = Box.options(max_restarts=1).remote()
    with pytest.raises(ray.exceptions.ActorUnavailableError, match="Connection reset by peer"):
        ray.get(b.kill_myself.remote())  # (it restarts: the call may or may not have run, as in Ray)
    assert ray.get(b.ping.remote()) == "pong"


def test_sigkill_to_a_running_tasks_worker_retries_it(sim_ray):
    ref = pid_and_wait.options(max_retries=1).remote(2.0)
    ray.wait([ref], timeout=1.0)  # running: its worker is 10000
    os.kill(10000, signal.SIGKILL)
    assert ray.get(ref) == 10000  # the retry ran on a fresh worker that got the same id
    assert sim.now() == pytest.approx(3.0)  # killed at 1 s, then 2 s again
    ref = pid_and_wait.options(max_retries=0).remote(2.0)
    ray.wait([ref], timeout=1.0)
    os.kill(10000, signal.SIGTERM)
    with pytest.raises(ray.exceptions.WorkerCrashedError):
        ray.get(ref)


def test_an_exit_in_a_reused_worker_takes_only_its_own_task(sim_ray):
    @ray.remote(max_retries=0)
    def maybe_exit(i):
        if i == 5:
            sys.exit(2)
        return i

    refs = [maybe_exit.remote(i) for i in range(20)]  # one worker runs many in a row
    ok = []
    for i, r in enumerate(refs):
        try:
            ok.append(ray.get(r))
        except ray.exceptions.WorkerCrashedError:
            assert i == 5
    assert ok == [i for i in range(20) if i != 5]


def test_outside_a_cluster_the_real_functions_answer():
    ray.shutdown()
    assert os.getpid() > 0
    os.kill(os.getpid(), 0)
