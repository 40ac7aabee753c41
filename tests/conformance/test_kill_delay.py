"""Conformance: `ray.kill(actor, no_restart=False)` goes through the control plane; calls go straight.

Measured on Ray 2.60 (counter at 3, then the kill): a call made right after
the kill answered 4 from the old instance (8 runs of 9, lightly loaded) or
ActorUnavailableError (when the machine was loaded), never 1 from the
restarted one; the first call made once the kill had landed (0.2 s to 6 s
later) answered ActorUnavailableError ("The actor was restarted") in 8 of 8;
`no_restart=True` answered ActorDiedError at once (a call made before it
and still pending: in 2 runs of 3). The simulator gives the lightly loaded answers
(dsai/mockray/kill_delay.py).
"""

from __future__ import annotations

import re
import time

import pytest


@pytest.fixture
def Counter(ray):
    @ray.remote(max_restarts=1)
    class Counter:
        def __init__(self):
            self.n = 0

        def inc(self):
            self.n += 1
            return self.n

    return Counter


def _answer(ray, ref):
    try:
        return ray.get(ref, timeout=60)
    except ray.exceptions.ActorUnavailableError:
        return "unavailable"


def test_a_call_right_after_a_restart_kill_reaches_the_old_instance(ray, Counter, backend):
    c = Counter.remote()
    assert ray.get([c.inc.remote() for _ in range(3)]) == [1, 2, 3]
    ray.kill(c, no_restart=False)
    answer = _answer(ray, c.inc.remote())
    assert answer in (4, "unavailable")  # never 1: the restarted instance is not there yet
    if backend == "sim":
        assert answer == 4
    ray.kill(c)


def test_the_first_call_after_the_kill_landed_finds_the_worker_gone(ray, Counter, backend):
    c = Counter.remote()
    assert ray.get([c.inc.remote() for _ in range(3)]) == [1, 2, 3]
    ray.kill(c, no_restart=False)
    time.sleep(1.0)  # the kill lands meanwhile (the simulator runs 1 virtual second)
    # On Ray it may land later (up to 6 s measured): until then calls still reach the old
    # instance (4, 5, ...), so the test skips those, for 60 s at most; the simulator: none.
    old, deadline = 3, time.monotonic() + 60
    while True:
        try:
            value = ray.get(c.inc.remote(), timeout=60)
        except ray.exceptions.ActorUnavailableError as e:
            first = e
            break
        if not (backend == "ray" and value == old + 1 and time.monotonic() < deadline):
            first = value
            break
        old = value
    # (Ray's words vary: "IOError: The actor was restarted" or "... is restarting.")
    assert isinstance(first, ray.exceptions.ActorUnavailableError), first
    assert re.search("The actor (was restarted|is restarting)", str(first)), str(first)
    deadline = time.monotonic() + 60
    answer = "unavailable"
    while answer == "unavailable" and time.monotonic() < deadline:  # (Ray: while it restarts)
        answer = _answer(ray, c.inc.remote())
    assert answer == 1  # the restarted instance: __init__ ran again
    ray.kill(c)


def test_a_kill_without_restart_acts_at_once(ray, Counter, backend):
    c = Counter.remote()
    assert ray.get(c.inc.remote()) == 1
    before = c.inc.remote()
    ray.kill(c, no_restart=True)
    after = c.inc.remote()
    try:  # a race on Ray (ActorDiedError in 2 runs of 3, else 2); the simulator: at once
        first = ray.get(before, timeout=60)
    except ray.exceptions.ActorDiedError:
        first = "died"
    assert first in (2, "died")
    try:  # also a race on Ray (CI once saw it answer 3); the simulator: died
        second = ray.get(after, timeout=60)
    except ray.exceptions.ActorDiedError:
        second = "died"
    # Calls run in submission order, so once one died every later one died too.
    assert (first, second) in ((2, 3), (2, "died"), ("died", "died"))
    if backend == "sim":
        assert (first, second) == ("died", "died")
