"""ray.cluster_utils.Cluster and NodeAffinitySchedulingStrategy on the simulator: adding and
removing nodes before and after the driver connects, with Ray's fault semantics."""

import time

import pytest

import dsai.mockray as ray
import dsai.sim as sim
from dsai.mockray.cluster_utils import Cluster, ClusterNode, lookup
from dsai.mockray.exceptions import ActorDiedError, NodeDiedError
from dsai.mockray.util.scheduling_strategies import (NodeAffinitySchedulingStrategy,
                                                     NodeLabelSchedulingStrategy)


@pytest.fixture
def fresh():
    """A clean slate, and every Cluster made in the test shut down afterwards."""
    ray.shutdown()
    made = []

    def make(**kw):
        c = Cluster(**kw)
        made.append(c)
        return c

    yield make
    ray.shutdown()
    for c in made:
        c.shutdown()


@ray.remote
def node_of(seconds=0.0):
    time.sleep(seconds)
    return ray.get_runtime_context().get_node_id()


@ray.remote
class Where:
    def node(self):
        return ray.get_runtime_context().get_node_id()

    def nap(self, s):
        time.sleep(s)
        return s


def pin(node, soft=False):
    return {"scheduling_strategy": NodeAffinitySchedulingStrategy(node.node_id, soft=soft)}


def test_address_and_nodes_look_like_rays(fresh):
    c = fresh()
    assert c.address is None and c.list_all_nodes() == []
    head = c.add_node(num_cpus=2)
    worker = c.add_node(num_cpus=1, resources={"x": 1})
    assert c.address == "10.0.0.1:6379" == head.address == head.gcs_address
    assert isinstance(head, ClusterNode) and head.is_head() and not worker.is_head()
    assert (head.node_ip_address, worker.node_ip_address) == ("10.0.0.1", "10.0.0.2")
    assert len(head.node_id) == 56 and int(head.node_id, 16) >= 0 and head.node_id != worker.node_id
    assert head.unique_id.startswith("10.0.0.1:")
    assert c.list_all_nodes() == [head, worker]
    assert c.head_node is head and c.worker_nodes == [worker]
    assert lookup(c.address) is c and lookup("auto") is c


def test_init_joins_the_cluster_with_its_nodes(fresh):
    c = fresh()
    head = c.add_node(num_cpus=2)
    worker = c.add_node(num_cpus=3, num_gpus=1, resources={"x": 2})
    ray.init(address=c.address)
    nodes = ray.nodes()
    assert [n["NodeID"] for n in nodes] == [head.node_id, worker.node_id]
    assert [n["NodeManagerAddress"] for n in nodes] == ["10.0.0.1", "10.0.0.2"]
    assert all(n["Alive"] for n in nodes)
    res = ray.cluster_resources()
    assert (res["CPU"], res["GPU"], res["x"]) == (5.0, 1.0, 2.0)
    assert res["object_store_memory"] == 2 * 150 * 1024 * 1024  # Ray's add_node default
    assert ray.get_runtime_context().get_node_id() == head.node_id  # the driver is on the head
    assert not c.connected  # as in Ray, only Cluster.connect() sets it


def test_add_node_defaults_to_one_cpu_and_checks_its_arguments(fresh):
    c = fresh()
    c.add_node()
    c.add_node(num_cpus=0, resources={"y": 1}, node_name="ignored", dashboard_port=1)
    ray.init(address=c.address)
    assert ray.cluster_resources()["CPU"] == 1.0
    with pytest.raises(TypeError, match="unexpected keyword argument 'num_cpu'"):
        c.add_node(num_cpu=2)
    with pytest.raises(ValueError, match="num_cpus must be a non-negative number, got -1"):
        c.add_node(num_cpus=-1)
    with pytest.raises(ValueError, match="Use the 'num_cpus' and 'num_gpus' keyword"):
        c.add_node(resources={"CPU": 2})


def test_constructor_options(fresh):
    with pytest.raises(RuntimeError, match="^Cannot connect to uninitialized cluster.$"):
        Cluster(connect=True)
    c = fresh(initialize_head=True, connect=True, head_node_args={"num_cpus": 3})
    assert ray.is_initialized() and c.connected
    assert ray.cluster_resources()["CPU"] == 3.0


