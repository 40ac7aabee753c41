"""Deliberate, documented differences between the simulator and real Ray.

Each is listed in docs/ray_behaviour.md ("Documented differences").
"""

import pytest


@pytest.mark.sim_only(reason="real Ray hangs forever on a task no node can run (it waits for "
                             "the autoscaler); the simulator fails it with Ray's "
                             "TaskUnschedulableError once nothing else can happen")
def test_infeasible_task_fails_instead_of_hanging(ray):
    @ray.remote
    def f():
        return 1

    ref = f.options(resources={"no-such-resource": 1}).remote()
    with pytest.raises(ray.exceptions.TaskUnschedulableError, match="no-such-resource"):
        ray.get(ref)


@pytest.mark.sim_only(reason="real Ray hangs forever on an actor no node can host; the "
                             "simulator fails it with Ray's ActorUnschedulableError")
def test_infeasible_actor_fails_instead_of_hanging(ray):
    @ray.remote(num_gpus=8)
    class Big:
        def m(self):
            return 1

    with pytest.raises(ray.exceptions.ActorUnschedulableError, match="GPU"):
        ray.get(Big.remote().m.remote())
