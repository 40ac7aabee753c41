"""The library on a real two-node Ray cluster: the setup call, the ring all-reduce, GPipe's stages.

Arrays are made on the node of the rank that holds them (a task pinned there),
so the all-reduce's pieces cross between object stores; GPipe's stages get a
node each through a placement group. Results are compared with numpy and with
the unsplit model, not with wall-clock times.
"""

from __future__ import annotations

import numpy as np
import pytest


def test_course_start_joins_the_cluster_ray_address_names(cluster, ray_on_cluster, monkeypatch, capsys):
    from dsai import course

    monkeypatch.setenv("RAY_ADDRESS", cluster.address)
    course.start(num_cpus=4)
    out = capsys.readouterr().out
    assert f"joined the cluster at RAY_ADDRESS={cluster.address}: 2 node(s), 4 CPUs" in out
    assert "written for" not in out  # 4 CPUs are what the lesson asks for
    course.start(num_cpus=8)  # a lesson that needs more than the cluster has says so
    out = capsys.readouterr().out
    assert "this lesson is written for 8 CPUs, so tasks queue for a free CPU" in out


def test_parallel_start_cluster_joins_and_says_ranks_share_nodes(cluster, ray_on_cluster, monkeypatch, capsys):
    from dsai import ray
    from dsai.parallel.placement import alive_nodes, start_cluster

    monkeypatch.setenv("RAY_ADDRESS", cluster.address)
    start_cluster(3)  # 3 worker nodes asked for; the cluster has 1 besides the driver's
    assert "has 1 node(s) besides the driver's, fewer than the 3 asked for" in capsys.readouterr().err
    assert len(alive_nodes()) == 2 and ray.cluster_resources()["CPU"] == 4


def _arrays_made_on(nodes: list[str], elements: int, seed: int) -> tuple[list, list[np.ndarray]]:
    """One array per node, made by a task pinned to that node (its ref lives there), and copies."""
    from dsai import ray
    from dsai.parallel.placement import pin

    @ray.remote
    def make(i: int) -> np.ndarray:
        return np.random.default_rng([seed, i]).standard_normal(elements)

    refs = [make.options(**pin(n)).remote(i) for i, n in enumerate(nodes)]
    return refs, [np.random.default_rng([seed, i]).standard_normal(elements) for i in range(len(nodes))]


@pytest.mark.parametrize("ranks", [2, 4])
def test_ring_allreduce_across_nodes_equals_numpy(ray_on_cluster, ranks):
    from dsai import ray
    from dsai.parallel import theory
    from dsai.parallel.collectives import allreduce
    from dsai.parallel.group import CollectiveGroup
    from dsai.parallel.placement import alive_nodes

    nodes = alive_nodes()
    assert len(nodes) == 2
    where = [nodes[i % 2] for i in range(ranks)]  # ranks alternate between the two nodes
    # Uneven chunks with 2 ranks; even ones with 4, where a node's two ranks send different
    # chunks and the per-node total would otherwise differ from k x one rank's by a few elements.
    elements = 100_003 if ranks == 2 else 100_000
    refs, xs = _arrays_made_on(where, elements, seed=ranks)
    group = CollectiveGroup(ranks, where)
    group.load(refs)
    run = allreduce(group, "ring")
    expected = np.sum(xs, axis=0)
    for value in group.values():
        np.testing.assert_allclose(value, expected, rtol=1e-12, atol=1e-12)
    # The ledger counts per node: with ranks alternating, every hand-over leaves its node,
    # and a node holding k ranks sends k times a rank's 2(N-1)/N x M.
    per_node = ranks // 2
    assert run.payload_sent_max == per_node * theory.payload_sent_max("ring", ranks, elements, 8)
    assert len(set(group.node_name)) == 2  # the ledger tells the two nodes apart
    for r in group.ranks:
        ray.kill(r)


def test_gpipe_stages_on_different_nodes_through_a_placement_group(ray_on_cluster, monkeypatch):
    """Two stages, one per node (STRICT_SPREAD), four micro-batches: the gradient is the
    unsplit model's, and Ray's timeline holds every stage step in one process per stage."""
    import time

    from dsai import ray
    from dsai.parallel import exp_pipeline, pipeline
    from dsai.parallel.device import start_devices
    from dsai.parallel.exp_ray import timeline_bubble

    reserved = []
    spread = pipeline.spread_over_nodes

    def spy(count, bundle):
        options, release = spread(count, bundle)
        group = options[0]["scheduling_strategy"].placement_group
        reserved.append(ray.util.placement_group_table(group))
        return options, release

    monkeypatch.setattr(pipeline, "spread_over_nodes", spy)
    start_devices(2, exp_pipeline.SPEC)  # the cluster's 4 logical GPUs are enough: kept as it is
    model, x, y = exp_pipeline.model_and_batch()
    since = time.time() * 1e6
    run = pipeline.run_pipeline(model, x, y, stages=2, microbatches=4, schedule="gpipe",
                                spec=exp_pipeline.SPEC)
    loss, grad = model.loss_and_grad(x, y)
    assert run.loss == pytest.approx(loss, rel=1e-12)
    np.testing.assert_allclose(run.grad, grad, rtol=1e-9, atol=1e-12)
    [table] = reserved
    assert table["strategy"] == "STRICT_SPREAD"
    assert len(set(table["bundles_to_node_id"].values())) == 2  # one node per stage
    deadline = time.monotonic() + 60
    while True:  # task events reach the GCS about once a second
        try:
            bubble, makespan = timeline_bubble(ray.timeline(), since, stages=2, expected=16)
            break
        except RuntimeError:
            assert time.monotonic() < deadline, "Ray's timeline never held the 16 stage steps"
            time.sleep(1)
    assert 0.0 <= bubble < 1.0 and makespan > 0
