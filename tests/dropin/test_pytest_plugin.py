"""`pytest --dsai-sim`: a Ray test suite on the simulator, each test on a fresh cluster, failures replayable by seed."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

# A user's suite, written for real Ray: `import ray` in the conftest and the tests.
CONFTEST = """
    import ray
    import pytest

    @pytest.fixture(scope="module")
    def shared():
        ray.init(num_cpus=2)
        yield
        ray.shutdown()
"""
TESTS = """
    import ray
    from ray.util.queue import Queue

    @ray.remote
    def inc(x):
        return x + 1

    def test_own_init():
        ray.init()
        assert ray.get(inc.remote(1)) == 2

    def test_starts_without_the_previous_tests_cluster():
        assert not ray.is_initialized()

    def test_fixture(ray_cluster):
        assert ray_cluster is ray and ray.is_initialized()
        assert ray.cluster_resources()["CPU"] == CPUS

    def test_module_scoped_cluster_1(shared):
        assert ray.cluster_resources()["CPU"] == 2

    def test_module_scoped_cluster_2(shared):
        assert ray.is_initialized()  # a wider fixture's cluster is left up

    def test_node_id(ray_cluster):
        print("NODE", ray.get_runtime_context().get_node_id())
        assert FAIL is False
"""


def run_suite(tmp_path: Path, *args: str, cpus: int = 8, fail: bool = False) -> subprocess.CompletedProcess:
    (tmp_path / "conftest.py").write_text(textwrap.dedent(CONFTEST))
    (tmp_path / "test_user.py").write_text(f"CPUS = {cpus}\nFAIL = {fail}\n" + textwrap.dedent(TESTS))
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rA", *args],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)


def test_a_ray_suite_runs_on_the_simulator_with_a_fresh_cluster_per_test(tmp_path):
    done = run_suite(tmp_path, "--dsai-sim", "--dsai-num-cpus=3", cpus=3)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "6 passed" in done.stdout


def test_a_failing_test_prints_the_seed_that_replays_it(tmp_path):
    done = run_suite(tmp_path, "--dsai-sim", "--dsai-seed=random", "-k", "node_id", fail=True)
    assert done.returncode == 1
    seed = re.search(r"seed (\d+); replay with: pytest 'test_user.py::test_node_id' --dsai-sim "
                     r"--dsai-seed=(\d+)", done.stdout)
    assert seed is not None, done.stdout
    assert seed.group(1) == seed.group(2)
    assert f"test_user.py::test_node_id: --dsai-seed={seed.group(1)}" in done.stdout  # the summary
    node = re.search(r"NODE (\w+)", done.stdout).group(1)

    replay = run_suite(tmp_path, "--dsai-sim", f"--dsai-seed={seed.group(1)}", "-k", "node_id", fail=True)
    assert re.search(r"NODE (\w+)", replay.stdout).group(1) == node  # the same run, exactly


def test_without_the_option_the_plugin_does_nothing(tmp_path):
    (tmp_path / "test_plain.py").write_text(textwrap.dedent("""
        import sys

        def test_plain():
            assert "dsai.dropin" not in sys.modules and "dsai.mockray" not in sys.modules
    """))
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_plain.py"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    bad = subprocess.run([sys.executable, "-m", "pytest", "-q", "--dsai-seed=3", "test_plain.py"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert bad.returncode == 4 and "add --dsai-sim" in bad.stderr
