"""The fault-tolerance lesson's pictures: killed attempts on the timeline, counted."""

from __future__ import annotations

import time

import pytest

import dsai.mockray as ray
import dsai.sim as sim
from dsai.viz.faults import attempt_counts, timeline_figure


@pytest.fixture
def three_nodes():
    ray.shutdown()
    cluster = ray.cluster_utils.Cluster(initialize_head=True, head_node_args={"num_cpus": 2})
    workers = [cluster.add_node(num_cpus=2, resources={"worker": 1}) for _ in range(2)]
    ray.init(address=cluster.address)
    yield cluster, workers
    ray.shutdown()


@ray.remote(resources={"worker": 0.01})
def work(i):
    time.sleep(1.0)
    return i


def test_a_node_crash_shows_as_killed_attempts_and_reruns(three_nodes):
    cluster, workers = three_nodes
    refs = [work.options(scheduling_strategy="SPREAD").remote(i) for i in range(4)]
    sim.at(0.5, cluster.remove_node, workers[0])
    assert ray.get(refs) == [0, 1, 2, 3]
    events = ray.timeline()
    assert attempt_counts(events) == {"work": {"killed": 2, "ok": 4}}
    fig = timeline_figure(events, title="crash")
    ax = fig.axes[0]
    assert ax.get_title() == "crash" and ax.get_xlabel() == "virtual time (s)"
    hatched = [p for p in ax.patches if p.get_hatch()]
    assert len(hatched) == 2  # the two killed attempts
    later = timeline_figure(events, since=0.75)
    assert len(later.axes[0].patches) == 2  # only the re-runs started after 0.75 s


def test_no_faults_no_killed_attempts(three_nodes):
    ray.get([work.remote(i) for i in range(2)])
    assert attempt_counts(ray.timeline()) == {"work": {"ok": 2}}
