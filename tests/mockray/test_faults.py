"""Faults injected through dsai.sim get Ray's answers: retries, restarts, errors, reconstruction."""

import time

import numpy as np
import pytest

import dsai.mockray as ray
import dsai.sim as sim
from dsai.mockray.runtime import runtime
from dsai.mockray.exceptions import (ActorDiedError, NodeDiedError, ObjectLostError,
                                     RayActorError, WorkerCrashedError)


def on(i):
    return {"resources": {f"n{i}": 1}}


@ray.remote
def slow(i, seconds=2.0):
    time.sleep(seconds)
    return i


def test_node_death_retries_running_tasks_elsewhere(cluster):
    cluster(3)
    refs = [slow.options(**on(1)).remote(i) for i in range(2)]
    sim.at(1.0, sim.kill_node, "node-1")
    # Pinned to a dead node they could never run again: give them a way out.
    with pytest.raises(ray.exceptions.TaskUnschedulableError, match="n1"):
        ray.get(refs)
    loose = [slow.options(scheduling_strategy="SPREAD").remote(i) for i in range(6)]
    t0 = sim.now()
    sim.after(1.0, sim.kill_node, "node-2")
    assert ray.get(loose) == list(range(6))
    statuses = [e["args"]["status"] for e in ray.timeline()]
    assert statuses.count("killed") >= 2
    assert sim.now() - t0 > 2.0  # the killed attempts cost time


def test_node_death_without_retries_is_node_died_error(cluster):
    cluster(2)
    ref = slow.options(max_retries=0, **on(1)).remote(1)
    sim.at(1.0, sim.kill_node, 1)
    with pytest.raises(NodeDiedError, match="node-1"):
        ray.get(ref)


def test_kill_worker_of_a_task_is_retried_then_crashes(cluster):
    cluster(1)
    ref = slow.options(max_retries=1).remote(7)
    ray.wait([ref], timeout=0.5)
    sim.kill_worker(ref)
    ray.wait([ref], timeout=0.5)
    sim.kill_worker(ref)
    with pytest.raises(WorkerCrashedError):
        ray.get(ref)


@ray.remote(max_restarts=1, max_task_retries=1)
class Counter:
    def __init__(self):
        self.n = 0

    def inc(self):
        time.sleep(1.0)
        self.n += 1
        return self.n

    def where(self):
        return ray.get_runtime_context().get_node_id()


def test_actor_restarts_on_another_node_with_fresh_state(cluster):
    rt = cluster(2)
    c = Counter.options(resources={"n1": 1} if False else None).remote()
    c = Counter.remote()
    first = ray.get(c.where.remote())
    assert ray.get(c.inc.remote()) == 1
    victim = next(ns for ns in rt.nodes if ns.node_id == first)
    refs = [c.inc.remote() for _ in range(2)]
    sim.after(0.5, sim.kill_node, victim.name)
    # The in-flight call is retried (max_task_retries=1) on the restarted actor; state was reset.
    assert ray.get(refs) == [1, 2]
    assert ray.get(c.where.remote()) != first
    # Out of restarts: the next crash is final.
    sim.kill_worker(c)
    with pytest.raises(ActorDiedError, match="killed"):
        ray.get(c.inc.remote())


def test_actor_without_restarts_dies_with_its_node(cluster):
    rt = cluster(2)

    @ray.remote(resources={"n1": 1})
    class A:
        def f(self):
            return 1

    a = A.remote()
    assert ray.get(a.f.remote()) == 1
    sim.kill_node("node-1")
    with pytest.raises(RayActorError):
        ray.get(a.f.remote())


@ray.remote
def big():
    return np.ones(200_000)  # 1.6 MB: lives in the node's object store


@ray.remote
def total(a):
    return float(a.sum())


def test_lost_object_is_reconstructed_from_lineage(cluster):
    cluster(3)
    b = big.options(**on(2)).remote()
    ray.wait([b], fetch_local=False)
    sim.kill_node("node-2")
    sim.restart_node("node-2")  # the pinned creator can run again, on the new incarnation
    assert ray.get(total.remote(b)) == 200_000.0
    kinds = [e["name"] for e in ray.timeline()]
    assert kinds.count("task::big") == 2  # it ran twice: once, then to rebuild the lost copy


def test_lost_object_without_retries_is_object_lost_error(cluster):
    cluster(3)
    b = big.options(max_retries=0, **on(2)).remote()
    ray.wait([b], fetch_local=False)
    sim.kill_node("node-2")
    with pytest.raises(ObjectLostError):
        ray.get(b)


