"""Schedules as data: on paper (equal steps, no network) each one's bubble and stored activations are its formula."""

import pytest

from dsai.errors import ParallelConfigError
from dsai.parallel import schedule as S

LAYOUTS = [("naive", 4, 1, 1), ("naive", 2, 4, 1), ("gpipe", 4, 8, 1), ("gpipe", 2, 4, 1),
           ("1f1b", 4, 8, 1), ("1f1b", 4, 2, 1), ("interleaved", 4, 8, 2), ("interleaved", 2, 4, 4)]


def _peaks(steps, p):
    out = []
    for d in range(p):
        cur = peak = 0
        for s in sorted((s for s in steps if s.device == d), key=lambda s: s.start):
            cur += 1 if s.op.kind == "F" else -1
            peak = max(peak, cur)
        out.append(peak)
    return out


@pytest.mark.parametrize("name,p,m,v", LAYOUTS)
def test_paper_bubble_and_peaks_are_the_formulas(name, p, m, v):
    ops = S.schedule(name, p, m, v)
    assert all(sorted(o) == sorted({S.Op(k, i, c) for k in "FB" for i in range(m) for c in range(v)})
               for o in ops)  # every device runs each step exactly once
    steps = S.simulate(ops, 1.0, 2.0, chunks=v)
    assert S.bubble_of(steps, p) == pytest.approx(S.theory_bubble(name, p, m, v), abs=1e-12)
    assert _peaks(steps, p) == S.theory_peak_activations(name, p, m, v)


def test_formulas_in_both_normalisations():
    assert S.theory_bubble("gpipe", 4, 8) == pytest.approx(3 / 11)
    assert S.megatron_bubble("gpipe", 4, 8) == pytest.approx(3 / 8)
    assert S.megatron_bubble("interleaved", 4, 8, 2) == pytest.approx(3 / 16)
    assert S.theory_bubble("naive", 4, 8) == pytest.approx(3 / 4)
    assert S.theory_peak_activations("1f1b", 4, 8) == [4, 3, 2, 1]


def test_one_f_one_b_order_on_a_device():
    assert [repr(o) for o in S.schedule("1f1b", 4, 6)[1]] == \
        ["F0", "F1", "F2", "B0", "F3", "B1", "F4", "B2", "F5", "B3", "B4", "B5"]


def test_an_impossible_order_is_a_deadlock_error():
    ops = S.schedule("gpipe", 2, 2)
    ops[1] = [S.Op("B", 0), S.Op("F", 0), S.Op("F", 1), S.Op("B", 1)]  # backward before its forward
    with pytest.raises(ParallelConfigError, match="deadlocks"):
        S.simulate(ops)


@pytest.mark.parametrize("args,match", [
    (("zigzag", 2, 2), "unknown schedule"),
    (("gpipe", 2, 0), "microbatches must be"),
    (("gpipe", 0, 2), "stages must be"),
    (("gpipe", 2, 2, 2), "interleaved"),
    (("interleaved", 2, 4, 1), "chunks >= 2"),
    (("interleaved", 4, 6, 2), "multiple of 4"),
])
def test_bad_layouts_name_the_value_and_the_fix(args, match):
    with pytest.raises(ParallelConfigError, match=match):
        S.schedule(*args)


def test_a_hand_written_order_is_checked():
    order = [[("F", 0), ("B", 0), ("F", 1), ("B", 1)]] * 2
    assert S.check_order(order, 2, 2) == [[S.Op("F", 0), S.Op("B", 0), S.Op("F", 1), S.Op("B", 1)]] * 2
    with pytest.raises(ParallelConfigError, match="missing \\[B1\\]"):
        S.check_order([[("F", 0), ("B", 0), ("F", 1)]] * 2, 2, 2)
    with pytest.raises(ParallelConfigError, match="3 devices"):
        S.check_order(order + order[:1], 2, 2)
