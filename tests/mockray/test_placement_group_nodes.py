"""Placement groups across the simulator's nodes: the four strategies, waiting for a node, a node's death.

A local real-Ray cluster has one node, so what only several nodes show is
tested here on `dsai.mockray.cluster_utils.Cluster` (Ray's semantics: PACK
as few nodes as possible, SPREAD as many, STRICT_* all or nothing; bundles
of a dead node are reserved again elsewhere).
"""

from __future__ import annotations

import time

import pytest

import dsai.mockray as ray
import dsai.sim as sim
from dsai.mockray.cluster_utils import Cluster
from dsai.mockray.exceptions import SimulationDeadlockError
from dsai.mockray.util.placement_group import placement_group, placement_group_table, remove_placement_group
from dsai.mockray.util.scheduling_strategies import PlacementGroupSchedulingStrategy as S


@pytest.fixture
def nodes():
    """`nodes(2, 2, 2)`: a cluster of nodes with these CPU counts, connected; its node ids."""
    ray.shutdown()
    made = []

    def make(*cpus):
        c = Cluster()
        made.append(c)
        ids = [c.add_node(num_cpus=n).node_id for n in cpus]
        c.connect()
        return c, ids

    yield make
    ray.shutdown()
    for c in made:
        c.shutdown()


def where(pg):
    return list(placement_group_table(pg)["bundles_to_node_id"].values())


@ray.remote
def node_of():
    return ray.get_runtime_context().get_node_id()


@pytest.mark.parametrize("strategy, expected", [
    ("PACK", [0, 0]),  # both fit on the first node: one node
    ("STRICT_PACK", [0, 0]),
    ("SPREAD", [0, 1]),  # one per node while there are nodes
    ("STRICT_SPREAD", [0, 1]),
])
def test_each_strategy_places_two_bundles(nodes, strategy, expected):
    _, ids = nodes(2, 2, 2)
    pg = placement_group([{"CPU": 1}, {"CPU": 1}], strategy=strategy)
    assert pg.wait(1)
    assert where(pg) == [ids[i] for i in expected]
    # Each bundle's task runs where its bundle is.
    ran = ray.get([node_of.options(scheduling_strategy=S(pg, i)).remote() for i in range(2)])
    assert ran == [ids[i] for i in expected]


def test_pack_spills_over_when_one_node_is_too_small_but_strict_pack_waits(nodes):
    _, ids = nodes(2, 2)
    pack = placement_group([{"CPU": 2}, {"CPU": 1}], strategy="PACK")
    assert pack.wait(1) and where(pack) == [ids[0], ids[1]]
    remove_placement_group(pack)
    strict = placement_group([{"CPU": 2}, {"CPU": 1}], strategy="STRICT_PACK")
    assert not strict.wait(1)
    row = placement_group_table(strict)
    assert row["state"] == "PENDING" and row["stats"]["scheduling_state"] == "INFEASIBLE"


def test_spread_doubles_up_when_nodes_run_out_but_strict_spread_waits_for_a_node(nodes):
    c, ids = nodes(2, 2)
    spread = placement_group([{"CPU": 1}] * 3, strategy="SPREAD")
    assert spread.wait(1) and where(spread) == [ids[0], ids[1], ids[0]]
    remove_placement_group(spread)
    strict = placement_group([{"CPU": 1}] * 3, strategy="STRICT_SPREAD")
    assert not strict.wait(1)
    third = c.add_node(num_cpus=1)  # a node joins: the pending group is placed at once
    assert strict.wait(1)
    assert where(strict) == [ids[0], ids[1], third.node_id]


def test_gang_reservation_takes_all_bundles_or_none(nodes):
    _, ids = nodes(2, 2)

    @ray.remote(num_cpus=2)
    def hold(s):
        time.sleep(s)
        return s

    busy = hold.options(scheduling_strategy="SPREAD").remote(5)  # takes one node for 5 s
    ray.wait([busy], timeout=0.1)
    pg = placement_group([{"CPU": 1}, {"CPU": 1}], strategy="STRICT_SPREAD")
    assert not pg.wait(1)
    assert ray.available_resources()["CPU"] == 2.0  # nothing half-reserved meanwhile
    assert ray.get(pg.ready()) == pg
    assert sim.now() == pytest.approx(5.0)  # reserved the moment the task gave its node back
    assert sorted(where(pg)) == sorted(ids)


