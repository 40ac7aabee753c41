"""`dsai run SCRIPT`: an unchanged `import ray` program runs on the simulator as `python SCRIPT` would."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import dsai.mockray
from dsai import cli, dropin
from dsai.run import run_script


def script(tmp_path: Path, body: str, name: str = "prog.py") -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return str(path)


PROGRAM = """
    import sys
    import ray
    from ray.util.queue import Queue

    ray.init()

    @ray.remote
    def square(x):
        return x * x

    print(__name__, sys.argv[1:], ray.get([square.remote(i) for i in range(4)]))
    print("cpus", ray.cluster_resources()["CPU"], "node", ray.get_runtime_context().get_node_id()[:8])
"""


def test_runs_as_main_with_its_argv_on_the_simulator(tmp_path, capsys):
    assert run_script(script(tmp_path, PROGRAM), ["--flag", "x"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "__main__ ['--flag', 'x'] [0, 1, 4, 9]"
    assert out[1].startswith("cpus 8.0 ")  # ray.init's default on the simulator
    # afterwards: no hook, no cluster, argv restored
    assert not dropin.installed() and not dsai.mockray.is_initialized()
    assert sys.argv[0] != str(tmp_path / "prog.py")


def test_options_fill_what_ray_init_leaves_out_and_the_seed_fixes_the_run(tmp_path, capsys):
    path = script(tmp_path, PROGRAM)
    outputs = []
    for seed in (3, 3, 4):
        assert cli.main(["run", "--seed", str(seed), "--num-cpus", "2", path]) == 0
        outputs.append(capsys.readouterr().out)
    assert "cpus 2.0" in outputs[0]
    assert outputs[0] == outputs[1] != outputs[2]


def test_the_scripts_own_init_arguments_win(tmp_path, capsys):
    path = script(tmp_path, "import ray\nray.init(num_cpus=3)\nprint(ray.cluster_resources()['CPU'])\n")
    assert cli.main(["run", "--num-cpus", "5", path]) == 0
    assert capsys.readouterr().out == "3.0\n"


@pytest.mark.parametrize("code, status, stderr", [
    ("sys.exit(3)", 3, ""),
    ("sys.exit()", 0, ""),
    ("sys.exit('bad input')", 1, "bad input\n"),
])
def test_exit_status_passes_through(tmp_path, capsys, code, status, stderr):
    path = script(tmp_path, f"import sys, ray\nray.put(1)\n{code}\nprint('not reached')\n")
    assert run_script(path) == status
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == stderr


def test_an_uncaught_exception_prints_as_python_would(tmp_path, capsys):
    path = script(tmp_path, """
        import ray

        @ray.remote
        def fail():
            raise ValueError("bad value 7")

        def main():
            ray.get(fail.remote())

        main()
    """)
    assert run_script(path) == 1
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):\n")
    assert f'File "{path}", line 9, in main' in err
    assert "runpy" not in err and "dsai/run.py" not in err
    assert "\nray.exceptions.RayTaskError(ValueError): ray::fail()" in err  # Ray's module name, as Ray prints it
    assert err.rstrip().endswith("ValueError: bad value 7")


def test_a_missing_submodule_fails_at_its_import_naming_it(tmp_path, capsys):
    path = script(tmp_path, "import ray.experimental.compiled_dag_ref\n")
    assert run_script(path) == 1
    err = capsys.readouterr().err
    assert err.rstrip().splitlines()[-1].startswith(
        "ModuleNotFoundError: No module named 'ray.experimental': the dsai simulator does not provide")
    assert "dropin.py" not in err  # the hook's frames are hidden, as importlib's are


def test_the_scripts_directory_comes_first_on_sys_path(tmp_path, capsys):
    script(tmp_path, "VALUE = 42\n", name="helper_for_dsai_run.py")
    path = script(tmp_path, "import helper_for_dsai_run\nprint(helper_for_dsai_run.VALUE)\n")
    assert run_script(path) == 0
    assert capsys.readouterr().out == "42\n"


def test_a_syntax_error_prints_as_python_would(tmp_path, capsys):
    path = script(tmp_path, "import ray\n  x = 1\n")
    assert run_script(path) == 1
    err = capsys.readouterr().err
    assert err.startswith(f'  File "{path}", line 2\n') and "runpy" not in err
    assert err.rstrip().endswith("IndentationError: unexpected indent")


def test_a_missing_script_is_reported(tmp_path, capsys):
    assert run_script(str(tmp_path / "nope.py")) == 2
    assert "can't open file" in capsys.readouterr().err


def test_python_dash_m_runs_it_in_a_fresh_process_with_the_status(tmp_path):
    path = script(tmp_path, PROGRAM + "    sys.exit(5)\n")
    done = subprocess.run([sys.executable, "-m", "dsai.run", "--seed", "1", path, "a"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 5, done.stderr
    assert done.stdout.startswith("__main__ ['a'] [0, 1, 4, 9]\n")
