"""Hand-written histories with known verdicts, the explanations, timeouts and key interleaving."""

from __future__ import annotations

import time

import pytest

from dsai.check import CAS_REGISTER, ILLEGAL, KV, Event, History, check, get_model
from dsai.errors import HistoryError


def test_empty_history_is_linearizable():
    result = check(History([]), "cas-register")
    assert result.valid is True and result.ops == 0 and result.keys == []


def test_sequential_read_of_the_last_write_is_linearizable(hist):
    h = hist("0 invoke write 1", "0 ok write 1", "1 invoke read", "1 ok read 1")
    result = check(h, "cas-register")
    assert result.valid is True and bool(result)
    assert [op.f for op in result.keys[0].linearization] == ["write", "read"]


def test_initial_register_is_null(hist):
    assert check(hist("0 invoke read", "0 ok read null"), "cas-register").valid is True
    assert check(hist("0 invoke read", "0 ok read 0"), "cas-register").valid is False


def test_stale_read_is_not_linearizable_and_the_explanation_says_why(hist):
    h = hist("0 invoke write 1", "0 ok write 1", "0 invoke write 2", "0 ok write 2", "1 invoke read", "1 ok read 1")
    result = check(h, "cas-register")
    assert result.valid is False and not result
    assert result.explanation == (
        "not linearizable: read of the register returned 1 (process 1, lines 5-6), "
        "but in every linearization that reaches it the register holds 2")
    key = result.keys[0]
    assert key.culprit.f == "read" and key.states == [2]
    assert [op.value for op in key.longest_prefix] == [1, 2]


def test_concurrent_writes_may_take_effect_in_either_order(hist):
    both = ["0 invoke write 1", "1 invoke write 2", "0 ok write 1", "1 ok write 2", "2 invoke read"]
    assert check(hist(*both, "2 ok read 1"), "cas-register").valid is True
    assert check(hist(*both, "2 ok read 2"), "cas-register").valid is True
    assert check(hist(*both, "2 ok read null"), "cas-register").valid is False


def test_read_concurrent_with_a_write_sees_old_or_new_but_not_back_again(hist):
    start = ["0 invoke write 1", "0 ok write 1", "0 invoke write 2", "1 invoke read", "1 ok read 2", "2 invoke read"]
    assert check(hist(*start, "2 ok read 1", "0 ok write 2"), "cas-register").valid is False  # new then old
    assert check(hist(*start, "2 ok read 2", "0 ok write 2"), "cas-register").valid is True


def test_info_write_that_must_have_happened(hist):
    h = hist("0 invoke write 1", "0 ok write 1", "1 invoke write 2", "1 info write", "2 invoke read", "2 ok read 2")
    assert check(h, "cas-register").valid is True


def test_info_write_that_never_happened(hist):
    h = hist("0 invoke write 1", "0 ok write 1", "1 invoke write 2", "1 info write", "2 invoke read", "2 ok read 1")
    assert check(h, "cas-register").valid is True


def test_unanswered_invoke_is_like_info(hist):
    assert check(hist("1 invoke write 2", "2 invoke read", "2 ok read 2"), "cas-register").valid is True


def test_info_cannot_take_effect_before_its_invoke(hist):
    h = hist("2 invoke read", "2 ok read 2", "1 invoke write 2", "1 info write")
    result = check(h, "cas-register")
    assert result.valid is False
    assert "read of the register returned 2 (process 2, lines 1-2)" in result.explanation


def test_info_write_cannot_be_undone(hist):
    h = hist("0 invoke write 1", "0 ok write 1", "1 invoke write 2", "1 info write",
             "2 invoke read", "2 ok read 2", "2 invoke read", "2 ok read 1")
    assert check(h, "cas-register").valid is False


def test_failed_cas_means_the_register_did_not_hold_from(hist):
    base = ["0 invoke write 1", "0 ok write 1"]
    assert check(hist(*base, "1 invoke cas [1, 2]", "1 fail cas [1, 2]"), "cas-register").valid is False
    assert check(hist(*base, "1 invoke cas [3, 2]", "1 fail cas [3, 2]"), "cas-register").valid is True
    result = check(hist(*base, "1 invoke cas [1, 2]", "1 fail cas [1, 2]"), "cas-register")
    assert "cas of the register 1->2 failed" in result.explanation and "holds 1" in result.explanation


def test_failed_cas_has_no_effect_and_ok_cas_applies(hist):
    base = ["0 invoke write 1", "0 ok write 1", "1 invoke cas [3, 2]", "1 fail cas [3, 2]", "2 invoke read"]
    assert check(hist(*base, "2 ok read 2"), "cas-register").valid is False
    applied = ["0 invoke write 1", "0 ok write 1", "1 invoke cas [1, 2]", "1 ok cas [1, 2]", "2 invoke read"]
    assert check(hist(*applied, "2 ok read 2"), "cas-register").valid is True
    assert check(hist(*applied, "2 ok read 1"), "cas-register").valid is False
    wrong = ["0 invoke write 1", "0 ok write 1", "1 invoke cas [5, 2]", "1 ok cas [5, 2]"]
    assert "not 5" in check(hist(*wrong), "cas-register").explanation


