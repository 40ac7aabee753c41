"""Issue 18's hostile class: each attack is a small notebook, graded by the real command.

Every attack is written so that, if it worked, its author would get points or
a victim would lose them; the tests assert it did not. Three gradings:

- ``forged`` (sandboxed where bubblewrap works, else trusted): forged verdicts,
  trust in the submission's metadata, leaks of hidden tests;
- ``isolated`` (needs the sandbox; run as a separate process so its peak memory
  can be read): reading and writing what a student must not, killing or
  stopping the grader, unusable folder names, floods, leftovers, limits;
- time limits, graded one submission at a time and checked by counts.

No assertion depends on the machine's speed: the per-cell timeouts of
submissions that must finish are minutes, and hangs are judged by what was
skipped, not by how long it took.
"""

from __future__ import annotations

import asyncio
import csv
import os
import socket
import subprocess
import sys
import sysconfig
import textwrap
import time
from pathlib import Path

import pytest
from nbformat.v4 import new_code_cell

from _minilesson import LESSON, SECRET, Student, write_master
from dsai.grading import cgroup, grader, sandbox

NO_SANDBOX = sandbox.probe()
MODE = [] if NO_SANDBOX is None else ["--trusted"]
needs_sandbox = pytest.mark.skipif(NO_SANDBOX is not None,
                                   reason=f"needs the bubblewrap sandbox: {NO_SANDBOX}")
LONG = "120"  # per-cell timeout for submissions whose cells all end by themselves
# Passes the two visible lines of 'square-test' only if check() is forged (3 -> 0).
CHECK_ONLY_WRONG = "def square(x):\n    return {-2: 4, 12: 144}.get(x, 0)"


def _blank(subs: Path, name: str, *extra: str, after: str = "setup") -> Student:
    s = Student()
    for src in reversed(extra):
        s.add_after(after, new_code_cell(src))
    s.write(subs, name)
    return s


def _read(out: Path) -> dict:
    rows = list(csv.DictReader(out.open(newline="", encoding="utf-8")))
    table = {(r["student"], r["grade_id"]): r for r in rows}
    feedback = {p.parent.name: p.read_text(encoding="utf-8")
                for p in (out.parent / "feedback").glob("*/*.md")}
    return dict(rows=rows, table=table, feedback=feedback, csv=out.read_text(encoding="utf-8"))


def total(graded: dict, student: str) -> str:
    return graded["table"][student, "TOTAL"]["score"]


# --------------------------------------------------------------------------- forged ---

