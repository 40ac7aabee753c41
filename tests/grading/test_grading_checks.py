"""Inline checks: friendly, precise, and still an AssertionError for nbgrader's rule."""

from __future__ import annotations

import numpy as np
import pytest

from dsai.grading import CheckFailed, check
from dsai.grading.checks import compare


def message(got, expected, **kw):
    with pytest.raises(CheckFailed) as e:
        check(got, expected, **kw)
    return str(e.value)


def test_a_match_returns_true_and_a_failure_is_an_assertion_error():
    assert check([1, 2], [1, 2]) is True
    assert issubclass(CheckFailed, AssertionError)


def test_message_names_the_answer_the_difference_and_the_hint():
    text = message([0, 1, 2], [0, 1, 4], name="squares", hint="use x * x")
    assert text == "squares: item 2 differs: expected 4, got 2\nHint: use x * x"


@pytest.mark.parametrize("got, expected, words", [
    (3, 4, "expected 4, got 3"),
    ([1, 2], [1, 2, 3], "expected 3 items, got 2"),
    ((i for i in range(2)), [0, 1], "a generator: wrap it in list(...)"),
    ({"a": 1}, {"a": 1, "b": 2}, "missing keys ['b']"),
    ({"a": [1, 2]}, {"a": [1, 3]}, "['a'][1]: expected 3, got 2"),
    (np.array([1.0, 2.0]), np.array([1.0, 2.5]), "element (1,) differs"),
    (np.zeros(3), np.zeros(4), "expected shape (4,), got shape (3,)"),
    (1, True, "expected True, got 1"),
    ("abc", "abd", "expected 'abd', got 'abc'"),
])
def test_differences_are_described(got, expected, words):
    assert words in compare(got, expected)


def test_floats_compare_with_a_tolerance():
    assert compare(0.1 + 0.2, 0.3) is None
    assert compare(1.0, 1.1, rel_tol=0.2) is None
    assert compare(np.array([0.1 + 0.2]), np.array([0.3])) is None


class ObjectRef:  # stands in for ray's: the check looks at the type's name only
    pass


def test_object_refs_get_the_ray_get_hint():
    assert "call ray.get(ref)" in compare(ObjectRef(), 4)
    assert "list of ObjectRefs; call ray.get(refs)" in compare([ObjectRef(), ObjectRef()], [1, 4])


def test_notebook_display_is_the_message_not_a_traceback():
    try:
        check(2, 3, name="x")
    except CheckFailed as e:
        lines = e._render_traceback_()
    assert lines[0].endswith("x: expected 3, got 2") and "✗" in lines[0]
