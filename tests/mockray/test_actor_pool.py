"""ray.util.ActorPool on the simulator: Ray's API and errors, load balancing measured in virtual time."""

import time

import pytest

import dsai.mockray as ray
import dsai.sim as sim
from dsai.mockray.exceptions import ActorDiedError
from dsai.mockray.util import ActorPool


@ray.remote
class Worker:
    def __init__(self, tag="w"):
        self.tag = tag
        self.calls = 0

    def work(self, x, seconds=1.0):
        time.sleep(seconds)
        self.calls += 1
        return 2 * x

    def tagged(self, x):
        time.sleep(1.0)
        return (self.tag, x)

    def sleep_for(self, seconds):
        time.sleep(seconds)
        return seconds

    def boom(self, x):
        raise ValueError(f"bad {x}")


def double(a, v):
    return a.work.remote(v)


def test_map_two_actors_six_one_second_tasks_take_three_virtual_seconds(sim_ray):
    pool = ActorPool([Worker.remote(), Worker.remote()])
    t0 = sim.now()
    assert list(pool.map(double, range(6))) == [0, 2, 4, 6, 8, 10]
    assert sim.now() - t0 == pytest.approx(3.0)


def test_one_actor_serializes_the_work(sim_ray):
    pool = ActorPool([Worker.remote()])
    t0 = sim.now()
    assert list(pool.map(double, [1, 2, 3])) == [2, 4, 6]
    assert sim.now() - t0 == pytest.approx(3.0)


def test_map_is_ordered_map_unordered_yields_in_completion_order(sim_ray):
    durations = [3.0, 1.0, 2.0]
    pool = ActorPool([Worker.remote() for _ in range(3)])
    assert list(pool.map(lambda a, s: a.sleep_for.remote(s), durations)) == durations
    t0 = sim.now()
    seen = []
    for v in pool.map_unordered(lambda a, s: a.sleep_for.remote(s), durations):
        seen.append((v, sim.now() - t0))
    assert seen == [(1.0, pytest.approx(1.0)), (2.0, pytest.approx(2.0)), (3.0, pytest.approx(3.0))]


def test_map_unordered_keeps_every_actor_busy(sim_ray):
    # 2 actors, durations 3,1,1,1: unordered collection frees the fast actor at once.
    pool = ActorPool([Worker.remote(), Worker.remote()])
    t0 = sim.now()
    out = list(pool.map_unordered(lambda a, s: a.sleep_for.remote(s), [3.0, 1.0, 1.0, 1.0]))
    assert sorted(out) == [1.0, 1.0, 1.0, 3.0]
    assert sim.now() - t0 == pytest.approx(3.0)


def test_actors_are_taken_from_the_end_of_the_idle_list(sim_ray):
    # Ray pops the last idle actor first; results show which actor ran what.
    pool = ActorPool([Worker.remote("a"), Worker.remote("b")])
    assert list(pool.map(lambda a, v: a.tagged.remote(v), [0, 1, 2, 3])) == [
        ("b", 0), ("a", 1), ("b", 2), ("a", 3)]


def test_submit_get_next_has_next(sim_ray):
    pool = ActorPool([Worker.remote(), Worker.remote()])
    assert not pool.has_next()
    pool.submit(double, 1)
    pool.submit(double, 2)
    assert pool.has_next()
    assert pool.get_next() == 2
    assert pool.get_next() == 4
    assert not pool.has_next()


def test_get_next_without_results_raises_stop_iteration(sim_ray):
    pool = ActorPool([Worker.remote()])
    with pytest.raises(StopIteration, match="No more results to get"):
        pool.get_next()
    with pytest.raises(StopIteration, match="No more results to get"):
        pool.get_next_unordered()


def test_pending_submits_wait_for_a_free_actor(sim_ray):
    pool = ActorPool([Worker.remote()])
    for v in range(3):
        pool.submit(double, v)
    assert not pool.has_free()
    assert len(pool._pending_submits) == 2
    t0 = sim.now()
    assert [pool.get_next() for _ in range(3)] == [0, 2, 4]
    assert sim.now() - t0 == pytest.approx(3.0)
    assert pool.has_free()


