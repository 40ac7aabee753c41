"""Conformance: a restarting `ray.kill` travels through the control plane before it reaches the actor.

With `no_restart=False` Ray's GCS forwards the kill to the actor's worker
and returns; a call the driver sends right after it still reaches the old
instance. Later calls meet the restarted actor, whose constructor ran again
(dsai/mockray/faults.py, `kill_actor`).
"""

import time


def test_a_call_right_after_a_restarting_kill_reaches_the_old_instance(ray):
    @ray.remote(max_restarts=1)
    class Counter:
        def __init__(self):
            self.n = 0

        def inc(self):
            self.n += 1
            return self.n

    c = Counter.remote()
    assert ray.get([c.inc.remote() for _ in range(3)]) == [1, 2, 3]
    ray.kill(c, no_restart=False)
    assert ray.get(c.inc.remote()) == 4  # the old instance, its state intact
    value, deadline = 4, time.monotonic() + 30
    while value != 1 and time.monotonic() < deadline:  # soon: the restarted instance
        value = ray.get(c.inc.remote())
    assert value == 1
    ray.kill(c)


def test_a_kill_without_restart_fails_the_next_call(ray):
    @ray.remote
    class Counter:
        def __init__(self):
            self.n = 0

        def inc(self):
            self.n += 1
            return self.n

    c = Counter.remote()
    assert ray.get(c.inc.remote()) == 1
    ray.kill(c)
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline:  # (at once here; on Ray once the death is known)
            ray.get(c.inc.remote())
    except ray.exceptions.RayActorError as e:
        assert isinstance(e, ray.exceptions.ActorDiedError)
    else:
        raise AssertionError("calls to a killed actor kept answering")
