"""Dynamo-style quorums: R + W > N is not linearizability. Two replayed schedules the checker rejects."""

from __future__ import annotations

import pytest

from dsai.cap import CapConfig, CapConfigError, Cluster
from dsai.check import check


def _cluster(**kw) -> Cluster:
    # three replicas, every key on all of them, reads and writes wait for two: R + W = 4 > N = 3
    cfg = CapConfig(mode="dynamo", nodes=3, n=3, r=2, w=2, jitter=0.0, gossip_interval=100.0, **kw)
    assert cfg.r + cfg.w > cfg.n
    return Cluster(cfg)


def test_a_write_that_timed_out_is_read_then_unread():
    """W(2) reaches one replica and times out (info). A read through that replica sees 2;
    a later read elsewhere, whose quorum misses it, sees null: no single order explains both."""
    c = _cluster()
    sim, net = c.sim, c.sim.network
    net.block(0, 1)
    net.block(0, 2)
    net.set_link(0, latency=0.05)  # node 0 is far away: its read repair arrives late
    sim.at(0.21, net.heal)
    seen = {}

    def writer_then_reader():
        seen["w"] = c.client(0).write("k0", 2)
        sim.sleep(0.25 - sim.now())
        seen["r1"] = c.client(0).read("k0")

    def later_reader():
        sim.sleep(0.36)
        seen["r2"] = c.client(2).read("k0")

    c.spawn(writer_then_reader)
    c.spawn(later_reader)
    c.run_until_idle()
    assert seen["w"].outcome == "info"
    assert (seen["r1"].outcome, seen["r1"].result) == ("ok", 2)
    assert (seen["r2"].outcome, seen["r2"].result) == ("ok", None)
    assert seen["r1"].complete < seen["r2"].invoke
    verdict = check(c.history.history(), "cas-register")
    assert verdict.valid is False, verdict.explanation


def test_clock_skew_orders_quorum_writes_backwards():
    """Both writes reach a quorum and are acknowledged, one after the other; a quorum read
    afterwards returns the first, because its coordinator's clock ran a second ahead."""
    c = _cluster()
    c.sim.nodes[0].clock_offset = 1.0
    seen = {}

    def script():
        seen["w1"] = c.client(0).write("k0", 1)
        c.sim.sleep(0.001)
        seen["w2"] = c.client(1).write("k0", 2)
        c.sim.sleep(0.001)
        seen["r"] = c.client(2).read("k0")

    c.spawn(script)
    c.run_until_idle()
    assert [seen[k].outcome for k in ("w1", "w2", "r")] == ["ok", "ok", "ok"]
    assert seen["w1"].complete < seen["w2"].invoke < seen["w2"].complete < seen["r"].invoke
    assert seen["r"].result == 1
    assert check(c.history.history(), "cas-register").valid is False


def test_quorum_settings_are_validated():
    with pytest.raises(CapConfigError, match=r"quorum r=6 is larger than n=5"):
        CapConfig(mode="dynamo", nodes=5, r=6)
    with pytest.raises(CapConfigError, match=r"quorum w=4 is larger than n=3"):
        CapConfig(mode="dynamo", nodes=5, n=3, w=4)
    with pytest.raises(CapConfigError, match=r"n=7 replicas per key must be between 1 and nodes=5"):
        CapConfig(mode="dynamo", nodes=5, n=7)
    with pytest.raises(CapConfigError, match=r"r=2 only applies to mode 'dynamo'"):
        CapConfig(mode="cp", r=2)
    cfg = CapConfig(mode="dynamo", nodes=5)
    assert (cfg.n, cfg.r, cfg.w) == (5, 3, 3)


def test_weak_quorums_are_stale_more_often_than_strict_ones():
    from tests.cap.conftest import cached_run

    weak = sum(cached_run("dynamo", "partition", s, r=1, w=1).metrics["stale_reads"] for s in range(6))
    strict = sum(cached_run("dynamo", "partition", s).metrics["stale_reads"] for s in range(6))
    assert weak > strict