def test_get_next_timeout_is_virtual_and_leaves_the_task(sim_ray):
    pool = ActorPool([Worker.remote()])
    pool.submit(lambda a, v: a.sleep_for.remote(v), 5.0)
    t0 = sim.now()
    with pytest.raises(TimeoutError, match="^Timed out waiting for result$"):
        pool.get_next(timeout=2.0)
    assert sim.now() - t0 == pytest.approx(2.0)
    assert pool.has_next()
    assert pool.get_next() == 5.0
    assert sim.now() - t0 == pytest.approx(5.0)


def test_get_next_ignore_if_timedout_drops_the_task_and_frees_its_actor(sim_ray):
    pool = ActorPool([Worker.remote()])
    pool.submit(lambda a, v: a.sleep_for.remote(v), 5.0)
    with pytest.raises(TimeoutError, match=r"Timed out waiting for result\. The task .* has been ignored\."):
        pool.get_next(timeout=1.0, ignore_if_timedout=True)
    assert not pool.has_next()
    assert pool.has_free()


def test_get_next_unordered_timeout(sim_ray):
    pool = ActorPool([Worker.remote(), Worker.remote()])
    pool.submit(lambda a, v: a.sleep_for.remote(v), 4.0)
    pool.submit(lambda a, v: a.sleep_for.remote(v), 2.0)
    with pytest.raises(TimeoutError, match="^Timed out waiting for result$"):
        pool.get_next_unordered(timeout=1.0)
    assert pool.get_next_unordered() == 2.0
    assert sim.now() == pytest.approx(2.0)
    assert pool.get_next_unordered() == 4.0


def test_get_next_unordered_ignore_if_timedout_drops_the_oldest_task(sim_ray):
    # Deliberate difference: Ray 2.60 raises UnboundLocalError on this path.
    pool = ActorPool([Worker.remote(), Worker.remote()])
    pool.submit(lambda a, v: a.sleep_for.remote(v), 4.0)
    pool.submit(lambda a, v: a.sleep_for.remote(v), 3.0)
    with pytest.raises(TimeoutError, match="has been ignored"):
        pool.get_next_unordered(timeout=1.0, ignore_if_timedout=True)
    assert pool.has_free()
    assert pool.get_next_unordered() == 3.0
    assert not pool.has_next()


def test_get_next_after_get_next_unordered_is_refused(sim_ray):
    pool = ActorPool([Worker.remote(), Worker.remote()])
    pool.submit(lambda a, v: a.sleep_for.remote(v), 2.0)
    pool.submit(lambda a, v: a.sleep_for.remote(v), 1.0)
    assert pool.get_next_unordered() == 1.0
    msg = r"It is not allowed to call get_next\(\) after get_next_unordered\(\)\."
    with pytest.raises(ValueError, match=msg):
        pool.get_next()


def test_has_free_pop_idle_push(sim_ray):
    a1, a2 = Worker.remote(), Worker.remote()
    pool = ActorPool([a1])
    pool.submit(double, 1)
    assert not pool.has_free()
    assert pool.pop_idle() is None
    assert pool.get_next() == 2
    assert pool.has_free()
    assert pool.pop_idle() == a1
    assert pool.pop_idle() is None
    pool.push(a1)
    pool.push(a2)
    with pytest.raises(ValueError, match="^Actor already belongs to current ActorPool$"):
        pool.push(a1)
    pool.submit(double, 3)
    with pytest.raises(ValueError, match="already belongs"):
        pool.push(a2)  # busy actors belong too