def test_info_cas_applies_only_if_the_register_held_from(hist):
    base = ["0 invoke write 1", "0 ok write 1", "1 invoke cas [1, 2]", "1 info cas", "2 invoke read"]
    assert check(hist(*base, "2 ok read 2"), "cas-register").valid is True
    assert check(hist(*base, "2 ok read 1"), "cas-register").valid is True
    other = ["0 invoke write 1", "0 ok write 1", "1 invoke cas [7, 2]", "1 info cas", "2 invoke read", "2 ok read 2"]
    assert check(hist(*other), "cas-register").valid is False


def test_failed_writes_and_reads_are_dropped(hist):
    h = hist("0 invoke write 5", "0 fail write 5", "1 invoke read", "1 ok read 5")
    assert check(h, "cas-register").valid is False
    h = hist("0 invoke write 5", "0 ok write 5", "1 invoke read", "1 fail read", "1 invoke read", "1 ok read 5")
    assert check(h, "cas-register").valid is True


def test_booleans_are_not_numbers(hist):
    assert check(hist("0 invoke write true", "0 ok write true", "1 invoke read", "1 ok read 1"), "cas-register").valid is False
    assert check(hist("0 invoke write 1", "0 ok write 1", "1 invoke read", "1 ok read 1.0"), "cas-register").valid is True


def _kv(*rows: str) -> History:
    """Rows 'process type f value key'; value '-' is null, '~' the empty string."""
    def value(v: str):
        return {"-": None, "~": ""}.get(v, v)

    return History([Event(int(p), t, f, k, value(v)) for p, t, f, v, k in (r.split() for r in rows)])


def test_kv_appends_concatenate_and_keys_start_empty():
    both = ["0 invoke append a x", "1 invoke append b x", "0 ok append a x", "1 ok append b x"]
    result = check(_kv(*both, "2 invoke get - x", "2 ok get ba x", "2 invoke get - y", "2 ok get ~ y"), "kv")
    assert result.valid is True
    assert [k.key for k in result.keys] == ["x", "y"]  # order of first appearance
    assert check(_kv(*both, "2 invoke get - x", "2 ok get ab x"), "kv").valid is True
    assert check(_kv(*both, "2 invoke get - x", "2 ok get a x"), "kv").valid is False
    assert check(_kv("2 invoke get - y", "2 ok get ~ y", "0 invoke put z y", "0 ok put z y"), "kv").valid is True


def test_kv_violation_on_one_key_names_that_key():
    bad = _kv("0 invoke append a x", "0 ok append a x", "0 invoke append b x", "0 ok append b x",
              "3 invoke put z q", "3 ok put z q", "2 invoke get - x", "2 ok get ba x")
    result = check(bad, "kv")
    assert result.valid is False and result.keys[0].culprit.output == "ba"
    assert {k.key: k.valid for k in result.keys} in ({"x": False, "q": True}, {"x": False, "q": "unknown"})
    assert result.to_json()["invalid_keys"] == ["x"]
    assert "get of key 'x' returned 'ba' (process 2, lines 7-8)" in result.explanation
    assert "holds 'ab'" in result.explanation


def test_wrong_model_is_a_history_error(hist):
    with pytest.raises(HistoryError, match="'read' is not a kv operation"):
        check(hist("0 invoke read", "0 ok read 1"), "kv")
    with pytest.raises(HistoryError, match="unknown model"):
        check(hist("0 invoke read", "0 ok read 1"), "queue")


def _hard_history(n: int, key: str | None = None) -> list[Event]:
    """n concurrent writes, then a read of a value nobody wrote: refuting it visits ~2^n orders."""
    events = [Event(p, "invoke", "write", key, p) for p in range(n)]
    events += [Event(p, "ok", "write", key, p) for p in range(n)]
    return events + [Event(n, "invoke", "read", key), Event(n, "ok", "read", key, -1)]


def test_timeout_gives_unknown_not_a_guess():
    start = time.perf_counter()
    result = check(History(_hard_history(22)), "cas-register", timeout=0.2)
    assert result.valid == "unknown"
    assert time.perf_counter() - start < 5
    assert "timeout ran out" in result.explanation
    assert result.to_json()["valid"] == "unknown"


def test_a_fast_violation_is_found_while_another_key_is_slow():
    slow = _hard_history(22, key="slow")
    shift = 100  # distinct process ids for the second key
    fast = [Event(shift, "invoke", "read", "fast"), Event(shift, "ok", "read", "fast", 9)]
    result = check(History(slow + fast), "cas-register", timeout=30)
    assert result.valid is False
    by_key = {k.key: k for k in result.keys}
    assert by_key["fast"].valid is False and by_key["slow"].valid == "unknown"
    assert "not checked" in by_key["slow"].explanation
    assert result.elapsed < 10


