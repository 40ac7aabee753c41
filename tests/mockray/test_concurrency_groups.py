"""Concurrency groups on the simulator: limits per group, exact virtual times, bad groups named."""

import threading
import time

import pytest

import dsai.mockray as ray
import dsai.sim as sim
from dsai.mockray.concurrency_groups import DEFAULT_GROUP, ConcurrencyGroups


@pytest.fixture
def cluster():
    ray.shutdown()
    ray.init(num_cpus=2)
    yield ray
    ray.shutdown()


def test_a_full_group_holds_back_only_its_own_calls(cluster):
    @ray.remote(concurrency_groups={"io": 1}, max_concurrency=2)
    class Svc:
        @ray.method(concurrency_group="io")
        def io(self, s):
            time.sleep(s)
            return sim.now()

        def work(self, s):
            time.sleep(s)
            return sim.now(), threading.current_thread().name

    s = Svc.remote()
    refs = [s.io.remote(1), s.io.remote(1), s.work.remote(0.5), s.work.remote(0.5), s.work.remote(0.5)]
    out = ray.get(refs)
    assert out[:2] == [1.0, 2.0]  # io: one at a time
    assert [t for t, _ in out[2:]] == [0.5, 0.5, 1.0]  # default group: max_concurrency=2, not behind io
    assert {name for _, name in out[2:]} == {"Dummy-1", "Dummy-2"}  # (Ray: C++ pool threads)


def test_bad_groups_are_named():
    class C:
        pass

    with pytest.raises(ValueError, match="group 'io': 0 is not a valid max concurrency"):
        ConcurrencyGroups(C, {"io": 0}, 1)
    with pytest.raises(TypeError, match="must be a dict"):
        ConcurrencyGroups(C, [("io", 2)], 1)
    g = ConcurrencyGroups(C, {"io": 2}, 3)
    assert g.total == 5 and g.limits[DEFAULT_GROUP] == 3
    assert repr(g) == "ConcurrencyGroups(io=2, default=3)"


class _Plain:
    def io(self, s):
        t = sim.now()
        time.sleep(s)
        return round(t, 4), ray.get_runtime_context().get_node_id()


class _Grouped:
    @ray.method(concurrency_group="io")
    def io(self, s):
        t = sim.now()
        time.sleep(s)
        return round(t, 4), ray.get_runtime_context().get_node_id()


def _starts_after_a_restart_elsewhere(cls: type, **opts) -> list:
    """Three calls queued at an actor whose node dies at 0.5 s: it restarts on another node,
    and the calls (ready on the old node) start there once their specs arrive (10 ms away)."""
    from dsai.mockray.runtime import runtime
    from dsai.mockray.util.scheduling_strategies import NodeAffinitySchedulingStrategy
    from dsai.sim.network import NetworkConfig

    ray.shutdown()
    ray.init(num_cpus=1, network=NetworkConfig(latency=0.01))
    rt = runtime()
    rt.add_node(1, resources={"spot": 1})
    rt.add_node(1, resources={"spot": 1})
    actor = ray.remote(max_restarts=1, max_task_retries=-1, **opts)(cls)
    a = actor.options(resources={"spot": 0.5},
                      scheduling_strategy=NodeAffinitySchedulingStrategy(rt.nodes[1].node_id, soft=True)).remote()
    ray.get(a.io.remote(0))
    sim.after(0.5, sim.kill_node, "node-1")
    out = ray.get([a.io.remote(1) for _ in range(3)])
    ray.shutdown()
    return out


def test_a_group_call_ready_on_the_node_an_actor_left_waits_for_its_spec(cluster):
    plain = _starts_after_a_restart_elsewhere(_Plain)
    grouped = _starts_after_a_restart_elsewhere(_Grouped, concurrency_groups={"io": 1})
    assert [t for t, _ in grouped] == [0.55, 1.55, 2.55]  # not before its spec reaches the new node
    assert grouped == plain  # the same as the mailbox's own pump
