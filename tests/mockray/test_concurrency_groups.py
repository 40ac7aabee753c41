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
