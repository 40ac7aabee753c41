"""No message between nodes is free: a task's spec, its reply, a small object forwarded, an actor call.

Each costs latency + bytes / bandwidth on the simulated network and is counted
(`messages_*`, `control_bytes_*`, and in `bytes_*`); on one node nothing crosses.
"""

import numpy as np
import pytest

import dsai.mockray as ray
import dsai.sim as sim

MB = 10**6
LAT = 0.5  # seconds: large, so every message shows on the clock


def stats(node):
    return sim.network_stats()[node]


@ray.remote
def echo(x):
    return x


@ray.remote
def nothing(x):
    return None


def test_a_by_value_argument_travels_in_the_spec_and_counts_on_the_driver_node(cluster):
    cluster(2, network={"latency": LAT, "bandwidth": MB})
    arg = np.zeros(50_000, dtype=np.uint8)  # 50 kB, under the 100 KiB inline limit
    sent0 = stats("head")["bytes_sent"]
    t0 = sim.now()
    ray.get(nothing.options(resources={"n1": 1}).remote(arg))
    sent = stats("head")["bytes_sent"] - sent0
    assert 50_000 < sent < 50_300  # the array and its pickle header
    assert stats("head")["control_bytes_sent"] == sent and stats("head")["transfers_sent"] == 0
    # Spec out (latency + 50 kB at 1 MB/s), then the reply with None back (latency + a few bytes).
    reply = stats("node-1")["control_bytes_sent"]
    assert sim.now() - t0 == pytest.approx(2 * LAT + (sent + reply) / MB)


def test_a_small_result_is_ready_when_its_reply_arrives(cluster):
    cluster(2, network={"latency": LAT, "bandwidth": MB})
    ref = echo.options(resources={"n1": 1}).remote(7)
    ray.wait([ref], timeout=0.9)
    assert ray.wait([ref], timeout=0)[0] == []  # started at 0.5 s; its reply lands at 1.0 s
    assert ray.get(ref) == 7
    assert sim.now() == pytest.approx(2 * LAT, abs=1e-3)
    assert stats("node-1")["messages_sent"] == 1 and stats("head")["messages_received"] == 1


def test_the_bandwidth_sets_the_cost_of_small_messages(cluster):
    def one(bandwidth):
        ray.shutdown()
        cluster(2, network={"latency": 0.0, "bandwidth": bandwidth})
        t0 = sim.now()
        ray.get(echo.options(resources={"n1": 1}).remote(np.zeros(80_000, dtype=np.uint8)))
        return sim.now() - t0

    slow, fast = one(1e6), one(1e7)  # 80 kB out and 80 kB back
    assert slow == pytest.approx(2 * 80_000 / 1e6, rel=0.01)
    assert fast == pytest.approx(slow / 10, rel=1e-9)


def test_a_small_object_is_forwarded_through_its_owner(cluster):
    cluster(3, network={"latency": LAT, "bandwidth": MB})
    x = echo.options(resources={"n1": 1}).remote(np.zeros(10_000, dtype=np.uint8))
    y = echo.options(resources={"n2": 1}).remote(x)
    ray.wait([x])
    t_x = sim.now()  # x reached the driver (its owner) in node-1's reply
    ray.get(y)
    # node-2's task starts once its spec and x (from the driver) arrive, then replies.
    assert sim.now() - t_x == pytest.approx(2 * LAT + 2 * stats("node-2")["bytes_received"] / MB, rel=0.01)
    assert stats("head")["transfers_sent"] == 1 and stats("node-1")["transfers_sent"] == 0


def test_calls_between_actors_on_different_nodes_cost_messages(cluster):
    cluster(2, network={"latency": LAT, "bandwidth": MB})

    @ray.remote
    class Echo:
        def ping(self, v):
            return v

    @ray.remote
    class Caller:
        def call(self, other):
            t0 = sim.now()
            ray.get(other.ping.remote(1))
            return sim.now() - t0

    a = Echo.options(resources={"n1": 1}).remote()
    b = Caller.options(resources={"n0": 1}).remote()
    ray.get(a.ping.remote(0))  # both placed and constructed
    assert ray.get(b.call.remote(a)) == pytest.approx(2 * LAT, abs=1e-3)  # the call out, the reply back


def test_calls_to_an_actor_pipeline_their_messages(cluster):
    cluster(2, network={"latency": LAT, "bandwidth": 1e9})

    @ray.remote
    class Counter:
        def __init__(self):
            self.n = 0

        def inc(self):
            self.n += 1
            return self.n

    c = Counter.options(resources={"n1": 1}).remote()
    ray.get(c.inc.remote())
    t0 = sim.now()
    assert ray.get([c.inc.remote() for _ in range(10)]) == list(range(2, 12))
    # Ten calls in flight at once: one latency out, one back, not ten of each.
    assert sim.now() - t0 == pytest.approx(2 * LAT, abs=1e-3)


def test_on_one_node_nothing_crosses_the_network(cluster):
    cluster(1, network={"latency": LAT, "bandwidth": MB})
    t0 = sim.now()
    assert ray.get(echo.remote(np.zeros(50_000, dtype=np.uint8))).nbytes == 50_000
    assert sim.now() == t0
    assert stats("head")["bytes_sent"] == stats("head")["messages_sent"] == 0


def test_messages_wait_for_a_partition_to_heal(cluster):
    cluster(2, network={"latency": 0.001, "bandwidth": 1e9})
    sim.partition(["head"], ["node-1"])
    ref = echo.options(resources={"n1": 1}).remote(1)
    assert ray.wait([ref], timeout=5.0)[0] == []
    sim.heal()
    assert ray.get(ref) == 1
    assert sim.now() == pytest.approx(5.002, abs=1e-4)
