"""Failures: a worker killed mid-training, a server killed and restarted from its checkpoint."""

import re

import pytest

from dsai import ps


@pytest.mark.parametrize("mode", ["sync", "async", "ssp"])
def test_training_goes_on_without_a_killed_worker(mode):
    cfg = ps.PSConfig(mode=mode, steps=60, kill_worker=(2, 100),
                      staleness=1 if mode == "ssp" else 0)
    r = ps.simulate(cfg)
    assert len(r.events) == 1
    assert r.events[0].startswith("worker 2 was killed after 100 gradients")
    assert "its shard of 359 examples was not trained on afterwards; 3 workers went on" in r.events[0]
    by = r.gradients_by_worker()
    assert by[2] <= 100 // 4 + 1 and min(by[0], by[1], by[3]) > by[2]
    assert r.test_accuracy >= 0.85
    killed_at = float(re.search(r"t=([0-9.]+) s", r.events[0]).group(1))  # (printed to 0.1 ms)
    assert all(u.worker != 2 for u in r.history if u.time > killed_at + 1e-4)


@pytest.mark.parametrize("mode,k,at", [("sync", 10, 93), ("async", 10, 95), ("async", 7, 50)])
def test_server_restart_loses_at_most_k_updates(mode, k, at):
    r = ps.simulate(ps.PSConfig(mode=mode, steps=60, checkpoint_every=k, kill_server=(0, at)))
    assert len(r.events) == 1 and r.events[0].startswith("server shard 0 killed at version")
    assert 0 < r.lost_updates <= k
    # the versions the restarted server hands out again are the lost ones
    applied = [u.applied for u in r.history]
    drop = next(i for i in range(1, len(applied)) if applied[i] < applied[i - 1])
    assert applied[drop - 1] + 1 - applied[drop] == r.lost_updates
    assert r.test_accuracy >= 0.85


def test_sync_server_restart_measures_the_lost_rounds():
    r = ps.simulate(ps.PSConfig(mode="sync", steps=60, checkpoint_every=10, kill_server=(0, 92)))
    # killed after round 23 (92 gradients / 4 workers): version 23, checkpoint at 20
    assert r.lost_updates == 3
    assert "killed at version 23" in r.events[0] and "at version 20: 3 updates lost" in r.events[0]


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_step_that_fails_on_its_own_raises_instead_of_counting_as_lost(mode, monkeypatch):
    # Only a dead server or worker loses a step; any other error in a step is the user's to see.
    def broken(self, clock):
        raise ValueError("a bug in the step")

    monkeypatch.setattr(ps.worker.Worker, "step", broken)
    with pytest.raises(ValueError, match="a bug in the step"):
        ps.simulate(ps.PSConfig(mode=mode, steps=5))
