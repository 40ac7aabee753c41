"""What would hang on real Ray gets a clear error here: infeasible tasks, self-deadlock."""

import time

import pytest

from dsai.sim.clocks import real_perf_counter

import dsai.mockray as ray
import dsai.sim as sim
from dsai.errors import SimulationError


def test_infeasible_task_says_what_is_missing(cluster):
    cluster(1)

    @ray.remote(num_gpus=1)
    def g():
        return 1

    with pytest.raises(ray.exceptions.TaskUnschedulableError, match=r"GPU.*ray.init\(num_cpus"):
        ray.get(g.remote())


def test_infeasible_actor(cluster):
    cluster(1)

    @ray.remote(resources={"TPU": 1})
    class A:
        def f(self):
            return 1

    a = A.remote()
    with pytest.raises(ray.exceptions.ActorUnschedulableError, match="TPU"):
        ray.get(a.f.remote())


def test_feasible_after_adding_a_node(cluster):
    rt = cluster(1)

    @ray.remote(resources={"big": 1})
    def f():
        return "ran"

    ref = f.remote()
    assert ray.wait([ref], timeout=1.0) == ([], [ref])
    rt.add_node(1, resources={"big": 1})
    assert ray.get(ref) == "ran"


def test_actor_waiting_on_itself_is_a_reported_deadlock(cluster):
    cluster(1)

    @ray.remote
    class Self:
        def a(self, me):
            return ray.get(me.b.remote())

        def b(self):
            return 1

    s = Self.remote()
    with pytest.raises(ray.exceptions.SimulationDeadlockError, match="max_concurrency") as info:
        ray.get(s.a.remote(s))
    assert isinstance(info.value, SimulationError)  # in dsai's error family too


def test_threaded_actor_does_not_deadlock(cluster):
    cluster(1)

    @ray.remote(max_concurrency=2)
    class Self:
        def a(self, me):
            return ray.get(me.b.remote()) + 1

        def b(self):
            return 1

    s = Self.remote()
    assert ray.get(s.a.remote(s)) == 2


def test_get_with_timeout_on_a_stuck_object_times_out_in_virtual_time(cluster):
    cluster(1)

    @ray.remote(num_gpus=1)
    def g():
        return 1

    ref = g.remote()
    t0 = sim.now()
    wall = real_perf_counter()  # (the driver's time.perf_counter counts the virtual seconds too)
    with pytest.raises(ray.exceptions.GetTimeoutError):
        ray.get(ref, timeout=1000.0)
    assert sim.now() - t0 == pytest.approx(1000.0)
    assert real_perf_counter() - wall < 60.0  # 1,000 virtual seconds are not waited for in real time


def test_unsimulated_options_say_so(cluster):
    cluster(1)

    def f():
        return 1

    with pytest.raises(NotImplementedError, match="runtime_env field.*'pip'"):
        ray.remote(runtime_env={"pip": ["numpy"]})(f)  # (env_vars alone is simulated)
    with pytest.raises(NotImplementedError, match="experimental_compile"):
        ray.remote(f).bind().experimental_compile()  # (the DAG's .execute() is simulated)


def test_tasks_stuck_behind_an_actor_that_holds_the_cpus(cluster):
    """Queued tasks are counted, not listed one by one, and the actor holding the CPUs is named."""
    cluster(1, cpus=1)

    @ray.remote(num_cpus=1)
    class Holder:
        def ping(self):
            return 1

    @ray.remote
    def work(s):
        time.sleep(s)
        return s

    h = Holder.remote()
    ray.get(h.ping.remote())
    with pytest.raises(ray.exceptions.SimulationDeadlockError) as info:
        ray.get([work.remote(1) for _ in range(3)])
    text = str(info.value)
    assert "work is queued for {'CPU': 1.0} (3 of them)" in text
    assert f"actor Holder {h._actor_id_hex} holds {{'CPU': 1.0}} on head" in text
    assert "max_concurrency" not in text  # (the self-call hint is for blocked calls)
