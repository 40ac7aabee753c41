"""cp's read rule is a plain function: the default reproduces the store byte for byte, wrong rules are caught."""

from __future__ import annotations

import pytest

from dsai.cap import Cell, CapConfigError, majority_read, run, run_script, trials


def newest(replies):
    return max(replies, key=lambda c: c.version)


# Wrong rules a student might write, each with what gives it away under the lesson's hidden runs.
def local_copy(replies, nodes):
    return replies[0]


def newest_so_far(replies, nodes):
    return newest(replies)


def last_of_majority(replies, nodes):
    return replies[-1] if len(replies) >= nodes // 2 + 1 else None


def first_of_majority(replies, nodes):
    return replies[0] if len(replies) >= nodes // 2 + 1 else None


def two_replies(replies, nodes):  # right for 3 nodes only
    return newest(replies) if len(replies) >= 2 else None


def half(replies, nodes):
    return newest(replies) if len(replies) >= nodes // 2 else None


def all_replies(replies, nodes):
    return newest(replies) if len(replies) == nodes else None


def all_but_one(replies, nodes):
    return newest(replies) if len(replies) >= nodes - 1 else None


# the runs lesson 05's hidden test makes (exercise 2)
HIDDEN = dict(seeds=[101, 202], nodes=(3, 7), nemeses=("partition", "isolate", "bridge"))


def test_majority_read_waits_for_a_majority_then_takes_the_newest():
    replies = [Cell(3, "b"), Cell(4, "c"), Cell(1, "a")]
    assert majority_read(replies[:2], 5) is None
    assert majority_read(replies, 5) is replies[1]
    assert majority_read(replies[:2], 3) is replies[1]


@pytest.mark.parametrize("seed", range(3))
def test_the_default_rule_reproduces_the_store_byte_for_byte(seed):
    a = run(mode="cp", nemesis="partition", seed=seed, ops=60)
    b = run(mode="cp", nemesis="partition", seed=seed, ops=60, read_rule=majority_read)
    assert a.history == b.history and a.metrics == b.metrics


def test_the_hidden_runs_accept_the_right_rule():
    t = trials(read_rule=majority_read, **HIDDEN)
    assert t.runs == 12 and not t.not_linearizable and t.stale_reads == 0
    assert t.majority_availability >= 0.80


@pytest.mark.parametrize("rule", [local_copy, newest_so_far, last_of_majority, first_of_majority, two_replies, half])
def test_the_hidden_runs_catch_a_rule_that_reads_stale(rule):
    t = trials(read_rule=rule, **HIDDEN)
    assert t.not_linearizable, f"{rule.__name__} passed the checker on every hidden run"
    assert t.first_violation.startswith("nodes=") and "not linearizable" in t.first_violation


@pytest.mark.parametrize("rule", [all_replies, all_but_one])
def test_the_hidden_runs_catch_a_rule_that_waits_too_long(rule):
    t = trials(read_rule=rule, **HIDDEN)
    assert not t.not_linearizable  # safe...
    assert t.majority_availability < 0.80  # ...but the majority side stops answering


def test_a_rule_must_answer_with_one_of_the_replies():
    def value_not_cell(replies, nodes):
        return newest(replies).value if len(replies) >= 3 else None

    with pytest.raises(CapConfigError, match=r"read rule value_not_cell returned .* one of the \d+ replies"):
        run(mode="cp", seed=0, ops=20, read_rule=value_not_cell)


def test_a_read_rule_only_applies_to_cp():
    with pytest.raises(CapConfigError, match="only applies to mode 'cp'"):
        run(mode="ap-lww", seed=0, ops=5, read_rule=majority_read)
    with pytest.raises(CapConfigError, match="must be a function"):
        run(mode="cp", seed=0, ops=5, read_rule=3)


def test_trials_sum_what_the_runs_found():
    t = trials(seeds=[0, 1], nodes=(3, 5), nemeses=("partition",), mode="ap-lww", ops=60)
    runs = [run(mode="ap-lww", nodes=n, seed=s, nemesis="partition", ops=60) for n in (3, 5) for s in (0, 1)]
    assert t.runs == 4
    assert t.stale_reads == sum(r.metrics["stale_reads"] for r in runs)
    assert len(t.not_linearizable) == sum(r.valid is False for r in runs)
    assert t.availability == 1.0 and "4 runs" in repr(t)
