"""A driver's `ray.wait` loop over the list the last call returned: same answers, without rescanning."""

import json
import random
import time
import tracemalloc

import numpy as np
import pytest

import dsai.mockray as ray
import dsai.sim as sim
from dsai.mockray import blocking
from dsai.mockray.runtime import runtime


@ray.remote(max_retries=2)
def work(i, seconds, nbytes):
    time.sleep(seconds)
    return np.full(nbytes, i % 251, dtype=np.uint8) if nbytes else i


def scenario(seed: int) -> str:
    """Random waits (num_returns, timeout, fetch_local), random edits of the returned list between
    calls, big results on other nodes, a node dying midway: everything the memory must notice."""
    rng = random.Random(seed)
    ray.shutdown()
    ray.init(num_cpus=2, resources={"n0": 100}, seed=seed)
    rt = runtime()
    for i in (1, 2):
        rt.add_node(2, resources={f"n{i}": 100})
    refs = [work.options(resources={f"n{rng.randrange(3)}": 1}).remote(
        i, rng.choice([0, 0, 0.01, 0.2, 1.0]), rng.choice([0, 0, 8, 200_000])) for i in range(90)]
    if rng.random() < 0.7:
        sim.at(rng.uniform(0.1, 1.5), sim.kill_node, "node-2")
    extra = [work.remote(1000 + i, 0.3, 0) for i in range(5)]
    trace, pending = [], refs
    while pending:
        n = rng.randint(1, min(4, len(pending)))
        try:
            ready, pending = ray.wait(pending, num_returns=n, timeout=rng.choice([None, 0, 0.05, 0.4]),
                                      fetch_local=rng.random() < 0.6)
        except ValueError as e:  # a duplicate the edits below put in
            trace.append(("error", str(e)))
            pending = list(dict.fromkeys(pending))
            continue
        trace.append(([r.hex() for r in ready], [r.hex() for r in pending], round(sim.now(), 9)))
        edit = rng.random()
        if edit < 0.05:
            pending.reverse()  # in place
        elif edit < 0.10 and len(pending) > 1:
            pending[rng.randrange(len(pending))] = pending[0]  # in place: now a duplicate
        elif edit < 0.15 and extra:
            pending.append(extra.pop())  # in place: one more to wait for
        elif edit < 0.20 and pending:
            pending = pending[1:]  # a new list, one fewer
    values = []
    for r in refs:
        try:
            v = ray.get(r)
            values.append(int(v[0]) if isinstance(v, np.ndarray) else v)
        except ray.exceptions.RayError as e:
            values.append(type(e).__name__)
    out = json.dumps({"trace": trace, "values": values, "timeline": ray.timeline()}, sort_keys=True)
    ray.shutdown()
    return out


@pytest.mark.parametrize("seed", range(40))
def test_remembered_list_answers_as_the_long_way(seed, monkeypatch):
    fast = scenario(seed)
    monkeypatch.setattr(blocking, "MIN_LENGTH", 10**9)  # never remember: every call checks from scratch
    assert scenario(seed) == fast


def test_loop_checks_the_list_once(sim_ray, monkeypatch):
    rt = runtime()
    calls = []
    long_way = rt.wait_for
    monkeypatch.setattr(rt, "wait_for", lambda *a, **k: calls.append(len(a[0])) or long_way(*a, **k))

    @ray.remote
    def f(i):
        time.sleep(i % 7 * 0.01)
        return i

    refs = [f.remote(i) for i in range(500)]
    pending, order = refs, []
    while pending:
        ready, pending = ray.wait(pending)
        order.append(ray.get(ready[0]))
    assert sorted(order) == list(range(500))
    assert order[:2] == [0, 7]  # the first 8 start at once; these two do not sleep
    assert calls == [500]  # only the first call took the long way


def test_edited_in_place_the_list_is_checked_again(sim_ray):
    @ray.remote
    def f(i):
        return i

    refs = [f.remote(i) for i in range(100)]
    _, pending = ray.wait(refs)
    pending[5] = pending[6]
    with pytest.raises(ValueError, match="unique"):
        ray.wait(pending)
    pending[5] = refs[0]  # the one taken before: it is ready, first in the list
    ready, rest = ray.wait(pending)
    assert ready == [refs[0]] and len(rest) == 98 and refs[0] not in rest


