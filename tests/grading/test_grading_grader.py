"""The autograder on a crafted class: one grading run, many claims checked on it.

Each student below stands for one claim of instructor/README.md ("what the
grader protects against"); the class is graded once (module fixture) through
the real command line, with a 2 s cell timeout and a 1 GB memory cap.
"""

from __future__ import annotations

import csv
import time
import zipfile

import pytest
from nbformat.v4 import new_code_cell

from _minilesson import LESSON, SECRET, Student, write_master
from dsai.grading import grader, sandbox

TIMEOUT = 2
MEMORY_MB = 1024
# Sandboxed where bubblewrap works; elsewhere these claims (restoring, scoring,
# feedback) hold just the same for trusted work. Isolation: test_grading_hostile.py.
MODE = [] if sandbox.probe() is None else ["--trusted"]


def _class(root):
    subs = root / "subs"
    out = root / "out" / "grades.csv"
    Student().solve_all().write(subs, "perfect")
    (Student().solve_all()
     .answer("square", "def square(x):\n    return x + x")
     .answer("parts", "def parts():\n    return [1, 2]").write(subs, "wrong"))
    # Passes the visible asserts (3 -> 9, -2 -> 4) but not the hidden one.
    (Student().solve_all().answer("square", "def square(x):\n    return {3: 9, -2: 4}.get(x, 0)")
     .write(subs, "hidden"))
    s = Student().solve_all().answer("square", "def square(x):\n    return 0")
    s.cell("square-test").source = "pass"
    s.write(subs, "edit_pass")
    (Student().solve_all().answer("evens", "def evens(n):\n    return []")
     .delete("evens-test").write(subs, "delete_test"))
    # An interruptible loop, then one that swallows KeyboardInterrupt (kill + replay).
    (Student().solve_all().answer("square", "while True:\n    pass")
     .answer("evens", "import time\nwhile True:\n    try:\n        time.sleep(100)\n"
                      "    except BaseException:\n        pass")
     .write(subs, "loop"))
    (Student().answer("square", "def square(x):\n    return 1")
     .copy_cell("square", "def square(x):\n    return x ** 2").write(subs, "dup"))
    s = Student().solve_all()
    s.add_after("setup", new_code_cell(
        "open('grades.csv', 'w').write('forged')\n"
        f"open({str(out)!r}, 'w').write('student,notebook,grade_id,score\\nforger,{LESSON},x,999\\n')"))
    s.write(subs, "forger")
    (subs / "broken_json").mkdir()
    (subs / "broken_json" / f"{LESSON}.ipynb").write_text("not json {")
    s = Student().solve_all()
    s.nb.metadata["kernelspec"] = {"name": "ir", "language": "R", "display_name": "R"}
    s.write(subs, "wrong_kernel")
    out.parent.mkdir(parents=True)
    out.write_text("an old gradebook\n")
    return subs, out


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("class")
    write_master(root / "source")
    subs, out = _class(root)
    start = time.monotonic()
    code = grader.main([str(subs), "--out", str(out), "--source", str(root / "source"),
                        "--timeout", str(TIMEOUT), "--memory", str(MEMORY_MB), "--jobs", "2",
                        "--submission-timeout", "600"] + MODE)
    seconds = time.monotonic() - start
    with open(out, newline="") as f:
        rows = list(csv.DictReader(f))
    table = {(r["student"], r["grade_id"]): r for r in rows}
    feedback = {p.parent.name: p.read_text() for p in (out.parent / "feedback").glob("*/*.md")}
    return dict(code=code, rows=rows, table=table, feedback=feedback, seconds=seconds,
                out=out, root=root)


def score(graded, student, gid):
    return graded["table"][student, gid]["score"]


def test_gradebook_has_a_row_per_question_and_a_total(graded):
    assert list(graded["rows"][0]) == grader.COLUMNS
    students = sorted({r["student"] for r in graded["rows"]})
    assert len(students) == 10
    for s in students:
        ids = [r["grade_id"] for r in graded["rows"] if r["student"] == s]
        assert ids == ["square-test", "evens-test", "parts-test", "why", "TOTAL"]
    assert all(r["notebook"] == LESSON for r in graded["rows"])


