"""Release: what students get is derived from the master, and hides what it must."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from nbformat.v4 import new_code_cell, new_output

from _minilesson import SECRET, master, write_master
from dsai.errors import GradingError
from dsai.grading import cells as C
from dsai.grading import release

REPO = Path(__file__).resolve().parents[2]


def by_id(nb, gid):
    return next(c for c in nb.cells if C.grade_id(c) == gid)


def test_solutions_become_a_stub_that_raises_with_the_hint():
    nb = release.release_notebook(master())
    assert by_id(nb, "square").source == (
        "def square(x):\n    # YOUR CODE HERE\n"
        "    raise NotImplementedError('multiply x by itself')")
    assert "range(0, n, 2)" not in by_id(nb, "evens").source
    assert by_id(nb, "evens").source.endswith("raise NotImplementedError("
                                              f"{release.DEFAULT_HINT!r})")
    assert by_id(nb, "why").source == release.TEXT_STUB  # manually graded markdown


def test_hidden_tests_are_removed_visible_ones_kept():
    nb = release.release_notebook(master())
    text = json.dumps(nb)
    assert SECRET not in text and "square(12)" not in text and "HIDDEN" not in text
    assert by_id(nb, "square-test").source.endswith("assert square(-2) == 4")


def test_tests_and_instructions_are_locked_answers_are_not():
    nb = release.release_notebook(master())
    for cell in nb.cells:
        r = C.role(cell)
        if r in (C.TEST, C.READONLY, C.PLAIN):
            assert cell.metadata["editable"] is False and cell.metadata["deletable"] is False
        if r in (C.ANSWER, C.MANUAL):
            assert "editable" not in cell.metadata and cell.metadata["deletable"] is False


def test_outputs_of_exercises_are_cleared_others_kept():
    m = master()
    out = new_output("stream", name="stdout", text="shown\n")
    for gid in ("setup", "square", "square-test"):
        by_id(m, gid).outputs = [copy.deepcopy(out)]
        by_id(m, gid).execution_count = 1
    nb = release.release_notebook(m)
    assert by_id(nb, "setup").outputs == [out]
    assert by_id(nb, "square").outputs == [] and by_id(nb, "square").execution_count is None
    assert by_id(nb, "square-test").outputs == []


def test_checksums_are_nbgraders_and_recorded_on_every_marked_cell():
    nb = release.release_notebook(master())
    marked = [c for c in nb.cells if C.grade_id(c)]
    assert len(marked) == 9
    for cell in marked:
        assert cell.metadata.nbgrader["checksum"] == C.compute_checksum(cell)
        assert cell.metadata.nbgrader["cell_type"] == cell.cell_type
    # nbgrader 0.9.6's compute_checksum for a grade cell, by hand: md5 over
    # source, type, "True"/"False" flags, id and float points.
    import hashlib
    cell = by_id(nb, "evens-test")
    m = hashlib.md5()
    for part in (cell.source, "code", "True", "False", "True", "evens-test", "3.0"):
        m.update(part.encode())
    assert cell.metadata.nbgrader["checksum"] == m.hexdigest()


def test_release_is_a_pure_function_of_the_master():
    m = master()
    before = json.dumps(m, sort_keys=True)
    a, b = release.dumps(release.release_notebook(m)), release.dumps(release.release_notebook(m))
    assert a == b and json.dumps(m, sort_keys=True) == before


@pytest.mark.parametrize("source, words", [
    ("# BEGIN SOLUTION\nx = 1", "never closed"),
    ("# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION", "inside an open region"),
    ("x = 1\n# END SOLUTION", "without a matching BEGIN"),
    ("x = 'BEGIN SOLUTION'", "not a marker line"),
])
def test_bad_markers_are_named_with_their_line(source, words):
    m = master()
    by_id(m, "square").source = source
    with pytest.raises(GradingError, match=words) as e:
        release.release_notebook(m, "mini")
    assert "'square'" in str(e.value)


def test_an_unmarked_code_cell_in_a_master_is_refused():
    m = master()
    m.cells.insert(1, new_code_cell("x = 1"))
    with pytest.raises(GradingError, match="cell 1 .*no nbgrader metadata"):
        release.release_notebook(m, "mini")


def test_cli_writes_then_check_detects_drift(tmp_path, capsys):
    write_master(tmp_path / "source")
    args = ["--source", str(tmp_path / "source"), "--out", str(tmp_path / "nb")]
    assert release.main(args) == 0
    assert release.main(args + ["--check"]) == 0
    target = tmp_path / "nb" / "mini.ipynb"
    target.write_text(target.read_text().replace("square", "cube"))
    assert release.main(args + ["--check"]) == 1
    assert "differ from a fresh release" in capsys.readouterr().err


def test_repository_notebooks_are_what_a_fresh_release_writes():
    """notebooks/ must never drift from instructor/source/ (run 'dsai release' to fix)."""
    masters = release.find_masters(REPO / "instructor" / "source")
    for path in masters:
        fresh = release.dumps(release.release_notebook(release.read_notebook(path), path.stem))
        shipped = REPO / "notebooks" / f"{path.stem}.ipynb"
        assert shipped.is_file(), f"{shipped} is missing: run 'dsai release'"
        assert shipped.read_text(encoding="utf-8") == fresh, \
            f"{shipped} differs from a fresh release of {path}: run 'dsai release'"
    orphans = {p.stem for p in (REPO / "notebooks").glob("*.ipynb")} - {p.stem for p in masters}
    assert not orphans, f"notebooks/ has {sorted(orphans)} without a master in instructor/source/"


def test_the_dsai_command_dispatches_release(tmp_path):
    from dsai import cli
    write_master(tmp_path / "source")
    args = ["--source", str(tmp_path / "source"), "--out", str(tmp_path / "nb")]
    assert cli.main(["release", *args]) == 0
    assert cli.main(["release", "--check", *args]) == 0
    assert (tmp_path / "nb" / "mini.ipynb").is_file()
