"""A worker dies while its push completes a round: the round's records must still reach the history.

In sync training the round is applied by the push that completes it, and
that push's reply carried the round's apply records. When the completing
worker dies before the reply reaches it, the surviving worker's gradient is
applied all the same; the history must show it (and the dead worker's).
"""

from dsai import ps, ray, sim

STEPS = 10


def _kill_node_at_apply(call: int, node: str):
    """The servers' apply step, which kills `node` at the same virtual instant as its `call`-th call."""
    calls = [0]

    def apply(w, velocity, grads, lr, momentum):
        calls[0] += 1
        if calls[0] == call:
            sim.after(0.0, sim.kill_node, node)  # before the push's reply can travel back
        ps.apply_gradients(w, velocity, grads, lr, momentum)

    return apply


def test_records_of_a_round_completed_by_a_worker_that_dies_are_kept():
    cfg = ps.PSConfig(mode="sync", workers=2, steps=STEPS, eval_every=1000)
    names = ps.start_cluster(cfg)  # head, server shard 0, worker 0, worker 1
    ray.shutdown()
    # worker 1 is 3x slower, so its push is always the one that completes a round
    r = ps.simulate(cfg, slowdown={1: 3.0}, apply=_kill_node_at_apply(5, names[3]))
    assert any(e.startswith("worker 1 died") for e in r.events), r.events
    by = r.gradients_by_worker()
    assert by[0] == STEPS  # the survivor's every gradient, round 4's included
    assert by[1] == 5      # clocks 0..4: the dead worker's last push was applied too
    # every update the server applied is recorded exactly once
    assert [u.applied for u in r.history if u.worker == 0] == list(range(STEPS))
    assert [u.applied for u in r.history if u.worker == 1] == list(range(5))
    assert r.curve[-1][1] == STEPS


def test_a_worker_that_dies_between_rounds_leaves_the_records_as_they_were():
    cfg = ps.PSConfig(mode="sync", workers=2, steps=STEPS, eval_every=1000)
    r = ps.simulate(cfg, kill_worker=(1, 8))
    assert r.gradients_by_worker() == {0: STEPS, 1: 4}
    assert len(r.history) == STEPS + 4


def test_async_kill_records_every_applied_gradient_exactly_once():
    # The driver's ray.kill can land while the worker's push is applied but not yet answered:
    # before the fix, kill points 21, 22 and 25 each lost that gradient's record.
    for at in (21, 22, 25):
        r = ps.simulate(ps.PSConfig(mode="async", workers=4, steps=15, kill_worker=(2, at)))
        final_version = r.curve[-1][1]
        assert len(r.history) == final_version, (at, len(r.history), final_version)
        assert sorted(u.applied for u in r.history) == list(range(final_version))
        [last] = [u for u in r.history if u.worker == 2][-1:]
        assert last.loss != last.loss  # nan: its worker died before reporting the loss
