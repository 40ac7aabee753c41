"""Properties over random configurations: cp is linearizable and loses nothing, whatever the cluster."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsai.cap import NEMESES, run


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(nodes=st.integers(1, 7), clients=st.integers(1, 6), keys=st.integers(1, 3),
       nemesis=st.sampled_from(NEMESES), seed=st.integers(0, 10**6),
       workload=st.sampled_from(["cas-register", "kv"]))
def test_cp_is_linearizable_for_any_cluster(nodes, clients, keys, nemesis, seed, workload):
    r = run(mode="cp", nodes=nodes, clients=clients, keys=keys, nemesis=nemesis, seed=seed, ops=40,
            workload=workload)
    assert r.valid is True, r.verdict.explanation
    assert r.metrics["stale_reads"] == 0 and r.metrics["lost_writes"] == 0
    assert r.metrics["converged"]
    assert r.metrics["ops"] == 40


@settings(max_examples=15, deadline=None)
@given(nodes=st.integers(2, 7), nemesis=st.sampled_from(["partition", "isolate", "bridge", "ring"]),
       seed=st.integers(0, 10**6))
def test_vv_is_available_and_loses_nothing(nodes, nemesis, seed):
    r = run(mode="ap-vv", nodes=nodes, nemesis=nemesis, seed=seed, ops=40)
    assert r.metrics["availability"] == 1.0
    assert r.metrics["lost_writes"] == 0 and r.metrics["converged"]
