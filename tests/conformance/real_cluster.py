"""A real Ray cluster in a child process, for tests that run whole programs or notebooks on real Ray.

A program or a notebook kernel is a process of its own, so it cannot share the
suite's in-process cluster: it joins this one through `RAY_ADDRESS`. The
cluster runs in a child process with a token of its own (Ray 2.60 uses token
auth), started with a few retries because on a loaded 2-core machine the
raylet can miss Ray's fixed 30 s start-up deadline (the environment, not
Ray's behaviour). Used by test_ray_notebooks.py and test_concurrency_corpus.py
(test_corpus.py has its own copy of the same idea).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from contextlib import contextmanager
from typing import Iterator

__all__ = ["ray_env", "real_ray_cluster"]

# Starts the cluster, prints its address, keeps it up until stdin closes.
_HOLDER = """
import sys, ray
for attempt in range(4):
    try:
        ctx = ray.init(num_cpus={num_cpus}, include_dashboard=False)
        break
    except Exception as e:
        if attempt == 3 or "timed out during startup" not in str(e):
            raise
        ray.shutdown()
print(ctx.address_info["gcs_address"], flush=True)
sys.stdin.read()
ray.shutdown()
"""


def ray_env(token: str) -> dict[str, str]:
    """This process's environment for a real-Ray child: no simulator switch, the cluster's token."""
    env = {k: v for k, v in os.environ.items() if k not in ("DSAI_BACKEND", "RAY_ADDRESS")}
    env.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=token, RAY_DEDUP_LOGS="0")
    return env


@contextmanager
def real_ray_cluster(num_cpus: int) -> Iterator[dict[str, str]]:
    """A local real Ray cluster of `num_cpus` CPUs; yields the environment that joins it."""
    import ray

    ray.shutdown()  # one Ray on this machine at a time (the conformance conftest restarts its own)
    env = ray_env(token=secrets.token_hex(32))
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER.format(num_cpus=int(num_cpus))],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # Ray's start-up deadline (30 s) stretched: at a load average of 10 here it was missed 4 times.
        env={**env, "RAY_ADDRESS": "local", "RAY_raylet_start_wait_time_s": "120"})
    try:
        address = holder.stdout.readline().strip()
        if not address:
            holder.stdin.close()
            raise RuntimeError(f"the real Ray cluster did not start:\n{holder.stderr.read()[-3000:]}")
        yield {**env, "RAY_ADDRESS": address}
    finally:
        holder.stdin.close()
        try:
            holder.wait(timeout=120)
        except subprocess.TimeoutExpired:
            holder.kill()