def test_models_step_as_specified():
    (w, r, c_ok, c_fail, c_info), = [History([
        Event(0, "invoke", "write", None, 1), Event(0, "ok", "write", None, 1),
        Event(1, "invoke", "read"), Event(1, "ok", "read", None, 1),
        Event(2, "invoke", "cas", None, (1, 2)), Event(2, "ok", "cas", None, (1, 2)),
        Event(3, "invoke", "cas", None, (1, 2)), Event(3, "fail", "cas", None, (1, 2)),
        Event(4, "invoke", "cas", None, (1, 2)), Event(4, "info", "cas"),
    ]).operations()]
    m = get_model("cas-register")
    assert m is CAS_REGISTER and get_model(m) is m and "initial null" in repr(m)
    assert m.step(None, w) == 1 and m.step(1, r) == 1 and m.step(2, r) is ILLEGAL
    assert m.step(1, c_ok) == 2 and m.step(3, c_ok) is ILLEGAL
    assert m.step(3, c_fail) == 3 and m.step(1, c_fail) is ILLEGAL
    assert m.step(1, c_info) == 2 and m.step(3, c_info) == 3
    assert m.run([w, c_ok]) == 2 and m.run([w, c_fail]) is ILLEGAL
    assert [m.constrains(op) for op in (w, r, c_ok, c_fail, c_info)] == [True] * 5
    ops = History([Event(0, "invoke", "append", "k", "a"), Event(0, "ok", "append", "k", "a"),
                   Event(1, "invoke", "get", "k"), Event(1, "fail", "get", "k"),
                   Event(2, "invoke", "put", "k", "z"), Event(2, "info", "put", "k")]).operations()
    assert KV.init == "" and KV.step("x", ops[0]) == "xa" and KV.step("x", ops[2]) == "z"
    assert [KV.constrains(op) for op in ops] == [True, False, True]


def _timed_out_writes(k: int, n: int = 100) -> list[Event]:
    """A sequential writer/reader pair, k timed-out writes of unread values, then a bad read."""
    events, info_at = [], set(range(0, n, n // k))
    for i in range(n):
        if i in info_at:  # a client whose write timed out; it never speaks again
            events += [Event(100 + i, "invoke", "write", None, 1000 + i), Event(100 + i, "info", "write")]
        events += [Event(0, "invoke", "write", None, i), Event(0, "ok", "write", None, i),
                   Event(1, "invoke", "read"), Event(1, "ok", "read", None, i)]
    return events + [Event(1, "invoke", "read"), Event(1, "ok", "read", None, -1)]


def test_many_timed_out_writes_do_not_blow_up_the_search():
    # Without merging unread values and trying only one of each group of identical info
    # writes, refuting this history visits ~2^k orders; with it, the work grows polynomially.
    results = {k: check(History(_timed_out_writes(k)), "cas-register", timeout=60) for k in (5, 10, 20)}
    assert all(r.valid is False for r in results.values())
    steps = {k: r.keys[0].steps for k, r in results.items()}
    assert steps[20] < 2 ** 20 // 4
    assert steps[20] < 40 * steps[5]  # 4x the writes: far below the 2^15x of exhaustive subsets
    assert "read of the register returned -1" in results[20].explanation
    assert check(History(_timed_out_writes(20)[:-2]), "cas-register").valid is True


def test_when_every_op_fits_somewhere_the_longest_prefix_is_explained(hist):
    # Two cas 2->1 both succeed, but only one write of 2 precedes them: each cas fits alone.
    h = hist("1 invoke write 2", "4 invoke read", "2 invoke cas [2, 1]", "1 ok write 2", "0 invoke cas [2, 2]",
             "3 invoke cas [2, 1]", "4 ok read 1", "2 ok cas [2, 1]", "0 ok cas [2, 2]", "3 ok cas [2, 1]")
    result = check(h, "cas-register")
    assert result.valid is False
    assert result.explanation == (
        "not linearizable: no legal order covers all 5 operations; the longest linearizable prefix found has 4, "
        "and after it process 3 cas 2->1 (ok) (lines 6-10) cannot take effect (the register holds 1 there)")
    assert len(result.keys[0].longest_prefix) == 4 and result.keys[0].culprit.process == 3


def test_memory_budget_gives_unknown_and_a_valid_history_stays_within_it():
    result = check(History(_hard_history(22)), "cas-register", max_states=10_000)
    assert result.valid == "unknown" and "over the memory budget of 10000" in result.explanation
    assert result.keys[0].explored <= 10_000 + 4096
    easy = check(History(_timed_out_writes(20)[:-2]), "cas-register", max_states=10_000)
    assert easy.valid is True and 0 < easy.keys[0].explored <= 10_000
