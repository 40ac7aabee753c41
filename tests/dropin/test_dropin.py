"""The import hook: `ray` and `ray.<sub>` resolve to the simulator, with the session's init defaults."""

from __future__ import annotations

import sys

import pytest

import dsai.mockray
from dsai import dropin
from dsai.mockray import session


@pytest.fixture
def hook():
    with dropin.simulate_ray() as ray:
        yield ray


def test_ray_and_its_submodules_are_the_simulators_modules(hook):
    import ray
    import ray.exceptions
    import ray.util.queue
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy
    from ray.util import ActorPool

    assert ray is hook
    assert ray.remote is dsai.mockray.remote and ray.ObjectRef is dsai.mockray.ObjectRef
    assert ray.exceptions is dsai.mockray.exceptions
    assert ray.util.queue is sys.modules["dsai.mockray.util.queue"]
    assert NodeAffinitySchedulingStrategy is dsai.mockray.util.scheduling_strategies.NodeAffinitySchedulingStrategy
    assert ActorPool is dsai.mockray.util.ActorPool
    assert ray.__version__ == dsai.mockray.__version__
    assert "remote" in dir(ray)


def test_a_submodule_the_simulator_lacks_is_named_in_the_error(hook):
    with pytest.raises(ModuleNotFoundError, match=r"'ray\._private': the dsai simulator"):
        import ray._private.worker  # noqa: F401
    # `from ray import x` must not shrink it to "cannot import name 'x'"
    with pytest.raises(ModuleNotFoundError, match=r"does not provide `ray\.no_such_module`"):
        from ray import no_such_module  # noqa: F401


def test_a_failing_import_inside_a_simulator_module_is_not_hidden(monkeypatch, tmp_path):
    # "ray.x is missing" must only be said when dsai.mockray.x itself is missing.
    pkg = tmp_path / "dsai_probe_pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "anything.py").write_text("import a_module_that_does_not_exist\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(dropin, "_TARGET", "dsai_probe_pkg")
    with pytest.raises(ModuleNotFoundError) as info:
        dropin._simulator_module("ray.anything")
    assert info.value.name == "a_module_that_does_not_exist"
    with pytest.raises(ModuleNotFoundError, match="does not provide `ray.other`"):
        dropin._simulator_module("ray.other")


def test_init_defaults_fill_only_what_the_program_leaves_out():
    with dropin.simulate_ray(seed=5, num_cpus=3) as ray:
        ray.init()
        assert ray.cluster_resources()["CPU"] == 3
        assert session.runtime().sim.seed == 5
        ray.shutdown()
        ray.init(num_cpus=2, seed=9)
        assert ray.cluster_resources()["CPU"] == 2
        assert session.runtime().sim.seed == 9


def test_the_cluster_ray_starts_on_first_use_gets_the_defaults_too():
    with dropin.simulate_ray(seed=4, num_cpus=6) as ray:
        ray.put(1)  # no ray.init: Ray starts a default cluster
        assert ray.cluster_resources()["CPU"] == 6
        assert session.runtime().sim.seed == 4


def test_joining_a_cluster_keeps_its_shape():
    with dropin.simulate_ray(num_cpus=3) as ray:
        from ray.cluster_utils import Cluster

        cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 2})
        ray.init(address=cluster.address)  # Ray refuses num_cpus when joining
        assert ray.cluster_resources()["CPU"] == 2
        ray.shutdown()
        cluster.shutdown()


def test_the_seed_fixes_the_run():
    ids = []
    for seed in (1, 1, 2):
        with dropin.simulate_ray(seed=seed) as ray:
            ray.init()
            ids.append(ray.get_runtime_context().get_node_id())
    assert ids[0] == ids[1] != ids[2]


def test_uninstall_restores_what_import_ray_found_before(monkeypatch):
    marker = type(sys)("ray")
    monkeypatch.setitem(sys.modules, "ray", marker)
    starter = session.starter
    with dropin.simulate_ray() as ray:
        import ray as inside

        assert inside is ray and dropin.installed()
        ray.init()
    assert sys.modules["ray"] is marker
    assert session.starter is starter
    assert not dropin.installed() and not dsai.mockray.is_initialized()
    assert not any(isinstance(f, dropin._RayFinder) for f in sys.meta_path)


def test_installing_twice_is_refused(hook):
    with pytest.raises(RuntimeError, match="already installed"):
        dropin.install()


def test_repr_says_it_is_the_simulator(hook):
    assert "dsai simulator" in repr(hook)


def test_star_import_gives_rays_names(hook):
    names: dict = {}
    exec("from ray import *", names)
    assert names["remote"] is dsai.mockray.remote and names["get"] is dsai.mockray.get


def test_current_is_the_installed_module(hook):
    assert dropin.current() is hook
    hook.set_init_default("num_cpus", 2)
    hook.init()
    assert hook.cluster_resources()["CPU"] == 2


def test_current_without_the_hook_is_an_error():
    with pytest.raises(RuntimeError, match="not installed"):
        dropin.current()
