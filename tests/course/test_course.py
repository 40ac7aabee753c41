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
    assert calls == [{"num_cpus": 2}, "shutdown", {"num_cpus": 2}]
    assert "trying once more" in capsys.readouterr().out

    calls.clear()

    def broken(**kwargs):
        calls.append(kwargs)
        raise ValueError("num_cpus must be a non-negative number")

    fake.init = broken
    with pytest.raises(ValueError):
        course.start(num_cpus=-1)
    assert len(calls) == 1