def test_push_takes_a_pending_submit_at_once(sim_ray):
    a1, a2 = Worker.remote(), Worker.remote()
    pool = ActorPool([a1])
    pool.submit(lambda a, v: a.sleep_for.remote(v), 2.0)
    pool.submit(lambda a, v: a.sleep_for.remote(v), 2.0)
    pool.push(a2)
    assert not pool._pending_submits
    assert [pool.get_next(), pool.get_next()] == [2.0, 2.0]
    assert sim.now() == pytest.approx(2.0)


def test_task_error_reaches_the_caller_and_the_actor_stays_in_the_pool(sim_ray):
    pool = ActorPool([Worker.remote()])
    pool.submit(lambda a, v: a.boom.remote(v), 7)
    with pytest.raises(ValueError, match="bad 7"):
        pool.get_next()
    assert pool.has_free()
    assert list(pool.map(double, [1])) == [2]


def test_dead_actor_leaves_the_pool(sim_ray):
    a1, a2 = Worker.remote(), Worker.remote()
    pool = ActorPool([a1, a2])
    pool.submit(lambda a, v: a.sleep_for.remote(v), 5.0)  # runs on a2 (popped last)
    sim.at(1.0, ray.kill, a2)
    with pytest.raises(ActorDiedError):
        pool.get_next()
    assert pool._idle_actors == [a1]
    assert list(pool.map(double, [1, 2])) == [2, 4]


def test_map_drops_results_nobody_collected(sim_ray):
    pool = ActorPool([Worker.remote(), Worker.remote()])
    pool.submit(double, 100)
    ray.get(list(pool._future_to_actor))  # ready but never collected
    assert list(pool.map(double, [1, 2])) == [2, 4]


def test_pool_inside_a_task(sim_ray):
    @ray.remote
    def driver_task(actors):
        pool = ActorPool(actors)
        return list(pool.map(lambda a, v: a.work.remote(v), range(4)))

    actors = [Worker.remote(), Worker.remote()]
    assert ray.get(driver_task.remote(actors)) == [0, 2, 4, 6]
    assert sim.now() == pytest.approx(2.0)


def test_same_seed_same_results_and_timeline():
    def run():
        ray.shutdown()
        ray.init(num_cpus=4, seed=3)
        pool = ActorPool([Worker.remote() for _ in range(3)])
        out = list(pool.map_unordered(lambda a, s: a.sleep_for.remote(s), [0.5, 2.0, 1.5, 0.25, 1.0, 0.75]))
        events = ray.timeline()
        ray.shutdown()
        return out, events

    first, second = run(), run()
    assert first == second
    assert first[0] == [0.5, 0.25, 1.5, 1.0, 2.0, 0.75]  # worked out by hand


def test_util_helpers_as_completed_and_map_unordered(sim_ray):
    @ray.remote
    def nap(s):
        time.sleep(s)
        return s

    refs = [nap.remote(s) for s in [3.0, 1.0, 2.0]]
    assert list(ray.util.as_completed(refs, chunk_size=1)) == [1.0, 2.0, 3.0]
    with pytest.raises(ValueError, match="chunk_size"):
        list(ray.util.as_completed(refs, chunk_size=0))
    t0 = sim.now()
    out = list(ray.util.map_unordered(nap, [1.0] * 16, backpressure_size=4, chunk_size=1))
    assert out == [1.0] * 16
    assert sim.now() - t0 == pytest.approx(4.0)  # 4 in flight at a time


def test_util_namespace_matches_ray(sim_ray):
    assert ray.util.ActorPool is ActorPool
    assert ray.util.queue.Queue.__name__ == "Queue"
    assert ray.util.scheduling_strategies.NodeAffinitySchedulingStrategy.__name__ == \
        "NodeAffinitySchedulingStrategy"
    assert ray.util.get_node_ip_address() == "10.0.0.1"
    Worker.options(name="alpha").remote()
    Worker.options(name="beta", namespace="other").remote()
    assert ray.util.list_named_actors() == ["alpha"]
    assert ray.util.list_named_actors(all_namespaces=True) == [
        {"name": "alpha", "namespace": ray.get_runtime_context().namespace},
        {"name": "beta", "namespace": "other"}]
