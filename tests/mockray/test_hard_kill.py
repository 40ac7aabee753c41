"""A hard kill (dsai/sim/hard_kill.py): the process's code never runs again, not even when
its stack would be garbage collected; the stack is kept instead (README's differences table)."""

from __future__ import annotations

import gc
import time

from dsai import ray, sim
from dsai.sim import hard_kill

ran: list[str] = []


@ray.remote
def guarded():
    try:
        time.sleep(30)
    except BaseException:  # noqa: BLE001
        ran.append("except")
        raise
    finally:
        ran.append("finally")


def test_a_force_cancelled_task_is_kept_not_unwound(sim_ray):
    ran.clear()
    before = hard_kill.graveyard_size()
    ref = guarded.remote()
    ray.wait([ref], timeout=1.0)  # running, asleep
    ray.cancel(ref, force=True)
    time.sleep(60)  # past the end of its sleep: the wake finds it done
    gc.collect()
    assert ran == []
    assert hard_kill.graveyard_size() == before + 1
    assert ray.available_resources()["CPU"] == ray.cluster_resources()["CPU"]  # its CPU is back
    assert sim.now() >= 61
