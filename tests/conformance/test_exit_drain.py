"""Conformance: work a driver submitted and never waited for still runs as the driver exits.

Ray's workers run on while the driver's interpreter shuts down: a task that
prints at once is printed even though the program ended right after
`f.remote()`; one that first sleeps a second is killed with its worker
before it prints, and its `finally` never runs. The simulator gives the
cluster EXIT_GRACE (0.1) virtual seconds at interpreter exit
(dsai.mockray.exit_drain). Each test is a fresh interpreter (real Ray: one
cluster start per test, 20-50 s on this machine).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap


_PRELUDE = textwrap.dedent("""
    import os, sys, time
    os.environ["RAY_ADDRESS"] = "local"
    from dsai import ray
    ray.init(num_cpus=2, include_dashboard=False)

    @ray.remote
    def quick():
        print("QUICK-RAN", flush=True)

    @ray.remote
    def slow():
        try:
            time.sleep(1.0)
            print("SLOW-RAN", flush=True)
        finally:
            print("SLOW-FINALLY", flush=True)
""")


def _run(backend: str, body: str, *args: str) -> str:
    env = dict(os.environ, DSAI_BACKEND=backend, RAY_DEDUP_LOGS="0")
    out = subprocess.run([sys.executable, "-c", _PRELUDE + textwrap.dedent(body), *args],
                         capture_output=True, text=True, timeout=300, env=env)
    text = out.stdout + out.stderr
    assert out.returncode == 0, text
    return text


def test_a_quick_task_never_waited_for_still_runs(ray, backend):
    text = _run(backend, """
        quick.remote()
        slow.remote()
        print("DRIVER-END", flush=True)
    """)
    assert "DRIVER-END" in text
    assert "QUICK-RAN" in text
    assert "SLOW-RAN" not in text  # its worker was stopped first ...
    assert "SLOW-FINALLY" not in text  # ... as a killed process: its finally never ran
