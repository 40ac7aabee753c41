"""The network: transfer cost, one transfer per link at a time, loss, partitions, counters."""

import pytest

from dsai.errors import SimulationError
from dsai.sim import NetworkConfig, Simulation
from dsai.sim.faults import heal, isolate, kill_node, partition


def make(n=3, **cfg):
    sim = Simulation(seed=1, network=NetworkConfig(**cfg))
    for i in range(n):
        sim.add_node(f"n{i}")
    return sim


def test_transfer_costs_latency_plus_size_over_bandwidth():
    sim = make(latency=0.01, bandwidth=1e6)
    done = []
    sim.network.transfer(0, 1, 2_000_000, lambda: done.append(sim.now()))
    sim.run()
    assert done == [pytest.approx(0.01 + 2.0)]
    assert sim.network.bytes_sent(0) == 2_000_000 == sim.network.bytes_received(1)


def test_a_link_carries_one_transfer_at_a_time():
    # Four senders to one receiver: the receiver's link serializes them, so the
    # last arrives after 4 x size / bandwidth, the parameter-server bottleneck.
    sim = make(n=5, latency=0.0, bandwidth=1e6)
    arrivals = []
    for src in range(1, 5):
        sim.network.transfer(src, 0, 1_000_000, lambda: arrivals.append(sim.now()))
    sim.run()
    assert arrivals == [pytest.approx(t) for t in (1.0, 2.0, 3.0, 4.0)]


def test_disjoint_pairs_transfer_in_parallel():
    sim = make(n=4, latency=0.0, bandwidth=1e6)
    arrivals = []
    sim.network.transfer(0, 1, 1_000_000, lambda: arrivals.append(sim.now()))
    sim.network.transfer(2, 3, 1_000_000, lambda: arrivals.append(sim.now()))
    sim.run()
    assert arrivals == [1.0, 1.0]


def test_messages_drop_across_a_partition_and_flow_after_heal():
    sim = make()
    got = []
    partition([0], [1, 2], sim=sim)
    m1 = sim.network.send(0, 1, "a", 10, got.append)
    m2 = sim.network.send(1, 2, "b", 10, got.append)
    heal(sim=sim)
    m3 = sim.network.send(0, 1, "c", 10, got.append)
    sim.run()
    assert got == ["b", "c"]
    assert m1.dropped_because == "partition" and m2.arrives is not None
    assert sim.network.stats[0].messages_dropped == 1


def test_isolate_and_transfers_wait_for_heal():
    sim = make(latency=0.0, bandwidth=1e6)
    isolate("n2", sim=sim)
    done = []
    sim.network.transfer(2, 0, 1_000_000, lambda: done.append(sim.now()))
    sim.run(until=5.0)
    assert done == []
    heal(sim=sim)
    sim.run()
    assert done == [6.0]


def test_loss_is_seeded():
    def run(seed):
        sim = Simulation(seed=seed, network=NetworkConfig(loss=0.5))
        sim.add_node(); sim.add_node()
        got = []
        for i in range(200):
            sim.network.send(0, 1, i, 1, got.append)
        sim.run()
        return got

    a, b = run(3), run(3)
    assert a == b and 60 < len(a) < 140
    assert run(4) != a


def test_messages_to_a_dead_node_are_dropped():
    sim = make()
    got = []
    kill_node("n1", sim=sim)
    msg = sim.network.send(0, 1, "x", 1, got.append)
    sim.run()
    assert got == [] and msg.dropped_because == "dead node"


def test_bad_network_settings_are_rejected():
    with pytest.raises(SimulationError, match="bandwidth"):
        NetworkConfig(bandwidth=0)
    with pytest.raises(SimulationError, match="probability"):
        NetworkConfig(loss=1.5)
    sim = make()
    with pytest.raises(SimulationError, match="two partition groups"):
        sim.network.partition([0, 1], [1, 2])
    with pytest.raises(SimulationError, match="no node 'zz'"):
        sim.node("zz")
