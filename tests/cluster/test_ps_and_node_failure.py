"""The parameter server on four real Ray nodes, and a worker node killed in the middle of training.

Two more nodes join the session's cluster for this module, so the server and
the two workers each get a node of their own (`dsai.ps` pins one actor per
node when the cluster has a node per actor besides the driver's). Sync
training is deterministic (each clock's gradients are averaged in worker
order), so its weights must equal the simulator's bit for bit; async training
must learn. Then a worker's node is killed while training runs, and training
goes on without that worker, as lesson 03 says ("training goes on without it
and its shard is no longer trained on").
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pytest

STEPS = 30


@pytest.fixture(scope="module")
def four_nodes(cluster) -> Iterator[list]:
    """Two more nodes (1 CPU each) for this module; stopped at its end if still alive."""
    from dsai import ray

    if not ray.is_initialized():
        ray.init(address=cluster.address, log_to_driver=False)
    added = [cluster.add_node(cpus=1), cluster.add_node(cpus=1)]
    deadline = time.monotonic() + 60
    while len([n for n in ray.nodes() if n["Alive"]]) < 4:
        assert time.monotonic() < deadline, "the two added nodes never joined"
        time.sleep(0.5)
    try:
        yield added
    finally:
        for node in added:
            node.stop()


@pytest.fixture
def placements(monkeypatch) -> list[dict[str, Any]]:
    """Records, at the end of each `ps.train`, the node of every server and worker actor."""
    import importlib

    from dsai import ray

    train_module = importlib.import_module("dsai.ps.train")  # the module (dsai.ps.train is also a function)

    seen: list[dict[str, Any]] = []
    finish = train_module._Run._finish

    def node_of(actor: Any) -> str | None:
        try:
            return ray.get(actor.__ray_call__.remote(
                lambda self: ray.get_runtime_context().get_node_id()), timeout=30)
        except ray.exceptions.RayActorError:
            return None  # the actor died with its node

    def spy(self):
        seen.append({"servers": [node_of(s) for s in self.servers],
                     "workers": [node_of(w) for w in self.workers]})
        return finish(self)

    monkeypatch.setattr(train_module._Run, "_finish", spy)
    return seen


def _simulator_weights(config: dict[str, Any]) -> np.ndarray:
    """The same training on the simulator, in a process of its own (one backend per process)."""
    code = ("import json, sys; from dsai import ray, ps; ray.init(num_cpus=4); "
            f"r = ps.train(ps.PSConfig(**{config!r})); print(json.dumps(r.weights.tolist()))")
    env = {k: v for k, v in os.environ.items() if k not in ("DSAI_BACKEND", "RAY_ADDRESS")}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return np.array(json.loads(done.stdout.strip().splitlines()[-1]))


def test_sync_ps_on_four_nodes_equals_the_simulator(four_nodes, placements):
    from dsai import ps

    config = {"mode": "sync", "workers": 2, "shards": 1, "steps": STEPS, "eval_every": 1000}
    result = ps.train(ps.PSConfig(**config))
    [where] = placements
    assert len(set(where["servers"] + where["workers"])) == 3  # server and workers: a node each
    assert result.gradients_by_worker() == {0: STEPS, 1: STEPS}
    np.testing.assert_array_equal(result.weights, _simulator_weights(config))


def test_async_ps_on_four_nodes_learns(four_nodes, placements):
    from dsai import ps

    result = ps.train(ps.PSConfig(mode="async", workers=2, shards=1, steps=STEPS, eval_every=1000))
    [where] = placements
    assert len(set(where["servers"] + where["workers"])) == 3
    assert len(result.history) == 2 * STEPS and result.stopped is None
    assert result.test_accuracy > 0.5  # chance is 0.1; the simulator's run reaches ~0.8


def _pause_at(flag_dir: str, call: int):
    """The servers' apply step, holding on at its `call`-th call until the test says the node is down.

    So the node dies at a known point of the run (after `call - 1` updates, with
    training blocked on the server), however fast or slow the machine is.
    """
    calls = [0]

    def apply(w, velocity, grads, lr, momentum):
        from dsai.ps import apply_gradients

        calls[0] += 1
        if calls[0] == call:
            Path(flag_dir, "ready").touch()
            deadline = time.monotonic() + 300
            while not Path(flag_dir, "killed").exists() and time.monotonic() < deadline:
                time.sleep(0.1)
        apply_gradients(w, velocity, grads, lr, momentum)

    return apply


def test_killing_a_worker_node_mid_run_training_goes_on(cluster, four_nodes, placements, tmp_path):
    from dsai import ray, ps
    import ray.cloudpickle

    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the apply step ships by value
    nodes = [n for n in ray.nodes() if n["Alive"]]
    ids = [n["NodeID"] for n in nodes]
    head = next(n["NodeID"] for n in nodes if "node:__internal_head__" in n["Resources"])
    # dsai.ps puts server shard 0 on ids[1] and worker j on ids[2 + j]: kill a worker whose
    # node is not the head (at most one of the two can be).
    victim = 1 if ids[3] != head else 0
    victim_node = ids[2 + victim]
    by_id = {node.node_id(): node for node in cluster.nodes}
    assert victim_node in by_id, "the victim's node is not one this test's cluster started"

    done = {}

    def killer() -> None:
        ready = tmp_path / "ready"
        deadline = time.monotonic() + 300
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        if ready.exists():
            cluster.kill_node(by_id[victim_node])
            done["killed"] = True
            wait_until = time.monotonic() + 60
            while any(n["NodeID"] == victim_node and n["Alive"] for n in ray.nodes()):
                if time.monotonic() > wait_until:
                    break
                time.sleep(0.5)
        (tmp_path / "killed").touch()

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    result = ps.train(ps.PSConfig(mode="sync", workers=2, shards=1, steps=STEPS, eval_every=1000),
                      apply=_pause_at(str(tmp_path), call=5))
    thread.join(60)
    assert done.get("killed"), "training ended before the node was killed"
    [where] = placements
    assert where["workers"][victim] is None  # its actor died with its node
    assert result.stopped is None, result.stopped
    assert any(f"worker {victim} died" in e for e in result.events), result.events
    by_worker = result.gradients_by_worker()
    assert by_worker[1 - victim] == STEPS  # the other worker trained to the end
    assert by_worker.get(victim, 0) <= 5  # at most the clocks up to the paused update
    assert result.test_accuracy > 0.5

