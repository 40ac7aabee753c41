"""cp: linearizable under every nemesis, never a stale ok; its broken twin is caught by the checker."""

from __future__ import annotations

import pytest

from tests.cap.conftest import cached_run

CP_SEEDS = range(50)


@pytest.mark.parametrize("seed", CP_SEEDS)
def test_cp_is_linearizable_under_random_partitions(seed):
    r = cached_run("cp", "partition", seed)
    assert r.valid is True, r.verdict.explanation
    assert r.metrics["stale_reads"] == 0
    assert r.metrics["lost_writes"] == 0
    assert r.spans, "the nemesis injected no partition: the test would prove nothing"


def test_cp_refuses_on_the_minority_side():
    runs = [cached_run("cp", "partition", s) for s in CP_SEEDS]
    minority = [op for r in runs for op in r.ops if op.side == "minority"]
    majority = [op for r in runs for op in r.ops if op.side == "majority"]
    assert len(minority) > 50 and len(majority) > 50
    # ok reads on the minority side only happen if the partition healed while the read ran
    ok_minority = [op for op in minority if op.outcome == "ok"]
    assert len(ok_minority) / len(minority) < 0.2
    for op in ok_minority:
        assert op.f != "read" or op.complete is not None
    avail = lambda ops: sum(op.answered for op in ops) / len(ops)  # noqa: E731
    assert avail(majority) > avail(minority) + 0.4
    # a definite 'fail' is only ever a read (no effect), a cas that saw another value,
    # or a request refused by a node that was down (nothing was sent)
    for nemesis in ("partition", "crash"):
        for r in [cached_run("cp", nemesis, s) for s in range(10)]:
            for op in r.ops:
                if op.outcome == "fail":
                    assert (op.f == "read" or op.error == "node down"
                            or (op.f == "cas" and op.error.startswith("cas:"))), op
                    assert op.f != "cas" or op.error.startswith("cas:"), op


@pytest.mark.parametrize("nemesis", ["isolate", "bridge", "ring", "loss", "crash", "skew", "mix"])
def test_cp_is_linearizable_under_every_nemesis(nemesis):
    for seed in range(4):
        r = cached_run("cp", nemesis, seed)
        assert r.valid is True, (nemesis, seed, r.verdict.explanation)
        assert r.metrics["stale_reads"] == 0 and r.metrics["lost_writes"] == 0
        assert r.metrics["converged"]


def test_cp_timeouts_are_info_and_retire_the_process():
    r = cached_run("cp", "partition", 3)
    infos = [op for op in r.ops if op.outcome == "info"]
    assert infos and all(op.f != "read" for op in infos)
    later = {op.process for op in r.ops if op.invoke > min(i.complete for i in infos)}
    for op in infos:  # Jepsen: a process never invokes again after an info
        assert not any(o.process == op.process and o.invoke > op.invoke for o in r.ops)
    assert later


def test_cp_local_reads_is_caught_within_a_few_seeds():
    """The etcd lesson: reads served from the local copy are stale on the minority side."""
    verdicts = [cached_run("cp-local-reads", "partition", s).valid for s in range(10)]
    assert False in verdicts[:6], verdicts
    stale = sum(cached_run("cp-local-reads", "partition", s).metrics["stale_reads"] for s in range(10))
    assert stale > 0
    # the same seeds under the correct mode are all linearizable
    assert all(cached_run("cp", "partition", s).valid is True for s in range(10))


def test_cp_kv_workload_is_linearizable():
    for seed in range(3):
        r = cached_run("cp", "partition", seed, workload="kv")
        assert r.valid is True, r.verdict.explanation
        assert {"get", "put", "append"} <= set(r.metrics["counts"])