def test_tasks_are_placed_on_cluster_nodes_by_affinity_and_resources(fresh):
    c = fresh()
    head = c.add_node(num_cpus=1)
    w1 = c.add_node(num_cpus=1, resources={"x": 1})
    w2 = c.add_node(num_cpus=1)
    ray.init(address=c.address)
    assert ray.get(node_of.options(resources={"x": 1}).remote()) == w1.node_id
    assert ray.get([node_of.options(**pin(n)).remote() for n in (w2, head, w1)]) == [
        w2.node_id, head.node_id, w1.node_id]
    a = Where.options(**pin(w2)).remote()
    assert ray.get(a.node.remote()) == w2.node_id


def test_a_node_added_after_init_takes_queued_work(fresh):
    c = fresh()
    c.add_node(num_cpus=1)
    ray.init(address=c.address)
    ref = node_of.options(resources={"gpuish": 1}).remote()  # fits nowhere yet
    ray.wait([ref], timeout=5.0)
    late = c.add_node(num_cpus=1, resources={"gpuish": 1})
    assert ray.get(ref) == late.node_id
    assert late.node_ip_address == "10.0.0.2" and ray.nodes()[1]["NodeID"] == late.node_id
    # More CPUs, more parallelism: 4 one-second tasks on 1+3 CPUs take 1 virtual second.
    c.add_node(num_cpus=2)
    t0 = sim.now()
    ray.get([node_of.remote(1.0) for _ in range(4)])
    assert sim.now() - t0 == pytest.approx(1.0)


def test_remove_node_kills_it_and_retries_its_tasks_elsewhere(fresh):
    c = fresh()
    head = c.add_node(num_cpus=1)
    worker = c.add_node(num_cpus=1)
    ray.init(address=c.address)
    ref = node_of.options(**pin(worker, soft=True)).remote(2.0)
    sim.at(1.0, c.remove_node, worker)
    assert ray.get(ref) == head.node_id  # retried (max_retries=3) on the head
    assert sim.now() == pytest.approx(3.0)  # 1 s lost on the dead node + 2 s again
    assert [n["Alive"] for n in ray.nodes()] == [True, False]
    assert c.list_all_nodes() == [head] and not worker.alive
    with pytest.raises(ValueError, match="not a node of this cluster"):
        c.remove_node(worker)


def test_remove_node_without_retries_or_with_an_actor(fresh):
    c = fresh()
    c.add_node(num_cpus=1)
    worker = c.add_node(num_cpus=2)
    ray.init(address=c.address)
    ref = node_of.options(max_retries=0, **pin(worker)).remote(5.0)
    actor = Where.options(**pin(worker)).remote()
    call = actor.nap.remote(5.0)
    sim.at(1.0, c.remove_node, worker)
    with pytest.raises(NodeDiedError):
        ray.get(ref)
    with pytest.raises(ActorDiedError):
        ray.get(call)
    assert sim.now() == pytest.approx(1.0)


def test_removing_the_drivers_node_shuts_ray_down(fresh):
    c = fresh()
    head = c.add_node(num_cpus=1)
    ray.init(address=c.address)
    with pytest.raises(ValueError, match="Removing a node that is connected to this Ray client"):
        c.remove_node(head)
    assert not ray.is_initialized()
    c.shutdown()  # without a driver the head can go
    assert c.address is None and c.list_all_nodes() == []
    with pytest.raises(ConnectionError, match="No simulated cluster at address '10.0.0.1:6379'"):
        lookup("10.0.0.1:6379")


def test_nodes_removed_before_init_are_listed_dead(fresh):
    c = fresh()
    c.add_node(num_cpus=1)
    gone = c.add_node(num_cpus=4)
    c.add_node(num_cpus=2)
    c.remove_node(gone)
    ray.init(address=c.address)
    assert [n["Alive"] for n in ray.nodes()] == [True, False, True]
    assert ray.cluster_resources()["CPU"] == 3.0
    assert [n.node_ip_address for n in c.list_all_nodes()] == ["10.0.0.1", "10.0.0.3"]


