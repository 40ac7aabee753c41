"""A corpus of complete asyncio and threading programs, run unchanged on both backends with the same output.

Each program in tests/corpus/concurrency/ is a plain Ray driver script that
prints what it observed. It runs as a separate process: on the simulator
through `python -m dsai.run --num-cpus 4 SCRIPT` (`dsai run`), on real Ray 2.60
(DSAI_BACKEND=ray, `make test-ray`) as `python SCRIPT` joining one local
4-CPU cluster. Both must exit 0 and print exactly the output listed here.

The programs print only what holds on real Ray whatever the machine's speed:
orders, counts and values that their own synchronisation fixes (a barrier, a
full batch, an event), and timings as lower bounds ("took at least the
slowest fetch"), never as wall-clock figures. So an output that differs
between the backends is a simulator bug.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

from real_cluster import real_ray_cluster

BACKEND = "ray" if os.environ.get("DSAI_BACKEND", "").strip().lower() == "ray" else "sim"
CORPUS = Path(__file__).resolve().parent.parent / "corpus" / "concurrency"
NUM_CPUS = 4

EXPECTED = {
    "async_queue_server.py": """\
answers: [0, 1, 4, 9, 16, 25, 36, 49]
batch sizes: [4, 4]
answers: [0, 1, 4, 9]
batch sizes: [4, 4, 4]
""",
    "driver_as_completed.py": """\
fetched in completion order: [1, 2, 3]
parsed: ['parsed 1', 'parsed 2', 'parsed 3']
took at least the slowest fetch: True
first completed: [0] still pending: 1
the pending one: [2]
""",
    "heartbeat.py": """\
actor heartbeat ticks when work returned: 5
job done ; the driver's heartbeat ticked meanwhile: True
""",
    "threaded_counter.py": """\
distinct threads: 4
each call's own thread-local count: [500, 500, 500, 500]
total: 2000
""",
    "threaded_producer_consumer.py": f"""\
consumed: {[i * 10 for i in range(20)]}
a thread still running: False
paced by the slower consumer: True
""",
    "timer_in_task.py": """\
fired before its delay: False
fired: True
waited at least the delay: True
a cancelled timer fired: False
""",
    "wait_for_timeout.py": """\
actor, 2 s work, 0.5 s timeout: timed out
actor, 0.1 s work, 1 s timeout: done
actor, 2 s task, 0.5 s timeout: timed out
driver, 2 s task, 0.5 s timeout: timed out
the task still finished: 2
driver, 0 s task, 5 s timeout: 0
""",
}


def test_every_program_in_the_corpus_is_listed():
    assert {p.name for p in CORPUS.glob("*.py")} == set(EXPECTED)


@pytest.fixture(scope="module")
def cluster_env() -> Iterator[dict[str, str]]:
    """The environment a program runs in: a 4-CPU real cluster to join on real Ray."""
    if BACKEND == "sim":
        yield {k: v for k, v in os.environ.items() if k != "DSAI_BACKEND"}
        return
    with real_ray_cluster(NUM_CPUS) as env:
        yield env


@pytest.mark.own_cluster  # on real Ray: after the suite's shared-cluster tests
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_program_prints_the_same_on_both_backends(name: str, cluster_env: dict[str, str]) -> None:
    if BACKEND == "sim":
        cmd = [sys.executable, "-m", "dsai.run", "--num-cpus", str(NUM_CPUS), name]
    else:
        cmd = [sys.executable, name]
    # The timeout only stops a hang; a passing run takes a small fraction of it.
    done = subprocess.run(cmd, cwd=CORPUS, env=cluster_env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"exit status {done.returncode}\n{done.stdout}\n{done.stderr[-3000:]}"
    assert program_output(done.stdout) == EXPECTED[name], done.stderr[-3000:]


# Lines real Ray adds to a driver's output: its daemons' messages and its workers' prints.
_RAY_LINE = re.compile(r"^(\x1b\[[0-9;]*m)*\((raylet|autoscaler|gcs_server|monitor|(\S+ )?pid=\d+)[^)]*\)")


def program_output(stdout: str) -> str:
    """What the program printed itself (none of these programs prints in a worker)."""
    return "".join(line for line in stdout.splitlines(keepends=True) if not _RAY_LINE.match(line))
