"""Properties: histories produced by a correct object are linearizable; a lie in a sequential one is caught."""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st

from dsai.check import ILLEGAL, Event, History, HistoryWriter, check, get_model, parse_history

VALUES = st.integers(min_value=0, max_value=3)


@st.composite
def register_runs(draw):
    """A sequential run of a correct register: (f, invoke value, outcome, read result) per op."""
    state, ops = None, []
    for _ in range(draw(st.integers(min_value=1, max_value=12))):
        f = draw(st.sampled_from(["read", "write", "cas"]))
        if f == "read":
            ops.append(("read", None, "ok", state))
        elif f == "write":
            state = draw(VALUES)
            ops.append(("write", state, "ok", None))
        else:
            frm, to = draw(VALUES), draw(VALUES)
            ops.append(("cas", (frm, to), "ok" if state == frm else "fail", None))
            state = to if state == frm else state
    return ops


@st.composite
def kv_runs(draw):
    state, ops = {"a": "", "b": ""}, []
    for _ in range(draw(st.integers(min_value=1, max_value=12))):
        key, f = draw(st.sampled_from(["a", "b"])), draw(st.sampled_from(["get", "put", "append"]))
        if f == "get":
            ops.append(("get", None, "ok", state[key], key))
        else:
            v = draw(st.sampled_from(["x", "y", "z"]))
            state[key] = v if f == "put" else state[key] + v
            ops.append((f, v, "ok", None, key))
    return ops


def concurrent(draw, run, keyed: bool = False) -> History:
    """Wrap each op's instant (10*i + 5) in a random [invoke, completion] interval; some ops
    lose their reply (info) or never return at all, and never-applied info writes are added."""
    timed = []
    for i, op in enumerate(run):
        f, value, outcome, result = op[:4]
        key = op[4] if keyed else None
        point = 10 * i + 5
        start, end = point - draw(st.integers(1, 30)), point + draw(st.integers(1, 30))
        lost = f not in ("read", "get") and draw(st.integers(0, 5)) == 0
        timed.append((start, 0, Event(i, "invoke", f, key, value)))
        if not lost:
            timed.append((end, 1, Event(i, outcome, f, key, result if f in ("read", "get") else value)))
        elif draw(st.booleans()):
            timed.append((end, 1, Event(i, "info", f, key)))
    if draw(st.booleans()):  # a write that never took effect, reply lost
        f, v = ("append", "q") if keyed else ("write", 99)
        timed.append((draw(st.integers(0, 10 * len(run))), 0, Event(1000, "invoke", f, "a" if keyed else None, v)))
    timed.sort(key=lambda t: (t[0], t[1]))
    return History([e for _, _, e in timed])


@settings(max_examples=150, deadline=None)
@given(st.data(), register_runs())
def test_register_histories_from_a_correct_register_are_linearizable(data, run):
    history = concurrent(data.draw, run)
    result = check(history, "cas-register", timeout=20)
    assert result.valid is True, result.explanation


@settings(max_examples=100, deadline=None)
@given(st.data(), kv_runs())
def test_kv_histories_from_a_correct_map_are_linearizable(data, run):
    history = concurrent(data.draw, run, keyed=True)
    result = check(history, "kv", timeout=20)
    assert result.valid is True, result.explanation


@settings(max_examples=150, deadline=None)
@given(register_runs(), st.data())
def test_a_wrong_read_in_a_sequential_history_is_caught_and_named(run, data):
    reads = [i for i, op in enumerate(run) if op[0] == "read"]
    events = []
    for i, (f, value, outcome, result) in enumerate(run):
        events.append(Event(0, "invoke", f, None, value))
        events.append(Event(0, outcome, f, None, result if f == "read" else value))
    assert check(History(events), "cas-register").valid is True
    if not reads:
        return
    victim = data.draw(st.sampled_from(reads))
    lie = data.draw(VALUES.filter(lambda v: v != run[victim][3]))
    events[2 * victim + 1] = Event(0, "ok", "read", None, lie)
    result = check(History(events), "cas-register")
    assert result.valid is False
    culprit = result.keys[0].culprit
    assert culprit.index == victim and culprit.output == lie  # no concurrency: blame is exact


@settings(max_examples=60, deadline=None)
@given(st.data(), register_runs())
def test_writer_and_reader_round_trip(data, run):
    history = concurrent(data.draw, run)
    first, second = io.StringIO(), io.StringIO()
    with HistoryWriter(first) as w:
        for e in history:
            w.add(e)
    with HistoryWriter(second) as w:
        for e in parse_history(first.getvalue().splitlines()):
            w.add(e)
    assert first.getvalue() == second.getvalue()
    assert parse_history(first.getvalue().splitlines()).events == history.events


# -- an independent oracle: brute force over every order, for tiny histories ----------------
def brute_force(history: History, model_name: str) -> bool:
    """Try every subset of info ops and every real-time-respecting order of the rest."""
    from itertools import combinations, permutations

    model = get_model(model_name)
    pos = {id(e): i for i, e in enumerate(history.events)}
    ops = [op for op in history.operations() if model.constrains(op)]
    end = lambda op: pos[id(op.complete)] if op.outcome != "info" else len(pos)  # noqa: E731
    must = [op for op in ops if op.outcome != "info"]
    maybe = [op for op in ops if op.outcome == "info"]
    for r in range(len(maybe) + 1):
        for chosen in combinations(maybe, r):
            for order in permutations(must + list(chosen)):
                if all(end(a) > pos[id(b.invoke)] for i, a in enumerate(order) for b in order[:i]) \
                        and model.run(list(order)) is not ILLEGAL:
                    return True
    return False


@st.composite
def random_histories(draw, model_name: str):
    """Up to 6 ops with arbitrary (often wrong) results, random overlaps and outcomes."""
    timed = []
    for i in range(draw(st.integers(1, 6))):
        start = draw(st.integers(0, 40))
        end = start + draw(st.integers(1, 20))
        if model_name == "cas-register":
            f = draw(st.sampled_from(["read", "write", "cas"]))
            value = None if f == "read" else (draw(VALUES), draw(VALUES)) if f == "cas" else draw(VALUES)
        else:
            f = draw(st.sampled_from(["get", "put", "append"]))
            value = None if f == "get" else draw(st.sampled_from(["a", "b"]))
        outcome = draw(st.sampled_from(["ok", "ok", "fail", "info", "none"]))
        if f in ("read", "get") and outcome == "ok":
            result = draw(st.sampled_from(["", "a", "b", "ab", "ba"])) if f == "get" else draw(st.none() | VALUES)
        else:
            result = value if outcome != "info" else None
        key = "k" if model_name == "kv" else None
        timed.append((start, 0, Event(i, "invoke", f, key, value)))
        if outcome != "none":
            timed.append((end, 1, Event(i, outcome, f, key, result)))
    timed.sort(key=lambda t: (t[0], t[1]))
    return History([e for _, _, e in timed])


@settings(max_examples=400, deadline=None)
@given(random_histories("cas-register"))
def test_register_verdicts_match_brute_force(history):
    assert check(history, "cas-register").valid is brute_force(history, "cas-register")


@settings(max_examples=300, deadline=None)
@given(random_histories("kv"))
def test_kv_verdicts_match_brute_force(history):
    assert check(history, "kv").valid is brute_force(history, "kv")
