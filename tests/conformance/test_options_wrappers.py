"""Small Ray shapes: what `.options()` returns, and the error for work pinned to a node that is gone."""

from __future__ import annotations

import pytest

GONE = "ab" * 28  # a well-formed node ID no cluster has


def test_options_returns_a_wrapper_with_remote_but_no_second_options(ray):
    @ray.remote
    def f():
        return 1

    @ray.remote
    class A:
        def m(self):
            return 2

    wrapped = f.options(num_cpus=1)
    assert ray.get(wrapped.remote()) == 1
    with pytest.raises(AttributeError, match="options"):
        wrapped.options(num_cpus=2)  # Ray: pass every option in one .options() call
    actor_options = A.options(num_cpus=0)
    with pytest.raises(AttributeError, match="options"):
        actor_options.options(num_cpus=1)
    a = actor_options.remote()
    method = a.m.options(num_returns=1)
    assert ray.get(method.remote()) == 2
    with pytest.raises(AttributeError, match="options"):
        method.options(num_returns=1)
    ray.kill(a)


def test_work_pinned_to_a_node_that_does_not_exist_is_unschedulable(ray):
    from importlib import import_module

    strategies = import_module(ray.__name__ + ".util.scheduling_strategies")
    pin = strategies.NodeAffinitySchedulingStrategy(GONE, soft=False)

    @ray.remote
    def f():
        return 1

    @ray.remote
    class A:
        def m(self):
            return 2

    words = "The node specified via NodeAffinitySchedulingStrategy doesn't exist any more"
    with pytest.raises(ray.exceptions.TaskUnschedulableError, match=words):
        ray.get(f.options(scheduling_strategy=pin).remote(), timeout=60)
    a = A.options(scheduling_strategy=pin).remote()
    with pytest.raises(ray.exceptions.ActorUnschedulableError, match=words):
        ray.get(a.m.remote(), timeout=60)