def test_reconnecting_after_shutdown_keeps_the_nodes(fresh):
    c = fresh()
    head = c.add_node(num_cpus=1)
    ray.init(address=c.address)
    ray.shutdown()
    worker = c.add_node(num_cpus=2)  # added while no driver is connected
    ray.init(address=c.address)
    assert [n["NodeID"] for n in ray.nodes()] == [head.node_id, worker.node_id]
    assert ray.cluster_resources()["CPU"] == 3.0


def test_wait_for_nodes_times_out_in_virtual_time_after_a_crash(fresh):
    c = fresh()
    c.add_node(num_cpus=1)
    worker = c.add_node(num_cpus=1)
    c.wait_for_nodes()  # before init: nothing to wait for
    ray.init(address=c.address)
    c.wait_for_nodes()
    worker.kill_raylet()  # a crash the cluster was not told about
    t0 = sim.now()
    with pytest.raises(TimeoutError, match="^Timed out while waiting for nodes to join.$"):
        c.wait_for_nodes(timeout=5)
    assert sim.now() - t0 == pytest.approx(5.0)
    assert not c.remaining_processes_alive()


def test_two_clusters_get_two_addresses(fresh):
    a, b = fresh(), fresh()
    a.add_node(num_cpus=1)
    b.add_node(num_cpus=2)
    assert (a.address, b.address) == ("10.0.0.1:6379", "10.0.0.1:6380")
    ray.init(address=b.address)
    assert ray.cluster_resources()["CPU"] == 2.0
    with pytest.raises(ConnectionError, match="No simulated cluster at address '1.2.3.4:6379'"):
        lookup("1.2.3.4:6379")


def test_same_program_same_ids_and_results(fresh):
    def run():
        ray.shutdown()
        c = fresh()
        nodes = [c.add_node(num_cpus=1) for _ in range(3)]
        ray.init(address=c.address)
        sim.at(0.5, c.remove_node, nodes[2])
        out = ray.get([node_of.options(scheduling_strategy="SPREAD").remote(1.0) for _ in range(6)])
        result = [n.node_id for n in nodes], out, sim.now(), ray.timeline()
        ray.shutdown()
        c.shutdown()
        return result

    first, second = run(), run()
    assert first == second
    # 3 run at once; node 3 dies at 0.5 s; its task and the 2 left share 2 CPUs from t=1.
    assert first[2] == pytest.approx(3.0)
    assert set(first[1]) == {first[0][0], first[0][1]}  # nothing finished on the dead node


def test_node_affinity_strategy_validates_like_ray():
    good = "ab" * 28
    s = NodeAffinitySchedulingStrategy(good, soft=True)
    assert (s.node_id, s.soft) == (good, True)
    for bad in ("abc", "f" * 56, "zz" * 28, "a" * 58):
        with pytest.raises(ValueError, match=f"Invalid node_id '{bad}'. Node ID must be a valid hex string"):
            NodeAffinitySchedulingStrategy(bad, soft=False)
    with pytest.raises(ValueError, match="_spill_on_unavailable cannot be set when soft is False"):
        NodeAffinitySchedulingStrategy(good, soft=False, _spill_on_unavailable=True)
    with pytest.raises(ValueError, match="_fail_on_unavailable cannot be set when soft is True"):
        NodeAffinitySchedulingStrategy(good, soft=True, _fail_on_unavailable=True)


def test_unsimulated_strategies_say_so():
    with pytest.raises(NotImplementedError, match="no labels"):
        NodeLabelSchedulingStrategy({"zone": None})


def test_joining_a_cluster_keeps_seed_network_and_address():
    import dsai.sim as sim
    from dsai.mockray.cluster_utils import Cluster

    ray.shutdown()
    c = Cluster()
    c.add_node(num_cpus=1)
    ctx = ray.init(address=c.address, seed=5, network={"latency": 0.5})
    try:
        assert sim.current().seed == 5
        assert sim.current().network.config.latency == 0.5
        assert ctx["address"] == c.address
    finally:
        ray.shutdown()
        c.shutdown()
