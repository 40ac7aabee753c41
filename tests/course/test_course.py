"""dsai.course: the lesson setup call and the skip guard."""

import pytest

from dsai import course


def test_simulated_follows_the_backend_variable(monkeypatch):
    monkeypatch.delenv("DSAI_BACKEND", raising=False)
    assert course.simulated()
    monkeypatch.setenv("DSAI_BACKEND", "ray")
    assert not course.simulated()


def test_needs_simulator_says_why_on_real_ray(monkeypatch, capsys):
    monkeypatch.setenv("DSAI_BACKEND", "ray")
    assert course.needs_simulator("this plot reads the virtual clock") is False
    out = capsys.readouterr().out
    assert "Skipped on real Ray: this plot reads the virtual clock" in out


def test_needs_simulator_is_silent_on_the_simulator(monkeypatch, capsys):
    monkeypatch.delenv("DSAI_BACKEND", raising=False)
    assert course.needs_simulator("anything") is True
    assert capsys.readouterr().out == ""


def test_start_reports_the_cluster(monkeypatch, capsys):
    monkeypatch.delenv("DSAI_BACKEND", raising=False)
    from dsai import ray

    course.start(num_cpus=3, seed=5)
    try:
        assert ray.cluster_resources()["CPU"] == 3
        assert capsys.readouterr().out == "Simulated cluster: 1 node(s), 3 CPUs, virtual time from 0.0 s.\n"
    finally:
        ray.shutdown()


def test_start_retries_once_when_real_rays_startup_times_out(monkeypatch, capsys):
    """Only real Ray's start-up timeout is retried, once; any other error goes to the student."""
    import types

    calls = []

    def init(**kwargs):
        calls.append(kwargs)
        if len(calls) == 1:
            raise Exception("The current node timed out during startup. This could happen ...")
        return "context"

    fake = types.SimpleNamespace(init=init, shutdown=lambda: calls.append("shutdown"),
                                 cluster_resources=lambda: {"CPU": 2.0}, nodes=lambda: [{"Alive": True}],
                                 __version__="2.60.0")
    import dsai

    monkeypatch.setenv("DSAI_BACKEND", "ray")
    monkeypatch.setattr(dsai, "ray", fake, raising=False)
    monkeypatch.setitem(__import__("sys").modules, "dsai.ray", fake)
    assert course.start(num_cpus=2) == "context"
    assert calls == [{"num_cpus": 2, "address": "local"}, "shutdown", {"num_cpus": 2, "address": "local"}]
    assert "trying once more" in capsys.readouterr().out

    calls.clear()

    def broken(**kwargs):
        calls.append(kwargs)
        raise ValueError("num_cpus must be a non-negative number")

    fake.init = broken
    with pytest.raises(ValueError):
        course.start(num_cpus=-1)
    assert len(calls) == 1


def test_existing_cluster_follows_rays_ray_address_convention(monkeypatch):
    monkeypatch.setenv("RAY_ADDRESS", "10.0.0.5:6379")
    monkeypatch.delenv("DSAI_BACKEND", raising=False)
    assert course.existing_cluster() is None  # the simulator has no clusters outside this process
    monkeypatch.setenv("DSAI_BACKEND", "ray")
    assert course.existing_cluster() == "10.0.0.5:6379"
    for private in ("", "local", " local "):
        monkeypatch.setenv("RAY_ADDRESS", private)
        assert course.existing_cluster() is None
    monkeypatch.delenv("RAY_ADDRESS")
    assert course.existing_cluster() is None


def test_start_joins_the_cluster_ray_address_names_and_says_what_is_short(monkeypatch, capsys):
    """On an existing cluster Ray refuses num_cpus/num_gpus: start leaves them out, joins, and
    says what it found and what the lesson needed that the cluster lacks."""
    import types

    calls = []
    fake = types.SimpleNamespace(
        init=lambda **kw: calls.append(kw) or "context", shutdown=lambda: calls.append("shutdown"),
        is_initialized=lambda: False, cluster_resources=lambda: {"CPU": 2.0, "GPU": 1.0},
        nodes=lambda: [{"Alive": True}, {"Alive": True}, {"Alive": False}], __version__="2.60.0")
    import dsai

    monkeypatch.setenv("DSAI_BACKEND", "ray")
    monkeypatch.setenv("RAY_ADDRESS", "10.0.0.5:6379")
    monkeypatch.setattr(dsai, "ray", fake, raising=False)
    monkeypatch.setitem(__import__("sys").modules, "dsai.ray", fake)
    assert course.start(num_cpus=4, num_gpus=4, seed=3) == "context"
    assert calls == [{"address": "10.0.0.5:6379"}]
    out = capsys.readouterr().out
    assert out.startswith("Real Ray 2.60.0: joined the cluster at RAY_ADDRESS=10.0.0.5:6379: "
                          "2 node(s), 2 CPUs, 1 GPUs, wall-clock time; this lesson is written for 4 CPUs")
    assert "it uses 4 GPUs" in out and "ray start --num-gpus=N" in out
    calls.clear()
    fake.cluster_resources = lambda: {"CPU": 8.0}
    course.start(num_cpus=4)
    assert calls == [{"address": "10.0.0.5:6379"}]
    assert capsys.readouterr().out == ("Real Ray 2.60.0: joined the cluster at RAY_ADDRESS=10.0.0.5:6379: "
                                       "2 node(s), 8 CPUs, wall-clock time.\n")
