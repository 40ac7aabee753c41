"""Metrics measured from hand-made operations: stale reads, lost writes, quantiles, availability."""

from __future__ import annotations

from dsai.cap import CapConfig, Cluster, OpRecord
from dsai.cap.metrics import lost_writes, quantile, stale_reads
from dsai.cap.versions import Cell


def _op(i, f, wid, t0, t1, outcome="ok", observed=(), observed_wid=None, key="k0"):
    op = OpRecord(i, 0, 0, 0, f, key, None, wid, t0, "connected", complete=t1, outcome=outcome)
    op.observed, op.observed_wid = frozenset(observed), observed_wid
    return op


def test_stale_read_definition():
    w1 = _op(0, "write", 1, 0.0, 1.0)
    w2 = _op(1, "write", 2, 2.0, 3.0)
    fresh = _op(2, "read", None, 4.0, 5.0, observed={1, 2}, observed_wid=2)
    stale = _op(3, "read", None, 4.0, 5.0, observed={1}, observed_wid=1)  # w1 was overwritten by w2
    concurrent = _op(4, "read", None, 2.5, 2.6, observed={1}, observed_wid=1)  # w2 still running
    assert stale_reads([w1, w2, fresh]) == 0
    assert stale_reads([w1, w2, stale]) == 1
    assert stale_reads([w1, w2, concurrent]) == 0
    # a value from a write concurrent with w2 may be ordered after it: not stale
    w3 = _op(5, "write", 3, 2.1, 3.5)
    after = _op(6, "read", None, 4.0, 5.0, observed={1, 3}, observed_wid=3)
    assert stale_reads([w1, w2, w3, after]) == 0


def test_lost_write_definition():
    c = Cluster(CapConfig(mode="ap-lww", nodes=3))
    w1 = _op(0, "write", 1, 0.0, 1.0)
    w2 = _op(1, "write", 2, 2.0, 3.0)  # later, but beaten by w1 (w1's clock ran ahead)
    c.ops[:] = [w1, w2]
    for r in c.replicas:
        r.store["k0"] = Cell((9.0, 0, 1), "a", 1, frozenset({1}))
    assert lost_writes(c) == 1
    for r in c.replicas:  # w2 survives: nothing lost
        r.store["k0"] = Cell((9.0, 0, 2), "b", 2, frozenset({1, 2}))
    assert lost_writes(c) == 0
    w3 = _op(2, "write", 3, 2.5, 3.5)  # concurrent with w2: w3 winning is a legal order
    c.ops[:] = [w1, w2, w3]
    for r in c.replicas:
        r.store["k0"] = Cell((9.0, 0, 3), "c", 3, frozenset({1, 3}))
    assert lost_writes(c) == 0


def test_quantile_is_nearest_rank():
    xs = [5, 1, 4, 2, 3]
    assert quantile(xs, 0.5) == 3 and quantile(xs, 1.0) == 5 and quantile(xs, 0.0) == 1
    assert quantile(list(range(1, 101)), 0.99) == 99
    assert quantile([], 0.5) is None


def test_msgs_per_op_ranks_the_modes():
    from tests.cap.conftest import cached_run

    per_op = {m: cached_run(m, "none", 0).metrics["msgs_per_op_no_gossip"] for m in ("cp", "ap-lww", "dynamo")}
    n = 5
    assert per_op["ap-lww"] <= n - 1  # one push to each peer per write, nothing per read
    assert per_op["cp"] > per_op["ap-lww"] and per_op["dynamo"] > per_op["ap-lww"]
    assert cached_run("cp", "partition", 0).metrics["converge_time"] is not None
