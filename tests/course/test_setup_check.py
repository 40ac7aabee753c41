"""dsai.setup_check: every check names what is wrong and how to fix it."""

from __future__ import annotations

import pytest

from dsai import course
from dsai import setup_check as sc


def test_the_course_environment_passes(monkeypatch, capsys):
    monkeypatch.delenv("DSAI_BACKEND", raising=False)
    report = course.check_setup()
    out = capsys.readouterr().out
    assert report.ok, out
    assert "4 one-second tasks on 2 CPUs: 2.0 virtual s, as expected" in out
    assert out.rstrip().endswith("Verdict: all set. Every check passed; go on to the next cell.")
    assert repr(report).startswith("SetupReport(ok=True")


def test_it_uses_a_running_cluster_and_leaves_it_running(monkeypatch):
    monkeypatch.delenv("DSAI_BACKEND", raising=False)
    from dsai import ray

    ray.init(num_cpus=4)
    try:
        check = sc.check_cluster()
        assert check.ok and "on 4 CPUs: 1.0 virtual s" in check.detail
        assert ray.is_initialized()
    finally:
        ray.shutdown()


def test_old_python_is_named_with_the_fix():
    c = sc.check_python((3, 8, 10))
    assert not c.ok and "3.8.10 is too old" in c.detail and "3.10" in c.fix


@pytest.mark.parametrize("have, ok, words", [
    (None, False, "not installed"),
    ("7.6.5", False, "7.6.5 is older than the 8"),
    ("8.1.2", True, "8.1.2"),
    ("10.0rc1", True, "10.0rc1"),
])
def test_packages(have, ok, words):
    c = sc.check_package("ipywidgets", "8", installed=lambda name: have)
    assert c.ok is ok and words in c.detail
    if not ok:
        assert "ipywidgets>=8" in c.fix


def test_backends():
    assert sc.check_backend("").ok and sc.check_backend("sim").ok
    bad = sc.check_backend("spark")
    assert not bad.ok and "'spark' is not a backend" in bad.detail and "DSAI_BACKEND=ray" in bad.fix
    missing = sc.check_backend("ray", installed=lambda name: None)
    assert not missing.ok and "pip install 'ray==2.60.0'" in missing.fix
    other = sc.check_backend("ray", installed=lambda name: "2.40.0")
    assert other.ok and "tested on 2.60.0" in other.detail
    assert "wall-clock" in sc.check_backend("RAY", installed=lambda name: "2.60.0").detail


def test_a_report_with_problems_says_which():
    report = sc.SetupReport([sc.Check("python", True, "3.11.7"),
                             sc.Check("ipywidgets", False, "not installed", "pip install 'ipywidgets>=8'")])
    text = str(report)
    assert not report.ok and [c.name for c in report.problems] == ["ipywidgets"]
    assert "[BAD] ipywidgets: not installed\n      fix: pip install 'ipywidgets>=8'" in text
    assert text.endswith("Verdict: 1 problem to fix before the lessons will run (ipywidgets); see BAD above.")


def test_clock_is_the_virtual_clock_on_the_simulator(monkeypatch):
    monkeypatch.delenv("DSAI_BACKEND", raising=False)
    import time

    from dsai import ray

    ray.init(num_cpus=2)
    try:
        @ray.remote
        def nap():
            time.sleep(1.5)

        t0 = course.clock()
        ray.get([nap.remote(), nap.remote(), nap.remote()])
        assert course.clock() - t0 == pytest.approx(3.0)
    finally:
        ray.shutdown()


def test_plotting_check_renders_and_reports_a_broken_renderer(monkeypatch):
    assert sc.check_plotting() == sc.Check("plotting", True, "a test figure rendered to PNG")
    from matplotlib.figure import Figure

    def broken(self, *args, **kwargs):
        raise OSError("no renderer")

    monkeypatch.setattr(Figure, "savefig", broken)
    c = sc.check_plotting()
    assert not c.ok and "OSError: no renderer" in c.detail and "matplotlib" in c.fix
