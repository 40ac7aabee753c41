"""The nemesis: each fault does what it says, on a seeded schedule, and is undone."""

from __future__ import annotations

import pytest

from dsai.cap import CapConfig, Cluster, Nemesis


def _cluster(nemesis: str, nodes: int = 5, seed: int = 0) -> Cluster:
    return Cluster(CapConfig(mode="ap-lww", nodes=nodes, nemesis=nemesis, seed=seed))


def _reach(c: Cluster) -> list[int]:
    n = c.cfg.nodes
    return [sum(c.sim.network.reachable(i, j) for j in range(n)) for i in range(n)]


def _inject(c: Cluster):
    c.nemesis.start()
    c.sim.run(until=c.cfg.healthy_duration + 0.01)
    return c.nemesis.active


def test_partition_splits_into_halves_and_heals():
    c = _cluster("partition")
    span = _inject(c)
    assert span.kind == "partition" and len(span.groups[0]) == 2 and len(span.groups[1]) == 3
    assert sorted(_reach(c)) == [2, 2, 3, 3, 3]
    c.sim.run(until=c.sim.now() + c.cfg.fault_duration)
    assert span.end is not None and not c.sim.network.partitioned


def test_isolate_cuts_one_node():
    c = _cluster("isolate")
    span = _inject(c)
    assert sorted(_reach(c)) == [1, 4, 4, 4, 4]
    assert _reach(c)[span.nodes[0]] == 1


def test_bridge_node_sees_everyone():
    c = _cluster("bridge")
    span = _inject(c)
    assert _reach(c)[span.nodes[0]] == 5
    assert sorted(_reach(c)) == [3, 3, 3, 3, 5]


@pytest.mark.parametrize("nodes", [5, 7, 9])
def test_majorities_ring_every_node_sees_a_majority_but_not_all(nodes):
    c = _cluster("ring", nodes=nodes)
    _inject(c)
    majority = nodes // 2 + 1
    assert all(majority <= r < nodes for r in _reach(c)), _reach(c)
    # no two nodes see the same set of nodes
    sets = {frozenset(j for j in range(nodes) if c.sim.network.reachable(i, j)) for i in range(nodes)}
    assert len(sets) == nodes


def test_crash_then_restart_keeps_the_disk():
    c = _cluster("crash")
    c.replicas[0].store["k0"] = c.replicas[0].cell("k0")
    span = _inject(c)
    victim = c.sim.nodes[span.nodes[0]]
    assert not victim.alive
    c.sim.run(until=c.sim.now() + c.cfg.fault_duration)
    assert victim.alive and "k0" in c.replicas[0].store


def test_skew_and_loss_are_undone():
    c = _cluster("skew")
    span = _inject(c)
    assert any(c.sim.nodes[i].clock_offset for i in range(5))
    assert all(abs(o) <= c.cfg.skew for o in span.detail["offsets"])
    c.nemesis.stop()
    assert all(c.sim.nodes[i].clock_offset == 0 for i in range(5))
    c = _cluster("loss")
    _inject(c)
    assert c.sim.network.config.loss == c.cfg.loss
    c.nemesis.stop()
    assert c.sim.network.config.loss == 0.0


def test_schedule_is_seeded():
    def groups(seed):
        c = _cluster("mix", seed=seed)
        c.nemesis.start()
        c.sim.run(until=5.0)
        return [(s.kind, s.start, s.nodes) for s in c.nemesis.spans]

    assert groups(1) == groups(1)
    assert groups(1) != groups(2)
    assert len({k for k, _, _ in groups(1)}) > 2


def test_unknown_nemesis():
    with pytest.raises(ValueError, match="unknown nemesis 'flood'"):
        Nemesis(_cluster("none"), "flood")