def test_small_results_survive_their_node(cluster):
    # Small objects ride in the reply to the owner, as in Ray, so they are not lost.
    cluster(2)
    r = slow.options(**on(1)).remote(5, 0.1)
    ray.wait([r], fetch_local=False)
    sim.kill_node("node-1")
    assert ray.get(r) == 5


def test_slow_node_is_a_straggler(cluster):
    cluster(2, cpus=1)
    sim.slow_node("node-1", 4.0)
    t0 = sim.now()
    fast = slow.options(**on(0)).remote(0, 1.0)
    straggler = slow.options(**on(1)).remote(1, 1.0)
    ray.get(fast)
    assert sim.now() - t0 == pytest.approx(1.0)
    ray.get(straggler)
    assert sim.now() - t0 == pytest.approx(4.0 + 2e-4, abs=1e-6)  # (its spec out, its reply back)


def test_argument_lost_while_the_task_queued_fails_it_with_that_error(cluster):
    cluster(3, cpus=1)

    @ray.remote(max_retries=0, **on(1))
    def make():
        return np.zeros(200_000, dtype=np.uint8)  # large: it lives on node-1 only

    @ray.remote(**on(2))
    def hold():
        time.sleep(5.0)

    @ray.remote(max_retries=0, **on(2))
    def use(x):
        return len(x)

    big = make.remote()
    ray.wait([big], fetch_local=False)
    hold.remote()
    queued = use.remote(big)  # waits for node-2's CPU
    sim.after(1.0, sim.kill_node, "node-1")
    with pytest.raises(ray.exceptions.ObjectReconstructionFailedError):
        ray.get(queued)


def test_object_lost_after_get_counted_it_is_not_returned(cluster):
    # get([b, s]) counts b at once (it is on the driver's node); the node then
    # dies while s runs. get must not hand back the lost copy: it asks for b
    # again, which raises why it cannot be rebuilt. (Only the driver can see
    # this: a worker's copies die with the worker.)
    cluster(2)
    b = big.options(max_retries=0).remote()
    ray.wait([b])
    assert runtime().entry(b).locations == (0,)
    s = slow.options(**on(1)).remote(1, 5.0)
    sim.at(1.0, sim.kill_node, "head")
    with pytest.raises(ObjectLostError):
        ray.get([b, s])


def test_get_raises_the_error_of_an_object_whose_rebuild_failed_after_it_was_counted(cluster):
    cluster(2)
    b = big.options(**on(0)).remote()  # pinned to the head: it cannot be rebuilt elsewhere
    ray.wait([b])
    s = slow.options(**on(1)).remote(1, 5.0)
    sim.at(1.0, sim.kill_node, "head")
    sim.at(2.0, lambda: total.options(**on(1)).remote(b))  # someone else asks for b: the rebuild fails
    with pytest.raises(ray.exceptions.TaskUnschedulableError, match="n0"):
        ray.get([b, s])


@ray.remote(max_restarts=1)
class Born:
    def __init__(self, *args):
        self.at = sim.now()

    def born(self):
        return self.at


def test_an_actor_restarted_before_it_was_placed_keeps_its_place_in_line(sim_ray):
    ray.shutdown()
    ray.init(num_cpus=1, seed=0)
    first = slow.remote(0, 1.0)
    a = Born.remote()  # queued behind `first`
    behind = [slow.remote(i, 1.0) for i in (1, 2)]
    sim.after(0.5, lambda: ray.kill(a, no_restart=False))
    assert ray.get(a.born.remote()) == 1.0  # placed when `first` ends, not after the two behind it
    assert ray.get(behind) == [1, 2]


def test_an_actor_killed_while_its_argument_travels_never_starts(cluster):
    """Placed (its CPU taken) while its argument crosses the network, then killed: it gives the
    CPU back and never runs __init__; restarted instead, it is placed afresh and runs it once."""
    for no_restart in (True, False):
        rt = cluster(2, cpus=1)
        arg = ray.put(np.zeros(10_000_000, dtype=np.uint8))  # 8 ms to copy at 10 Gbit/s
        a = Born.options(num_cpus=1, **on(1)).remote(arg)  # made on node 0, wanted on node 1
        sim.after(0.004, lambda: ray.kill(a, no_restart=no_restart))
        ray.get(slow.options(num_cpus=0).remote(0, 0.01))  # past the kill
        if no_restart:
            assert rt.nodes[1].avail["CPU"] == 1.0
            with pytest.raises(ActorDiedError):
                ray.get(a.born.remote())
            assert not [e for e in ray.timeline() if e["name"] == "task::Born.__init__"]
        else:
            assert ray.get(a.born.remote()) > 0.004
            inits = [e for e in ray.timeline() if e["name"] == "task::Born.__init__"]
            assert len(inits) == 1 and rt.nodes[1].avail["CPU"] == 0.0
