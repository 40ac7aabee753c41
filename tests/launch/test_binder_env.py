"""The Binder image, rebuilt from binder/ alone: pinned, complete, masters gone, every lesson runs.

See conftest.py for how the environment is built and why `make test` skips this suite.
"""

from __future__ import annotations

import re

import pytest

from _launch import REPO, lesson_report_json, report, student_lessons

PIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*==[^=\s]+$")
GIB = 2**30


def _pins(text: str) -> dict[str, str]:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    return {ln.split("==")[0].lower().replace("_", "-"): ln.split("==")[1] for ln in lines}


def test_every_requirement_is_pinned_to_one_version():
    text = (REPO / "binder" / "requirements.txt").read_text()
    assert "make lock" in text[:600], "the command that regenerates the pins is written at the top"
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    loose = [ln for ln in lines if not PIN.match(ln)]
    assert not loose, f"not pinned to one version: {loose}"
    assert "ray" not in _pins(text), "real Ray is an optional extra, not part of the Binder image"


def test_environment_is_exactly_the_pins_and_consistent(binder_env):
    check = binder_env.run(str(binder_env.bin / "python"), "-m", "pip", "check")
    assert check.returncode == 0, f"pip check: {check.stdout}{check.stderr}"
    freeze = binder_env.run(str(binder_env.bin / "python"), "-m", "pip", "freeze",
                            "--exclude", "dsai")
    pins = _pins((REPO / "binder" / "requirements.txt").read_text())
    assert _pins(freeze.stdout) == pins, "postBuild installed or changed packages beyond the pins"


def test_dsai_is_installed_and_masters_are_removed(binder_env):
    where = binder_env.run(str(binder_env.bin / "python"), "-c",
                           "import dsai, sys; print(dsai.__file__)", cwd="/")
    assert where.returncode == 0, where.stderr
    assert str(binder_env.venv) in where.stdout, f"dsai imported from {where.stdout}"
    assert not (binder_env.repo / "instructor" / "source").exists()
    assert student_lessons(binder_env.repo), "no student notebook in notebooks/"
    dsai_cli = binder_env.run(str(binder_env.bin / "dsai"), "--help")
    assert dsai_cli.returncode == 0, dsai_cli.stderr


@pytest.mark.parametrize("lesson", [p.name for p in student_lessons()] or ["no-lessons"])
def test_lesson_runs_under_a_gib(binder_env, lesson):
    if lesson == "no-lessons":
        pytest.fail("no notebooks/*.ipynb to run")
    done = binder_env.run(str(binder_env.bin / "python"), str(REPO / "tests" / "launch" / "lax_lesson.py"),
                          str(binder_env.repo / "notebooks" / lesson), timeout=1800)
    result = lesson_report_json(done.stdout)
    report(f"{lesson}: {result['passed']} cells passed, {result['failed']} failed (lax, exercises "
           f"excused); peak kernel memory {result['peak_kernel_mib']:.0f} MiB")
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert result["peak_kernel_mib"] * 2**20 < GIB, f"{lesson} needs over 1 GiB"


def test_jupyterlab_answers_and_opens_lesson_00(lab_server):
    status, _, body = lab_server.get("/lab/tree/notebooks/00_welcome.ipynb")
    assert status == 200 and "JupyterLab" in body
    status, location, _ = lab_server.get("/", follow=False)
    assert status in (301, 302) and location.split("?")[0].endswith(
        "/lab/tree/notebooks/00_welcome.ipynb"), f"/ goes to {status} {location}"
    status, _, body = lab_server.get("/api/kernelspecs")
    assert status == 200 and '"python3"' in body
    for nb in student_lessons(lab_server.root):
        assert lab_server.get(f"/api/contents/notebooks/{nb.name}")[0] == 200, nb.name


def test_readme_badge_opens_lesson_00_and_names_the_repository_once():
    readme = (REPO / "README.md").read_text()
    links = re.findall(r"^\[binder\]: (\S+)$", readme, flags=re.M)
    assert len(links) == 1, "one link definition: the one place the repository path is written"
    url = links[0]
    assert url.startswith("https://mybinder.org/v2/gh/")
    assert url.endswith("?urlpath=lab/tree/notebooks/00_welcome.ipynb")
    repo_path = url.removeprefix("https://mybinder.org/v2/gh/").split("/HEAD")[0]
    assert readme.count(repo_path) == 1, f"{repo_path} is written more than once"
    assert "[![Binder](https://mybinder.org/badge_logo.svg)][binder]" in readme
