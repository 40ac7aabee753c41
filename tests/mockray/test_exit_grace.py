"""The simulator's side of work left running at exit (dsai.mockray.exit_drain): its bound,
`ray.shutdown()` (no grace, as Ray) and `dsai run` (the same grace as an interpreter exit)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from dsai.mockray import exit_drain
from dsai.run import run_script

_SCRIPT = textwrap.dedent("""
    import time
    from dsai import ray
    ray.init(num_cpus=2)

    @ray.remote
    def after(s):
        time.sleep(s)
        print(f"RAN-{s}", flush=True)

    for s in (0.0, 0.05, 0.1, 0.15):
        after.remote(s)
""")


def _python(body: str) -> str:
    out = subprocess.run([sys.executable, "-c", body], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout + out.stderr


def test_the_grace_is_exit_grace_virtual_seconds():
    assert exit_drain.EXIT_GRACE == 0.1
    text = _python(_SCRIPT)
    assert [line for line in text.splitlines() if line.startswith("RAN")] == ["RAN-0.0", "RAN-0.05", "RAN-0.1"]


def test_an_explicit_shutdown_gives_no_grace():
    # Ray 2.60: ray.shutdown() right after f.remote() stopped the workers first (2 runs of 2).
    assert "RAN" not in _python(_SCRIPT + "ray.shutdown()\n")


def test_dsai_run_gives_the_same_grace(tmp_path, capfd):
    script = tmp_path / "fire_and_forget.py"
    script.write_text(_SCRIPT.replace("from dsai import ray", "import ray"))
    assert run_script(str(script)) == 0
    out = capfd.readouterr().out
    assert [line for line in out.splitlines() if line.startswith("RAN")] == ["RAN-0.0", "RAN-0.05", "RAN-0.1"]
