"""Conformance: cluster/available resources, runtime context, timeline, exception classes."""

import json
import re

import pytest

HEX = re.compile(r"^[0-9a-f]+$")


def test_cluster_resources_keys(ray):
    res = ray.cluster_resources()
    assert res["CPU"] == 4.0 and res["GPU"] == 1.0 and res["special"] == 2.0
    assert all(isinstance(v, float) for v in res.values())
    assert "memory" in res and "object_store_memory" in res
    assert any(k.startswith("node:") for k in res)
    assert res.get("node:__internal_head__") == 1.0
    avail = ray.available_resources()
    assert set(avail) <= set(res)
    assert avail["GPU"] == 1.0 and avail["special"] == 2.0


def test_runtime_context_on_driver(ray):
    ctx = ray.get_runtime_context()
    assert ctx.namespace == "conformance"
    assert ctx.get_job_id() == ray.get_runtime_context().get_job_id()
    job = ctx.get_job_id()
    assert isinstance(job, str) and HEX.match(job) and len(job) == 8
    node = ctx.get_node_id()
    assert isinstance(node, str) and len(node) == 56 and HEX.match(node)
    assert ctx.get_actor_id() is None
    assert ray.get_gpu_ids() == []


def test_runtime_context_in_task(ray):
    @ray.remote(num_gpus=1)
    def info():
        c = ray.get_runtime_context()
        return {
            "task": c.get_task_id(), "actor": c.get_actor_id(), "node": c.get_node_id(),
            "job": c.get_job_id(), "res": c.get_assigned_resources(), "ns": c.namespace,
            "name": c.get_task_name(),
        }

    got = ray.get(info.remote())
    drv = ray.get_runtime_context()
    assert isinstance(got["task"], str) and len(got["task"]) == 48 and HEX.match(got["task"])
    assert got["actor"] is None
    assert got["node"] == drv.get_node_id()
    assert got["job"] == drv.get_job_id()
    assert got["res"] == {"CPU": 1.0, "GPU": 1.0}
    assert got["ns"] == "conformance"
    assert got["name"] == "info"


def test_runtime_context_in_actor(ray, names):
    @ray.remote
    class Who:
        def info(self):
            c = ray.get_runtime_context()
            return {"actor": c.get_actor_id(), "name": c.get_actor_name(), "task": c.get_task_id(),
                    "task_name": c.get_task_name(), "recon": c.was_current_actor_reconstructed,
                    "me": repr(c.current_actor)}

    name = names("who")
    w = Who.options(name=name).remote()
    got = ray.get(w.info.remote())
    assert isinstance(got["actor"], str) and len(got["actor"]) == 32 and HEX.match(got["actor"])
    assert got["name"] == name
    assert got["task_name"] == "Who.info"
    assert len(got["task"]) == 48 and got["task"].endswith(got["actor"][-8:])
    assert got["recon"] is False
    assert got["me"] == repr(w) == f"Actor(test_runtime_context_in_actor.<locals>.Who, {got['actor']})"


def test_timeline_events(ray, tmp_path):
    @ray.remote
    def traced(x):
        return x

    ray.get([traced.remote(i) for i in range(3)])
    # Real Ray ships task events to the GCS asynchronously: poll briefly.
    import time

    deadline = time.monotonic() + 60  # (a loaded machine: seconds)
    events = []
    while time.monotonic() < deadline:
        events = [e for e in ray.timeline() if e.get("cat") == "task::traced"]
        if len(events) >= 3:
            break
        time.sleep(0.2)
    assert len(events) >= 3
    for ev in events:
        assert ev["ph"] == "X"
        assert isinstance(ev["ts"], float) and isinstance(ev["dur"], float) and ev["dur"] >= 0
        assert isinstance(ev["pid"], str) and ev["tid"].startswith("worker:")
        assert ev["name"].endswith("traced")
        assert isinstance(ev["args"], dict)
    out = tmp_path / "trace.json"
    assert ray.timeline(filename=str(out)) is None
    written = json.loads(out.read_text())
    assert isinstance(written, list) and all(e["ph"] == "X" for e in written)


def test_exception_hierarchy(ray):
    E = ray.exceptions
    assert issubclass(E.RayTaskError, E.RayError)
    assert issubclass(E.RayActorError, E.RayError)
    assert issubclass(E.ActorDiedError, E.RayActorError)
    assert issubclass(E.ActorUnavailableError, E.RayActorError)
    assert issubclass(E.TaskCancelledError, E.RayError)
    assert issubclass(E.GetTimeoutError, E.RayError) and issubclass(E.GetTimeoutError, TimeoutError)
    assert issubclass(E.ObjectLostError, E.RayError)
    assert issubclass(E.WorkerCrashedError, E.RayError)
    assert issubclass(E.RaySystemError, E.RayError)
    assert issubclass(E.ActorAlreadyExistsError, ValueError) and issubclass(E.ActorAlreadyExistsError, E.RayError)
    assert issubclass(E.TaskUnschedulableError, E.RayError)
    assert issubclass(E.ActorUnschedulableError, E.RayError)
    assert issubclass(E.RayError, Exception)


@pytest.mark.parametrize("kwargs", [{"ignore_reinit_error": True}])
def test_reinit_on_running_cluster(ray, kwargs):
    with pytest.raises(RuntimeError, match="Maybe you called ray.init twice by accident\\? This error can be suppressed by passing in 'ignore_reinit_error=True' or by calling 'ray.shutdown\\(\\)' prior to 'ray.init\\(\\)'."):
        ray.init()
    ray.init(**kwargs)  # ignored: the same cluster keeps running
    assert ray.is_initialized()
    assert ray.cluster_resources()["special"] == 2.0
