"""run_script: a schedule you write, a partition you choose, the checker's verdict."""

from __future__ import annotations

import pytest

from dsai.cap import CapConfigError, run_script
from dsai.cap.cluster import Cluster
from dsai.viz.spacetime import count_gids, spacetime


def write_then_read(cluster):
    """Write on the key's leader, read on a node cut off from it."""
    n = cluster.cfg.nodes
    leader = cluster.leader_of("k0")
    lonely = (leader + 1) % n
    cluster.partition([lonely])
    cluster.client(leader).write("k0", 1)
    cluster.sim.sleep(0.05)
    cluster.client(lonely).read("k0")


@pytest.mark.parametrize("nodes", [3, 5, 7])
def test_local_reads_are_caught_and_cp_is_not(nodes):
    bad = run_script(write_then_read, mode="cp-local-reads", nodes=nodes, seed=1)
    assert bad.valid is False and bad.metrics["stale_reads"] == 1
    assert bad.verdict.keys[0].culprit.f == "read" and bad.verdict.keys[0].culprit.output is None
    good = run_script(write_then_read, mode="cp", nodes=nodes, seed=1)
    assert good.valid is True
    read = good.ops[1]
    assert read.side == "minority" and read.outcome == "fail"


def test_a_scripted_partition_is_logged_and_drawn():
    r = run_script(write_then_read, mode="ap-lww", nodes=5, seed=0)
    (span,) = r.spans
    assert span.kind == "partition" and span.nodes == (2,) and span.groups == ((2,), (0, 1, 3, 4))
    assert span.end is not None and span.end >= 0.05
    assert [op.side for op in r.ops] == ["majority", "minority"]
    assert count_gids(spacetime(r, (0.0, 0.1)))["fault-partition"] == 1


def test_same_script_same_seed_same_history():
    a = run_script(write_then_read, mode="cp", nodes=5, seed=3)
    b = run_script(write_then_read, mode="cp", nodes=5, seed=3)
    assert a.history == b.history


def test_partition_and_heal():
    c = Cluster(mode="cp", nodes=5)
    span = c.partition([0, 1])
    assert c.sim.network.partitioned and c.nemesis.active is span and span.groups == ((0, 1), (2, 3, 4))
    assert c.side_of(0) == "minority" and c.side_of(3) == "majority"
    c.partition([2])  # a new partition replaces the old one
    assert len(c.nemesis.spans) == 2 and c.nemesis.spans[0].end is not None
    c.heal()
    assert not c.sim.network.partitioned and c.nemesis.active is None


def test_bad_partitions_and_scripts_say_what_to_fix():
    c = Cluster(mode="cp", nodes=3)
    with pytest.raises(CapConfigError, match="node 5 is not in this cluster; node ids are 0..2"):
        c.partition([5])
    with pytest.raises(CapConfigError, match="leaves every node on one side"):
        c.partition([0, 1, 2])
    with pytest.raises(CapConfigError, match="script must be a function"):
        run_script("write x")
