"""runtime_env={"env_vars": {...}}: per job (ray.init) and per task or actor, seen in os.environ by that work only.

A child task inherits its caller's env_vars and its own are merged on top.
Other runtime_env fields install or ship things: the simulator refuses them
with a NotImplementedError naming the field (a documented difference).
"""

from __future__ import annotations

import os

import pytest


def _reader(ray):
    @ray.remote
    def read(*names):
        return [os.environ.get(n) for n in names]

    return read


def test_task_env_vars_are_seen_by_that_task_only(ray):
    read = _reader(ray)
    env = {"DSAI_T_COLOR": "blue"}
    assert ray.get(read.options(runtime_env={"env_vars": env}).remote("DSAI_T_COLOR")) == ["blue"]
    assert ray.get(read.remote("DSAI_T_COLOR")) == [None]
    assert os.environ.get("DSAI_T_COLOR") is None  # not in the driver


def test_actor_env_vars_reach_its_calls_and_its_children_inherit_them(ray):
    read = _reader(ray)

    @ray.remote(runtime_env={"env_vars": {"DSAI_A_ROLE": "server", "DSAI_A_LEVEL": "1"}})
    class Server:
        def env(self):
            return [os.getenv("DSAI_A_ROLE"), os.getenv("DSAI_A_LEVEL")]

        def child(self):
            own = read.options(runtime_env={"env_vars": {"DSAI_A_LEVEL": "2"}})
            return ray.get([read.remote("DSAI_A_ROLE", "DSAI_A_LEVEL"),
                            own.remote("DSAI_A_ROLE", "DSAI_A_LEVEL")])

    s = Server.remote()
    assert ray.get(s.env.remote()) == ["server", "1"]
    assert ray.get(s.child.remote()) == [["server", "1"], ["server", "2"]]  # merged, its keys win
    ray.kill(s)


def test_env_vars_must_be_strings(ray):
    read = _reader(ray)
    with pytest.raises(TypeError, match=r"runtime_env\['env_vars'\] must be of type Dict\[str, str\]"):
        ray.get(read.options(runtime_env={"env_vars": {"DSAI_N": 1}}).remote("DSAI_N"))


@pytest.mark.own_cluster
def test_job_env_vars_from_ray_init(bare_ray):
    ray = bare_ray
    extra = {} if ray.__name__.startswith("dsai") else {"include_dashboard": False, "log_to_driver": False}
    ray.init(num_cpus=2, runtime_env={"env_vars": {"DSAI_JOB": "yes", "DSAI_JOB_X": "job"}}, **extra)
    read = _reader(ray)
    assert ray.get(read.remote("DSAI_JOB")) == ["yes"]
    own = read.options(runtime_env={"env_vars": {"DSAI_JOB_X": "task"}})
    assert ray.get(own.remote("DSAI_JOB", "DSAI_JOB_X")) == ["yes", "task"]


@pytest.mark.sim_only(reason="real Ray installs packages (pip, conda) and ships files (working_dir, "
                      "py_modules); the simulator's workers run in the driver's process, so it refuses "
                      "every runtime_env field but env_vars with a NotImplementedError naming it")
def test_other_runtime_env_fields_are_refused_by_name(ray):
    read = _reader(ray)
    for field, value in (("pip", ["requests"]), ("working_dir", "."), ("conda", "env")):
        with pytest.raises(NotImplementedError, match=f"'{field}' are not simulated"):
            read.options(runtime_env={field: value}).remote()
    with pytest.raises(NotImplementedError, match="'py_modules'"):
        ray.shutdown()
        ray.init(runtime_env={"py_modules": []})
