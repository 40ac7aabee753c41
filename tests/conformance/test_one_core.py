"""Where tasks run: in worker processes on Ray, in the driver's own process on the simulator.

The simulator's one documented difference that no fix can remove: every
task and actor runs inside the driver's Python process (one at a time, on
virtual time), so pure-Python compute gets one core however many the
machine has, while Ray runs one worker process per core. The probe: a task
that sets an attribute on a module (`json`, imported everywhere) is seen by
the driver only when they share a process. The speed this costs is measured,
not tested, in benchmarks/dropin_monte_carlo.py.
"""

from __future__ import annotations

import json

import pytest

PROBE = "_dsai_one_core_probe"


def _set_probe(ray):
    @ray.remote
    def touch():
        import json

        setattr(json, PROBE, True)
        return True

    assert ray.get(touch.remote())


@pytest.mark.sim_only(reason="tasks run in the driver's process, so pure-Python compute uses one core "
                             "(the README's differences table); on Ray each worker is its own process")
def test_a_task_runs_in_the_drivers_process(ray):
    try:
        _set_probe(ray)
        assert getattr(json, PROBE, False) is True
    finally:
        if hasattr(json, PROBE):
            delattr(json, PROBE)


@pytest.mark.ray_only(reason="on Ray a task runs in a worker process of its own; the simulator runs "
                             "it in the driver's")
def test_a_task_runs_in_a_worker_process(ray):
    _set_probe(ray)
    assert not hasattr(json, PROBE)