def losing(num_returns: int, fetch_local: bool) -> str:
    """Objects done and counted as ready in the remembered list, then lost with their node."""
    ray.shutdown()
    ray.init(num_cpus=2, seed=1)
    rt = runtime()
    for _ in (1, 2):
        rt.add_node(2)
    refs = [work.options(scheduling_strategy="SPREAD").remote(i, 0.01, 200_000) for i in range(60)]
    ray.wait(refs, num_returns=60, timeout=5, fetch_local=False)  # all made, none fetched
    ready, pending = ray.wait(refs, fetch_local=False)
    trace = [[r.hex() for r in ready]]
    sim.kill_node("node-2")
    while pending:
        ready, pending = ray.wait(pending, num_returns=min(num_returns, len(pending)),
                                  fetch_local=fetch_local)
        trace.append(([r.hex() for r in ready], round(sim.now(), 9)))
    out = json.dumps({"trace": trace, "timeline": ray.timeline()}, sort_keys=True)
    ray.shutdown()
    return out


@pytest.mark.parametrize("num_returns", [1, 3])
@pytest.mark.parametrize("fetch_local", [False, True])
def test_objects_lost_after_they_were_seen_ready(num_returns, fetch_local, monkeypatch):
    fast = losing(num_returns, fetch_local)
    assert '"status": "ok"' in fast and fast.count("attempt_number\": 1") > 0  # rebuilt
    monkeypatch.setattr(blocking, "MIN_LENGTH", 10**9)
    assert losing(num_returns, fetch_local) == fast


def big_elsewhere(fast_way: bool, monkeypatch) -> tuple:
    if not fast_way:
        monkeypatch.setattr(blocking, "MIN_LENGTH", 10**9)
    ray.shutdown()
    ray.init(num_cpus=2)
    runtime().add_node(2, resources={"n1": 1})
    a = work.remote(0, 0.2, 0)
    r = work.options(resources={"n1": 0.01}).remote(1, 0.1, 5_000_000)  # ready on node-1 only
    refs = [a, r] + [work.remote(i, 5 + i, 0) for i in range(40)]
    ray.get(a)
    _, rest = ray.wait(refs)
    ready, rest = ray.wait(rest, num_returns=2, timeout=5.1)  # r must be fetched first
    out = (r in ready, len(ready), round(sim.now(), 6))
    ray.shutdown()
    return out


def test_a_big_object_on_another_node_is_fetched_as_the_long_way_does(monkeypatch):
    fast = big_elsewhere(True, monkeypatch)
    assert fast == big_elsewhere(False, monkeypatch)
    assert fast[:2] == (True, 2)


def test_a_remembered_list_notes_only_its_own_objects(sim_ray):
    """While the driver does other work, the list it last waited on takes in none of the other
    results: what it holds stays bounded by its own length, and it still answers."""
    refs = [work.remote(i, 0, 0) for i in range(100)]
    _, rest = ray.wait(refs)
    remembered = runtime().wait_list
    assert remembered is not None
    for i in range(10_050):
        ray.get(work.remote(i, 0, 0))
    assert len(remembered.changed) <= len(rest)
    ready, rest = ray.wait(rest, num_returns=len(rest))
    assert len(ready) == 99 and rest == []


def test_a_wait_loop_lets_go_of_what_it_picked(sim_ray):
    """The memory holds only the refs still pending: a result the caller took and dropped is freed
    (a loop over 400 results of 2 MB each once kept them all, 790 MB)."""
    size = 200_000
    tracemalloc.start()
    try:
        pending = [work.remote(i, 0.01 * (i % 7), size) for i in range(100)]
        taken = 0
        while taken < 60:
            ready, pending = ray.wait(pending, num_returns=3)
            taken += len(ray.get(ready))
            del ready
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert runtime().wait_list is not None  # (the remembered list answered)
    assert held < (len(pending) + 5) * size  # the 40 pending, not the 60 taken too