def test_a_dead_nodes_bundles_are_rescheduled_and_its_actor_follows(nodes):
    c, ids = nodes(2, 2, 2)
    pg = placement_group([{"CPU": 1}, {"CPU": 1}], strategy="STRICT_SPREAD")
    assert pg.wait(1) and where(pg) == [ids[0], ids[1]]

    @ray.remote(max_restarts=1)
    class Stage:
        def node(self):
            return ray.get_runtime_context().get_node_id()

    a = Stage.options(scheduling_strategy=S(pg, 1)).remote()
    assert ray.get(a.node.remote()) == ids[1]
    c.remove_node(c.worker_nodes[0])  # ids[1] dies
    row = placement_group_table(pg)
    assert row["state"] == "CREATED" and row["bundles_to_node_id"] == {0: ids[0], 1: ids[2]}
    assert ray.get(a.node.remote()) == ids[2]  # restarted in its bundle's new place
    assert ray.get_runtime_context().get_node_id() == ids[0]


def test_a_group_with_no_place_left_waits_in_rescheduling(nodes):
    c, ids = nodes(2, 2)
    pg = placement_group([{"CPU": 1}, {"CPU": 1}], strategy="STRICT_SPREAD")
    assert pg.wait(1)
    c.remove_node(c.worker_nodes[0])
    row = placement_group_table(pg)
    assert row["state"] == "RESCHEDULING" and row["bundles_to_node_id"] == {0: ids[0], 1: ""}
    third = c.add_node(num_cpus=1)
    assert pg.wait(1)  # (the new node is seen on the next turn of the event loop)
    assert placement_group_table(pg)["bundles_to_node_id"] == {0: ids[0], 1: third.node_id}


def test_a_driver_waiting_forever_on_a_pending_group_is_told_why(nodes):
    nodes(2)
    pg = placement_group([{"CPU": 1}, {"CPU": 1}], strategy="STRICT_SPREAD")
    with pytest.raises(SimulationDeadlockError, match="STRICT_SPREAD.*no set of live nodes can ever hold it"):
        ray.get(pg.ready())


def test_placement_is_deterministic(nodes):
    def run():
        _, ids = nodes(1, 2, 3)
        out = []
        for strategy in ("PACK", "SPREAD", "STRICT_SPREAD", "STRICT_PACK"):
            pg = placement_group([{"CPU": 1}, {"CPU": 1}], strategy=strategy)
            pg.wait(1)
            out.append([ids.index(n) if n else None for n in where(pg)])
        return out, sorted(ray.available_resources().items())

    first = run()
    ray.shutdown()
    assert run() == first


def test_what_is_not_simulated_says_so(nodes):
    nodes(2)
    with pytest.raises(NotImplementedError, match="no labels"):
        placement_group([{"CPU": 1}], bundle_label_selector=[{"zone": "a"}])
    with pytest.raises(NotImplementedError, match="no labels"):
        placement_group([{"CPU": 1}], topology_strategy={"ray.io/node-id": "PACK"})
    with pytest.raises(TypeError, match="placement_group must be a PlacementGroup"):
        node_of.options(placement_group=object()).remote()


def test_a_group_made_in_a_previous_session_is_refused(nodes):
    nodes(2)
    pg = placement_group([{"CPU": 1}])
    ray.shutdown()
    nodes(2)
    again = placement_group([{"CPU": 1}])
    assert again.id == pg.id  # the same seed gives the same id...
    with pytest.raises(ValueError, match="does not belong to this cluster"):
        node_of.options(scheduling_strategy=S(pg)).remote()  # ...but the old handle is refused
    assert ray.get(node_of.options(scheduling_strategy=S(again)).remote())
