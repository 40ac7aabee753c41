"""Conformance: init/shutdown, the API before init (auto-init), multi-node Cluster.

One test, because each cluster start costs 15-45 s on real Ray on this machine
(`own_cluster`: it runs last, after the shared cluster is no longer needed).
"""

import importlib
import time

import pytest

pytestmark = pytest.mark.own_cluster


def test_lifecycle_auto_init_and_cluster(bare_ray, backend, monkeypatch):
    ray = bare_ray
    assert not ray.is_initialized()
    ray.shutdown()  # safe before init
    ray.shutdown()  # and twice
    # These do NOT auto-init: they raise.
    for call in (ray.available_resources, ray.cluster_resources, ray.nodes):
        with pytest.raises(ray.exceptions.RaySystemError, match="Ray has not been started yet"):
            call()
    with pytest.raises(RuntimeError, match="Ray has not been started yet. Timeline requires Ray to be initialized first."):
        ray.timeline()

    @ray.remote
    def where():
        time.sleep(0.01)
        return ray.get_runtime_context().get_node_id()

    with pytest.raises(TypeError, match="Remote functions cannot be called directly"):
        where()
    assert not ray.is_initialized()  # none of the above started a cluster

    Cluster = importlib.import_module(ray.__name__ + ".cluster_utils").Cluster
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    try:
        node = cluster.add_node(num_cpus=2, resources={"side": 1})
        if backend == "ray":
            # Auto-init joins RAY_ADDRESS: the Cluster above (seconds, not a new cluster).
            monkeypatch.setenv("RAY_ADDRESS", cluster.address)
        # ray.put (like get, wait, .remote, kill, cancel, get_actor, get_runtime_context) auto-inits.
        ref = ray.put(41)
        assert ray.is_initialized()
        assert ray.get(ref) == 41
        ray.shutdown()
        assert not ray.is_initialized()

        ray.init(address=cluster.address)
        with pytest.raises(ValueError, match="owner is unknown"):
            ray.get(ref)  # made in the session before: its owner, that driver, is gone
        res = ray.cluster_resources()
        assert res["CPU"] == 3.0 and res["side"] == 1.0
        assert len([n for n in ray.nodes() if n["Alive"]]) == 2
        assert ray.get(where.options(resources={"side": 1}).remote()) == node.node_id
        assert ray.get(where.remote()) in {n["NodeID"] for n in ray.nodes()}
    finally:
        ray.shutdown()
        cluster.shutdown()
    assert not ray.is_initialized()
    ray.shutdown()  # safe twice after init too
