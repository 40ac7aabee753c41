"""Generator tasks on the simulator: values appear at the virtual time they are yielded, cross the network, survive retries once."""

from __future__ import annotations

import time

import numpy as np
import pytest

import dsai.mockray as ray
import dsai.sim as sim
from dsai.mockray.cluster_utils import Cluster
from dsai.mockray.util.scheduling_strategies import NodeAffinitySchedulingStrategy


@pytest.fixture
def rt():
    ray.shutdown()
    ray.init(num_cpus=2)
    yield ray
    ray.shutdown()


def test_each_value_appears_when_it_is_yielded(rt):
    @ray.remote
    def ticks(n):
        for i in range(n):
            time.sleep(1.0)
            yield i

    seen = [(ray.get(ref), sim.now()) for ref in ticks.remote(3)]
    assert seen == [(0, 1.0), (1, 2.0), (2, 3.0)]


def test_the_reader_works_while_the_generator_runs(rt):
    @ray.remote
    def produce(n):
        for i in range(n):
            time.sleep(1.0)
            yield i

    @ray.remote
    def consume(x):
        time.sleep(0.5)
        return x * 10

    outs = [consume.remote(ref) for ref in produce.remote(3)]
    assert ray.get(outs) == [0, 10, 20]
    assert sim.now() == pytest.approx(3.5)  # the last value at 3 s, its consumer 0.5 s later


def test_a_retried_generator_streams_each_value_once(rt, tmp_path):
    marker = tmp_path / "failed-once"

    @ray.remote(max_retries=1, retry_exceptions=True)
    def flaky(n):
        for i in range(n):
            if i == 2 and not marker.exists():
                marker.touch()
                raise RuntimeError("the first attempt fails at 2")
            yield i

    assert [ray.get(r) for r in flaky.remote(4)] == [0, 1, 2, 3]
    assert marker.exists()


def test_large_values_stay_where_they_were_yielded_until_read():
    ray.shutdown()
    c = Cluster()
    c.add_node(num_cpus=1)
    worker = c.add_node(num_cpus=1)
    c.connect()
    try:
        @ray.remote
        def arrays(n):
            for i in range(n):
                yield np.full(50_000, float(i))  # 400 KB each: lives in the worker's store

        gen = arrays.options(scheduling_strategy=NodeAffinitySchedulingStrategy(worker.node_id, False)).remote(2)
        before = sim.network_stats()["head"]["bytes_received"]
        values = [ray.get(r) for r in gen]
        assert [float(v[0]) for v in values] == [0.0, 1.0]
        got = sim.network_stats()["head"]["bytes_received"] - before
        assert got >= 2 * 400_000  # both arrays crossed to the driver's node when read
    finally:
        ray.shutdown()
        c.shutdown()


def test_a_generator_run_is_deterministic(rt):
    def run():
        @ray.remote
        def g(n):
            for i in range(n):
                time.sleep(0.1 * (i + 1))
                yield i

        out = []
        gens = [g.remote(3) for _ in range(3)]
        while gens:
            ready, gens = ray.wait(gens, timeout=10)
            for gen in ready:
                try:
                    out.append((ray.get(next(gen)), round(sim.now(), 6)))
                    gens.append(gen)
                except StopIteration:
                    pass
        return out, [(e["name"], e["ts"], e["dur"]) for e in ray.timeline()]

    first = run()
    ray.shutdown()
    ray.init(num_cpus=2)
    assert run() == first