def test_correct_answers_earn_full_points_manual_cells_are_left_blank(graded):
    assert [score(graded, "perfect", g) for g in ("square-test", "evens-test", "parts-test")] \
        == ["2", "3", "2"]
    assert graded["table"]["perfect", "why"]["status"] == "manual"
    assert score(graded, "perfect", "why") == ""
    assert graded["table"]["perfect", "TOTAL"]["max_score"] == "8"
    assert score(graded, "perfect", "TOTAL") == "7"


def test_a_test_that_raises_scores_zero_and_a_returned_number_is_partial_credit(graded):
    assert score(graded, "wrong", "square-test") == "0"
    assert graded["table"]["wrong", "parts-test"]["status"] == "partial"
    assert float(score(graded, "wrong", "parts-test")) == pytest.approx(4 / 3, abs=1e-4)


def test_feedback_explains_visible_failures_with_the_check_message(graded):
    text = graded["feedback"]["wrong"]
    assert "square(3): expected 9, got 6" in text
    assert "Hint: multiply x by itself" in text


def test_feedback_never_shows_hidden_tests(graded):
    assert score(graded, "hidden", "square-test") == "0"
    assert "a hidden test failed (AssertionError)" in graded["feedback"]["hidden"]
    for student, text in graded["feedback"].items():
        assert SECRET not in text and "square(12)" not in text, student
    assert not any(SECRET in str(r) for r in graded["rows"])


def test_a_test_cell_edited_to_pass_is_restored(graded):
    assert score(graded, "edit_pass", "square-test") == "0"
    assert "'square-test' was edited" in graded["feedback"]["edit_pass"]


def test_a_deleted_test_cell_is_put_back(graded):
    assert score(graded, "delete_test", "evens-test") == "0"
    assert "'evens-test' was deleted" in graded["feedback"]["delete_test"]
    assert score(graded, "delete_test", "square-test") == "2"


def test_an_infinite_loop_costs_its_question_not_the_batch(graded):
    t = graded["table"]
    assert t["loop", "square-test"]["score"] == "0" and t["loop", "evens-test"]["score"] == "0"
    assert t["loop", "parts-test"]["score"] == "2"  # later sessions skip the hung cells
    assert graded["feedback"]["loop"].count(f"ran longer than {TIMEOUT} s") == 2


def test_a_notebook_cannot_write_the_gradebook(graded):
    assert score(graded, "forger", "TOTAL") == "7"
    text = graded["out"].read_text()
    assert "999" not in text and "an old gradebook" not in text
    assert not (graded["root"] / "subs" / "forger" / "grades.csv").exists()  # ran in scratch


def test_a_duplicated_grade_id_runs_as_an_extra_cell(graded):
    assert score(graded, "dup", "square-test") == "2"
    assert "repeats grade_id 'square'" in graded["table"]["dup", "TOTAL"]["message"]


@pytest.mark.parametrize("student, words", [("broken_json", "not valid JSON"),
                                            ("wrong_kernel", "'ir' kernel")])
def test_broken_submissions_get_a_clear_row(graded, student, words):
    total = graded["table"][student, "TOTAL"]
    assert total["status"] == "error" and words in total["message"]
    assert all(r["status"] == "error" for r in graded["rows"] if r["student"] == student)
    assert words in graded["feedback"][student]


def test_exit_code_reports_ungradeable_submissions(graded):
    assert graded["code"] == 1


def test_a_zip_of_the_class_is_graded_like_a_folder(tmp_path, capsys):
    write_master(tmp_path / "source")
    subs = tmp_path / "class" / "subs"
    (subs / "broken").mkdir(parents=True)
    (subs / "broken" / f"{LESSON}.ipynb").write_text("[]")
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(subs / "broken" / f"{LESSON}.ipynb", f"subs/broken/{LESSON}.ipynb")
    out = tmp_path / "grades.csv"
    assert grader.main([str(archive), "--out", str(out), "--source", str(tmp_path / "source")]
                       + MODE) == 1
    rows = list(csv.DictReader(out.open()))
    assert rows[-1]["student"] == "broken" and "no 'cells'" in rows[-1]["message"]
    assert "[1/1] broken/mini.ipynb: ERROR" in capsys.readouterr().err
