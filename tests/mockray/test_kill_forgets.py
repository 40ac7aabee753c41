"""A worker killed while blocked in `ray.get` (dsai/sim/hard_kill.py): its wait is forgotten,
and what it waited for is not fetched to its node any more (a dead worker's pull ends with it)."""

import time

import numpy as np

import dsai.mockray as ray
import dsai.sim as sim
from dsai.mockray.runtime import runtime

ran: list[str] = []


@ray.remote
def big_later(s):
    time.sleep(s)
    return np.zeros(25_000)  # 200 KB: lives in its node's store, fetched by whoever gets it


@ray.remote
class Getter:
    def get(self, refs):
        try:
            return ray.get(refs[0]).nbytes
        finally:
            ran.append("finally")

    def ping(self):
        return "pong"


def test_a_killed_getter_is_forgotten_and_fetches_nothing(cluster):
    cluster(2)
    ran.clear()
    ref = big_later.options(resources={"n0": 1}).remote(1.0)
    g = Getter.options(resources={"n1": 1}).remote()
    assert ray.get(g.ping.remote()) == "pong"
    call = g.get.remote([ref])  # (nested: the call starts at once and blocks in get)
    ray.wait([call], timeout=0.5)
    rt = runtime()
    assert len(rt.blocked) == 1
    ray.kill(g)
    assert rt.blocked == {}
    assert ray.get(ref).nbytes == 200_000  # the driver's own get (the head node is node 0)
    time.sleep(1)
    received = sim.network_stats()["node-1"]["bytes_received"]
    assert received < 10_000, received  # specs and messages only: the 200 KB never went there
    assert ran == []
