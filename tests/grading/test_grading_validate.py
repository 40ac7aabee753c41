"""Validation: masters pass their tests, releases fail them, metadata follows nbgrader."""

from __future__ import annotations

from _minilesson import master, write_master
from dsai.grading import cells as C
from dsai.grading import validate


def by_id(nb, gid):
    return next(c for c in nb.cells if C.grade_id(c) == gid)


def test_good_master_passes_and_bad_masters_are_caught(tmp_path, capsys):
    source = tmp_path / "source"
    write_master(source)  # "mini": correct
    lax = master()  # a test that gives points to an empty answer, and a wrong solution
    by_id(lax, "evens-test").source = "assert True"
    by_id(lax, "square").source = "def square(x):\n    # BEGIN SOLUTION\n    return x + x\n" \
                                  "    # END SOLUTION"
    write_master(source, lax, "lax")
    code = validate.main(["--source", str(source), "--timeout", "20"])
    out = capsys.readouterr().out
    assert code == 1
    assert "mini: ok" in out
    assert "lax: 2 problem(s)" in out
    assert "master fails its own test 'square-test'" in out
    assert "test 'evens-test' gives 3 points to the unanswered release" in out


def test_metadata_rules_follow_nbgrader_schema_3():
    nb = master()
    by_id(nb, "evens").metadata.nbgrader["grade_id"] = "square"
    by_id(nb, "parts-test").metadata.nbgrader.pop("points")
    by_id(nb, "setup").metadata.nbgrader["hint"] = "x"
    by_id(nb, "why-q").metadata.nbgrader["schema_version"] = 2
    problems = "\n".join(validate.metadata_problems(nb, "mini"))
    assert "grade_id 'square' is already used by cell 3" in problems
    assert "'parts-test'" in problems and "needs 'points'" in problems
    assert "unknown keys ['hint']" in problems
    assert "'schema_version' must be 3" in problems
    assert validate.metadata_problems(master(), "mini") == []