def _forged_class(subs: Path) -> None:
    Student().solve_all().write(subs, "perfect")
    Student().write(subs, "blank")
    _blank(subs, "v_showtraceback", textwrap.dedent("""\
        ip = get_ipython()
        ip.showtraceback = lambda *a, **k: None
        _orig = ip.run_cell_async
        async def _fake(*a, **k):
            r = await _orig(*a, **k)
            r.error_in_exec = r.error_before_exec = None
            return r
        ip.run_cell_async = _fake"""))
    _blank(subs, "v_transformer", textwrap.dedent("""\
        def _wrap(lines):
            return (["try:\\n"] + ["    " + l for l in lines]
                    + ["\\nexcept BaseException:\\n    pass\\n"])
        get_ipython().input_transformers_post.append(_wrap)
        get_ipython().input_transformers_cleanup.append(_wrap)"""))
    s = Student().solve_all().answer("square", CHECK_ONLY_WRONG + textwrap.dedent("""
        import sys, types, builtins
        import dsai.grading, dsai.grading.checks as _c
        check = lambda *a, **k: True
        _c.check = dsai.grading.check = check
        _c.compare = lambda *a, **k: None
        _c.CheckFailed.__init__ = lambda self, *a: None
        fake = types.ModuleType("dsai.grading"); fake.check = check
        sys.modules["dsai.grading"] = fake
        builtins.check = check"""))
    s.write(subs, "v_check_replaced")
    s = Student().solve_all().answer("square", CHECK_ONLY_WRONG)
    s.write(subs, "v_shadow_package")
    pkg = subs / "v_shadow_package" / "dsai" / "grading"
    pkg.mkdir(parents=True)
    (pkg.parent / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("def check(*a, **k):\n    return True\n")
    _blank(subs, "v_hooks", textwrap.dedent("""\
        import sys, threading, gc
        def _tracer(frame, event, arg):
            if event == "exception":
                frame.f_locals.clear()
            return _tracer
        sys.settrace(_tracer); threading.settrace(_tracer)
        sys.excepthook = lambda *a: None
        gc.callbacks.append(lambda *a: None)"""))
    # Metadata: points 1000, a bonus grade cell, a 'pass' copy after every test.
    s = Student()
    for c in s.nb.cells:
        meta = c.metadata.get("nbgrader", {})
        if meta.get("grade"):
            meta["points"] = 1000
    bonus = new_code_cell("pass", metadata={"nbgrader": {
        "grade": True, "solution": False, "locked": True, "points": 100,
        "grade_id": "bonus", "schema_version": 3}})
    s.add_after("setup", bonus).write(subs, "m_points")
    s = Student()
    for gid in ("square-test", "evens-test", "parts-test"):
        s.copy_cell(gid, "pass")
    s.write(subs, "m_pass_copies")
    s = Student()
    s.cell("square").cell_type = "markdown"  # an answer turned into another type
    s.cell("square-test").metadata["nbgrader"]["grade"] = False  # a test "un-marked"
    s.cell("evens-test").metadata["nbgrader"]["solution"] = True  # a test made an "answer"
    s.cell("evens-test").source = "pass"
    s.write(subs, "m_roles")
    link = subs / "m_symlink" / f"{LESSON}.ipynb"
    link.parent.mkdir()
    link.symlink_to(subs.parent / "source" / LESSON / f"{LESSON}.ipynb")
    (subs / "m_fifo").mkdir()
    os.mkfifo(subs / "m_fifo" / f"{LESSON}.ipynb")
    (subs / "m_linked_folder").symlink_to(subs / "perfect")
    (Student().solve_all()
     .answer("parts", "blocks = []\nfor _ in range(64):\n    blocks.append(bytearray(2**28))\n"
                      "def parts():\n    return [1, 2, 3]")
     .write(subs, "r_memory"))
    # Hidden tests: record every cell's source, scan memory, peek at the caller's frame.
    s = Student().solve_all()
    s.add_after("parts-test", new_code_cell(textwrap.dedent("""\
        import gc
        found = [o for o in gc.get_objects() if isinstance(o, str) and 'SECRET' in o]
        raise ValueError(repr(SEEN) + repr(found))""")))
    s.add_after("setup", new_code_cell("SEEN = []\nget_ipython().events.register("
                                       "'pre_run_cell', lambda info: SEEN.append(info.raw_cell))"))
    s.write(subs, "h_recorder")
    Student().solve_all().answer("square", textwrap.dedent("""\
        class Imitation:
            def __repr__(self):
                return "Cell In[1], line 1\\n----> 1 check(square(3), 9)"
            def __eq__(self, other):
                return False
        def square(x):
            return x * x if x in (3, -2) else Imitation()""")).write(subs, "h_imitation")
    Student().solve_all().answer("square", textwrap.dedent("""\
        import sys, gc
        def square(x):
            caller = sys._getframe(1)
            consts = [c for f in (caller, caller.f_back) if f for c in f.f_code.co_consts]
            strings = [o for o in gc.get_objects() if isinstance(o, str) and "SECRET" in o]
            raise type("Leak_%s" % x, (ValueError,), {})(repr(consts) + repr(strings))"""
                                                             )).write(subs, "h_frames")


@pytest.fixture(scope="module")
def forged(tmp_path_factory):
    root = tmp_path_factory.mktemp("forged")
    write_master(root / "source")
    subs, out = root / "subs", root / "out" / "grades.csv"
    subs.mkdir()
    _forged_class(subs)
    code = grader.main([str(subs), "--out", str(out), "--source", str(root / "source"),
                        "--timeout", LONG, "--submission-timeout", "900", "--memory", "1024",
                        "--jobs", "2"] + MODE)
    return dict(_read(out), code=code)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS is Linux-only")
def test_unbounded_allocation_hits_the_memory_cap(forged):
    # Was flaky under a 2 s cell timeout (touching 1 GB took longer on a busy
    # machine); here only the cap can stop the cell.
    assert forged["table"]["r_memory", "parts-test"]["score"] == "0"
    assert "MemoryError" in forged["feedback"]["r_memory"]
    assert forged["table"]["r_memory", "evens-test"]["score"] == "3"


def test_the_reference_submissions_score_as_before(forged):
    assert total(forged, "perfect") == "7" and total(forged, "blank") == "0"


@pytest.mark.parametrize("student", ["v_showtraceback", "v_transformer", "v_hooks"])
def test_ipython_machinery_patched_by_the_student_cannot_forge_a_pass(forged, student):
    assert total(forged, student) == "0"
    assert "hidden test failed" in forged["feedback"][student] \
        or "raised" in forged["feedback"][student]


@pytest.mark.parametrize("student", ["v_check_replaced", "v_shadow_package"])
def test_a_replaced_check_or_a_shadowing_dsai_package_changes_nothing(forged, student):
    assert forged["table"][student, "square-test"]["score"] == "0"
    assert "square(3): expected 9, got 0" in forged["feedback"][student]  # the real check ran
    assert total(forged, student) == "5"  # evens and parts were solved


def test_submission_metadata_can_neither_add_points_nor_hide_a_test(forged):
    for student in ("m_points", "m_pass_copies", "m_roles"):
        assert total(forged, student) == "0", student
        assert forged["table"][student, "TOTAL"]["max_score"] == "8"
        assert {gid for (s, gid) in forged["table"] if s == student} == {
            "square-test", "evens-test", "parts-test", "why", "TOTAL"}
    assert not any(r["grade_id"] == "bonus" for r in forged["rows"])


@pytest.mark.parametrize("student, words", [("m_symlink", "symbolic link"),
                                            ("m_fifo", "not a regular file"),
                                            ("m_linked_folder", "symbolic link")])
def test_anything_but_a_regular_notebook_file_is_refused_for_that_student(forged, student, words):
    row = forged["table"][student, "TOTAL"]
    assert row["status"] == "error" and words in row["message"] and row["score"] == "0"
    assert forged["code"] == 1


def test_hidden_tests_stay_hidden_whatever_the_code_prints_raises_or_returns(forged):
    for student in ("h_recorder", "h_imitation", "h_frames"):
        text = forged["feedback"][student]
        for secret in (SECRET, "square(12)", "144", "evens(7)", "Leak_12"):
            assert secret not in text, (student, secret)
    for secret in (SECRET, "square(12)", "144", "Leak_12"):
        assert secret not in forged["csv"]
    assert "a hidden test failed (AssertionError)" in forged["feedback"]["h_imitation"]
    assert forged["table"]["h_frames", "square-test"]["score"] == "0"


# ------------------------------------------------------------------------- isolated ---

MARK = f"DSAI-LEFTOVER-{os.getpid()}"


def _isolated_class(root: Path, port: int) -> dict:
    subs = root / "subs"
    master = root / "source" / LESSON / f"{LESSON}.ipynb"
    victim = Student().solve_all().write(subs, "victim")
    Student().solve_all().write(subs, "perfect")
    home = os.path.expanduser("~")
    purelib = sysconfig.get_paths()["purelib"]
    reader = textwrap.dedent(f"""\
        import os
        seen = []
        for p in [{str(master)!r}, {str(victim)!r}, {str(root / 'out' / 'grades.csv')!r},
                  {str(subs)!r}, {home!r} + "/.bashrc"]:
            try:
                os.listdir(p) if os.path.isdir(p) else open(p, "rb").read(1)
                seen.append(p)
            except OSError:
                pass
        pids = list(filter(str.isdigit, os.listdir("/proc")))
        for pid in pids:
            try:
                if b"--source" in open(f"/proc/{{pid}}/cmdline", "rb").read():
                    seen.append(pid)
            except OSError:
                pass
        if len(pids) > 20:  # the host's processes, other sessions among them
            seen.append("processes")
        import glob
        seen += glob.glob("/tmp/dsai-scratch-*") + glob.glob("/tmp/pytest-of-*")
        seen += glob.glob(os.path.expanduser("~/.local/share/jupyter/runtime/*"))
        seen += glob.glob("/run/user/*/jupyter/*")
        try:
            open({str(victim)!r}, "w").write("{{}}")
            seen.append("wrote")
        except OSError:
            pass
        def square(x):
            return x * x if seen else 0""")
    Student().solve_all().answer("square", reader).write(subs, "i_reader")
    Student().solve_all().answer("square", textwrap.dedent(f"""\
        import socket
        reached = []
        for addr in [("127.0.0.1", {port}), ("1.1.1.1", 53)]:
            try:
                socket.create_connection(addr, timeout=5).close()
                reached.append(addr)
            except OSError:
                pass
        def square(x):
            return x * x if reached else 0""")).write(subs, "i_network")
    _blank(subs, "i_persist", textwrap.dedent(f"""\
        import os
        body = "import builtins; builtins.square = lambda x: x * x\\n"
        for t in [os.path.expanduser("~/.ipython/profile_default/startup/00-evil.py"),
                  {home!r} + "/.ipython/profile_default/startup/00-evil.py",
                  {purelib!r} + "/dsai_evil.pth", "/tmp/dsai-evil.py",
                  os.environ.get("IPYTHONDIR", "/x") + "/profile_default/startup/00-evil.py"]:
            try:
                os.makedirs(os.path.dirname(t), exist_ok=True)
                open(t, "w").write(body)
            except OSError:
                pass"""))
    Student().solve_all().answer("square", textwrap.dedent("""\
        wrote = 0
        try:
            with open("/dev/shm/big", "wb") as f:
                for _ in range(2560):
                    f.write(b"0" * 2**20)
                    wrote += 1
        except OSError:
            pass
        def square(x):
            return x * x if wrote >= 2560 else 0""")).write(subs, "i_shm")
    s = Student().solve_all()
    s.add_after("setup", new_code_cell(textwrap.dedent(f"""\
        import subprocess, sys, os
        subprocess.Popen([sys.executable, "-c", "import time\\nwhile True: time.sleep(1)",
                          "{MARK}"], start_new_session=True, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)""")))
    s.write(subs, "i_leftover")
    s = Student().solve_all()
    s.add_after("setup", new_code_cell("import os, signal\nos.killpg(0, signal.SIGKILL)"))
    s.add_after("setup", new_code_cell(textwrap.dedent("""\
        import os, signal
        for sig in (signal.SIGSTOP, signal.SIGKILL):
            for pid in (os.getppid(), 1):
                try:
                    os.kill(pid, sig)
                except OSError:
                    pass""")))
    s.write(subs, "i_killer")
    s = Student().solve_all()
    s.add_after("setup", new_code_cell("for _ in range(1024):\n    print('x' * 2**20)"))
    s.write(subs, "i_printer")
    s = Student().solve_all()
    s.add_after("setup", new_code_cell(textwrap.dedent("""\
        import os
        junk = b"y" * 2**20
        for _ in range(64):
            for fd in range(64):
                try:
                    os.write(fd, junk)
                except OSError:
                    pass""")))
    s.write(subs, "i_flooder")
    Student().solve_all().answer("square", textwrap.dedent("""\
        import os, time
        made = 0
        try:
            for _ in range(2000):
                if os.fork() == 0:
                    time.sleep(60)
                    os._exit(0)
                made += 1
        except OSError:
            pass
        def square(x):
            return x * x if made >= 2000 else 0""")).write(subs, "i_forkbomb")
    Student().solve_all().answer("square", textwrap.dedent("""\
        import os, select, time
        r, w = os.pipe()
        kids = []
        for _ in range(4):
            pid = os.fork()
            if pid == 0:
                block = b"1" * (700 * 2**20)  # really touched, unlike bytearray(n)
                os.write(w, b"k")
                time.sleep(120)
                os._exit(0)
            kids.append(pid)
        held, ended, start = 0, set(), time.monotonic()
        while held + len(ended) < 4 and time.monotonic() - start < 300:
            if select.select([r], [], [], 0.2)[0]:
                held += len(os.read(r, 4))
            for pid in kids:
                if pid not in ended and os.waitpid(pid, os.WNOHANG)[0]:
                    ended.add(pid)
        def square(x):
            return x * x if held == 4 else 0""")).write(subs, "i_children")
    names = ["a" * 240, os.fsdecode(b"bad\xffname"), "x; rm -rf ~", "=HYPERLINK(1)"]
    for name in names:
        Student().solve_all().write(subs, name)
    return dict(victim=victim, victim_bytes=victim.read_bytes(), names=names, home=home,
                purelib=purelib)


def _env() -> dict:
    return {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}


def _host_processes_with(mark: str) -> list[str]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if mark.encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(pid)
        except OSError:
            pass
    return found


@pytest.fixture(scope="module")
def isolated(tmp_path_factory):
    if NO_SANDBOX is not None:
        pytest.skip(f"needs the bubblewrap sandbox: {NO_SANDBOX}")
    root = tmp_path_factory.mktemp("isolated")
    write_master(root / "source")
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.setblocking(False)
    # The grader's scratch folders go to a temp dir of this class's own, so another test
    # run sharing the machine cannot make them look left behind.
    tmp = root / "tmp"
    tmp.mkdir()
    before = dict(env=_env(), scratch=_scratch_dirs(tmp),
                  home=sorted(os.listdir(os.path.expanduser("~"))))
    info = _isolated_class(root, server.getsockname()[1])
    before["purelib"] = sorted(os.listdir(info["purelib"]))
    out = root / "out" / "grades.csv"
    script = ("import resource, sys\nfrom dsai.grading import grader\n"
              "rc = grader.main(sys.argv[1:])\n"
              "print('PEAK_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
              "sys.exit(rc)\n")
    run = subprocess.run([sys.executable, "-c", script, str(root / "subs"), "--out", str(out),
                          "--source", str(root / "source"), "--timeout", LONG,
                          "--submission-timeout", "900", "--memory", "1024", "--jobs", "2"],
                         capture_output=True, text=True, timeout=3600,
                         env={**os.environ, "TMPDIR": str(tmp)})
    peak_kb = int(run.stdout.split("PEAK_KB")[1].split()[0])
    try:
        server.accept()
        connected = True
    except BlockingIOError:
        connected = False
    server.close()
    return dict(_read(out), run=run, peak_mb=peak_kb / 1024, connected=connected, root=root,
                before=before, tmp=tmp, **info)


def test_the_grader_survives_signals_and_grades_everyone(isolated):
    assert isolated["run"].returncode == 1, isolated["run"].stderr[-2000:]  # the bad names
    assert total(isolated, "perfect") == "7" and total(isolated, "victim") == "7"
    assert total(isolated, "i_killer") == "7"
    assert "ended the grading process" in isolated["feedback"]["i_killer"]


def test_unusable_folder_names_are_reported_for_that_submission_only(isolated):
    bad = [r for r in isolated["rows"] if r["student"].startswith("unusable-name-")]
    assert len({r["student"] for r in bad}) == 4
    assert all(r["status"] == "error" for r in bad)
    assert all("cannot be a student id" in r["message"] for r in bad if r["grade_id"] == "TOTAL")
    assert not any(r["student"].startswith(("=", "x;")) for r in isolated["rows"])


def test_a_submission_sees_nothing_but_its_own_copy(isolated):
    assert isolated["table"]["i_reader", "square-test"]["score"] == "0"
    assert "square(3): expected 9, got 0" in isolated["feedback"]["i_reader"]
    assert isolated["victim"].read_bytes() == isolated["victim_bytes"]


def test_a_submission_has_no_network(isolated):
    assert isolated["table"]["i_network", "square-test"]["score"] == "0"
    assert not isolated["connected"]


def test_shared_memory_is_capped_per_submission(isolated):
    assert isolated["table"]["i_shm", "square-test"]["score"] == "0"


needs_cgroup = pytest.mark.skipif(not cgroup.available(), reason="needs a writable cgroup "
                                  "(v1 memory+pids, or a delegated v2 subtree) for session totals")


@needs_cgroup
def test_children_and_forks_share_one_memory_and_process_cap(isolated):
    assert isolated["table"]["i_children", "square-test"]["score"] == "0"
    assert isolated["table"]["i_forkbomb", "square-test"]["score"] == "0"
    assert total(isolated, "perfect") == "7"


def test_a_gigabyte_of_output_costs_the_grader_little(isolated):
    # The printer's own session may hit its memory cap (IPython holds output while a
    # cell runs); the claim is about the grader, and about everyone else.
    assert isolated["table"]["i_printer", "TOTAL"]["status"] == "graded"
    assert total(isolated, "i_flooder") == "7"
    assert "more output than it reads" in isolated["feedback"]["i_flooder"]
    assert isolated["peak_mb"] < 500, isolated["peak_mb"]


def test_every_process_a_submission_starts_ends_with_it(isolated):
    assert total(isolated, "i_leftover") == "7"
    for _ in range(60):  # a killed sandbox's processes go at once; allow a slow machine
        if not _host_processes_with(MARK):
            break
        time.sleep(0.5)
    assert _host_processes_with(MARK) == []


def test_nothing_persists_after_a_hostile_class(isolated, tmp_path):
    before = isolated["before"]
    assert _env() == before["env"]
    assert sorted(os.listdir(isolated["home"])) == before["home"]
    assert sorted(os.listdir(isolated["purelib"])) == before["purelib"]
    assert not Path("/tmp/dsai-evil.py").exists()
    assert before["scratch"] == set()
    assert _scratch_dirs(isolated["tmp"]) == set()
    write_master(tmp_path / "source")
    Student().solve_all().write(tmp_path / "subs", "perfect")
    Student().write(tmp_path / "subs", "blank")
    out = tmp_path / "grades.csv"
    grader.main([str(tmp_path / "subs"), "--out", str(out), "--source",
                 str(tmp_path / "source"), "--timeout", LONG])
    again = _read(out)
    assert total(again, "perfect") == "7" and total(again, "blank") == "0"


def _scratch_dirs(where: Path) -> set:
    return set(where.glob("dsai-scratch-*"))


# ------------------------------------------------------------------------ time limits --

def _grade_one(tmp_path: Path, student: Student, **kw) -> grader.Result:
    write_master(tmp_path / "source")
    path = student.write(tmp_path / "subs", "s")
    lesson = grader.Lesson.load(tmp_path / "source" / LESSON / f"{LESSON}.ipynb")
    sub = grader.Submission("s", LESSON, path)
    return asyncio.run(grader.grade_submission(sub, lesson, sandboxed=NO_SANDBOX is None, **kw))


def test_each_submission_has_a_wall_time_limit_of_its_own(tmp_path):
    s = Student().solve_all()
    for _ in range(8):
        s.add_after("setup", new_code_cell("import time\ntime.sleep(1)"))
    r = _grade_one(tmp_path, s, timeout=60, budget=6)
    assert all(sc.status == "timeout" and "used up its 6 s" in sc.reason
               for gid, sc in r.scores.items() if gid != "why")
    # Ended by the deadline, not by the cells: 8 s of sleeping never completes.
    assert r.seconds < 6 + 60


def test_a_hang_costs_only_itself_never_a_replay_of_earlier_cells(tmp_path):
    s = Student().solve_all()
    hang = "import time\nwhile True:\n    try:\n        time.sleep(100)\n" \
           "    except BaseException:\n        pass"
    for _ in range(3):
        s.add_after("setup", new_code_cell(hang))
        s.add_after("setup", new_code_cell("import time\ntime.sleep(0.1)"))
    # 5 s per cell: the honest cells must fit in it even on a busy machine.
    r = _grade_one(tmp_path, s, timeout=5, budget=900)
    # On Linux a checkpoint (fork) before each cell lets the session go on past a
    # hang: no new session at all. Elsewhere each hang costs one, never more.
    assert r.restarts == (0 if sys.platform.startswith("linux") else 3)
    assert r.total == 7
    assert sum("ran longer than 5 s" in e for e in r.answer_errors) == 3


def test_without_a_sandbox_untrusted_work_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sandbox, "probe", lambda: "bubblewrap ('bwrap') is not installed")
    write_master(tmp_path / "source")
    Student().write(tmp_path / "subs", "s")
    args = [str(tmp_path / "subs"), "--out", str(tmp_path / "g.csv"),
            "--source", str(tmp_path / "source")]
    assert grader.main(args) == 2
    err = capsys.readouterr().err
    assert "bubblewrap" in err and "--trusted" in err and "grader.Dockerfile" in err
    assert not (tmp_path / "g.csv").exists()
