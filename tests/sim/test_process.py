"""Simulated processes: virtual sleep, blocking and waking, killing, slow nodes, compute()."""

import asyncio
import time

import pytest

from dsai.errors import SimulationError
from dsai.sim import Simulation, compute, current_process, slow_node


def test_sleep_is_virtual_and_interleaves_deterministically():
    sim = Simulation()
    log = []

    def worker(name, period, n):
        for i in range(n):
            time.sleep(period)
            log.append((sim.now(), name))

    sim.spawn(worker, "a", 1.0, 3)
    sim.spawn(worker, "b", 1.5, 2)
    wall = time.perf_counter()
    sim.run()
    assert time.perf_counter() - wall < 3.0  # 3 virtual seconds, not 3 real ones (whatever the load)
    # At t=3 both wake; b booked its wake-up first (at t=1.5, a at t=2.0), so b goes first.
    assert log == [(1.0, "a"), (1.5, "b"), (2.0, "a"), (3.0, "b"), (3.0, "a")]


def test_real_sleep_outside_processes():
    t0 = time.perf_counter()
    time.sleep(0.01)
    assert time.perf_counter() - t0 >= 0.009
    assert current_process() is None


def test_asyncio_sleep_is_virtual_inside_a_process():
    sim = Simulation()

    def body():
        async def co():
            await asyncio.sleep(2.0)
            return sim.now()
        c = co()
        try:
            c.send(None)
        except StopIteration as stop:
            return stop.value

    p = sim.spawn(body)
    sim.run()
    assert p.result == 2.0


def test_block_and_wake():
    sim = Simulation()
    box = {}

    def waiter():
        box["got"] = sim.block("mail")
        return sim.now()

    p = sim.spawn(waiter)
    sim.at(4.0, lambda: sim.wake(p, "hello"))
    sim.run()
    assert box["got"] == "hello" and p.result == 4.0


def test_kill_ends_a_blocked_process_and_runs_its_exit():
    sim = Simulation()
    exits = []
    p = sim.spawn(lambda: time.sleep(10), on_exit=exits.append)
    sim.at(1.0, sim.kill, p)
    sim.run()
    assert p.killed and p.done and exits == [p]
    assert sim.now() == 10.0  # the stale wake-up is skipped harmlessly


def test_errors_are_kept_not_raised_into_the_loop():
    sim = Simulation()
    p = sim.spawn(lambda: 1 / 0)
    sim.run()
    assert isinstance(p.error, ZeroDivisionError)


def test_slow_node_and_compute_cost():
    sim = Simulation()
    fast, slow = sim.add_node("fast"), sim.add_node("slow")
    slow_node("slow", 3.0, sim=sim)

    def work():
        compute(seconds=1.0)
        compute(flops=2e10)  # 2 s at the default 1e10 FLOP/s
        return sim.now()

    a = sim.spawn(work, node=fast)
    b = sim.spawn(work, node=slow)
    sim.run()
    assert a.result == pytest.approx(3.0)
    assert b.result == pytest.approx(9.0)
    with pytest.raises(SimulationError, match="slowdown factor"):
        slow_node("slow", 0, sim=sim)


def test_compute_is_free_outside_the_simulator():
    assert compute(seconds=5.0) == 0.0
    with pytest.raises(SimulationError):
        compute(seconds=-1)


def test_many_processes_reuse_stacks():
    sim = Simulation()
    n = sim.add_node()
    done = []
    for i in range(2000):
        sim.spawn(lambda i=i: done.append(i), node=n)
    sim.run()
    assert done == list(range(2000))
    assert len(sim._runners) <= 2  # runners were reused, not one per process
