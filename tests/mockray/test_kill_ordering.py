"""The simulator's side of a restart kill's delay (dsai/mockray/kill_delay.py): what counts
as made before the kill, a call in flight when it lands, a kill from inside simulated work."""

from __future__ import annotations

import time

import pytest

from dsai import ray, sim
from dsai.mockray.exceptions import ActorUnavailableError


@ray.remote(max_restarts=1)
class Counter:
    def __init__(self):
        self.n = 0

    def inc(self, nap=0.0):
        time.sleep(nap)
        self.n += 1
        return self.n


@pytest.fixture
def fresh():
    ray.shutdown()
    ray.init(num_cpus=2)
    yield
    ray.shutdown()


def test_calls_made_before_the_driver_waits_run_on_the_old_instance(fresh):
    c = Counter.remote()
    ray.get(c.inc.remote())
    ray.kill(c, no_restart=False)
    refs = [c.inc.remote() for _ in range(3)]
    assert ray.get(refs) == [2, 3, 4]  # all made before the cluster ran again
    with pytest.raises(ActorUnavailableError):  # then the kill landed: the next call finds it gone
        ray.get(c.inc.remote())
    assert ray.get(c.inc.remote()) == 1
    assert sim.now() == 0.0  # an ordering, not a virtual delay


def test_a_call_still_running_when_the_kill_lands_is_unavailable(fresh):
    c = Counter.remote()
    ray.get(c.inc.remote())
    ray.kill(c, no_restart=False)
    slow = c.inc.remote(5.0)  # started before the kill lands, then sleeps: in flight
    with pytest.raises(ActorUnavailableError, match="The actor was restarted"):
        ray.get(slow)
    assert ray.get(c.inc.remote()) == 1  # that call found the worker gone; this one the new one


def test_a_restart_kill_from_inside_simulated_work_lands_after_the_calls_made_first(fresh):
    c = Counter.remote()
    ray.get(c.inc.remote())

    @ray.remote
    def killer(a):
        ray.kill(a, no_restart=False)
        return ray.get(a.inc.remote())

    assert ray.get(killer.remote(c)) == 2
