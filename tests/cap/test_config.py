"""Bad input gets a clear error naming the argument; the same seed gives a byte-identical history."""

from __future__ import annotations

import json

import pytest

from dsai.cap import CapConfig, CapConfigError, Cluster, run
from dsai.check import parse_history
from dsai.errors import DsaiError


@pytest.mark.parametrize("kwargs, message", [
    ({"mode": "cpp"}, "unknown mode 'cpp'; choose one of cp, cp-local-reads, ap-lww, ap-vv, dynamo"),
    ({"nemesis": "chaos"}, "unknown nemesis 'chaos'; choose one of none, partition"),
    ({"workload": "queue"}, "unknown workload 'queue'"),
    ({"nodes": 0}, "nodes must be a positive integer, got 0"),
    ({"ops": 2.5}, "ops must be a positive integer, got 2.5"),
    ({"timeout": 0}, "timeout must be > 0 seconds"),
    ({"loss": 1.5}, "loss must be a probability in [0, 1]"),
    ({"clients": 0}, "clients must be a positive integer"),
])
def test_bad_settings_name_the_argument(kwargs, message):
    with pytest.raises(CapConfigError) as info:
        CapConfig(**kwargs)
    assert message in str(info.value)
    assert isinstance(info.value, DsaiError) and isinstance(info.value, ValueError)


def test_cas_without_from_and_to_is_refused():
    c = Cluster(CapConfig(mode="cp", nodes=3))
    errors = []

    def script():
        try:
            c.client(0).invoke("cas", "k0", 3)
        except ValueError as e:
            errors.append(str(e))

    c.spawn(script)
    c.run_until_idle()
    assert errors == ["cas needs value=[from, to], got 3"]
    assert c.history_text() == ""  # nothing was recorded for the refused call


def test_invoke_outside_a_process_is_explained():
    c = Cluster(CapConfig(mode="cp", nodes=3))
    with pytest.raises(RuntimeError, match="inside cluster.spawn"):
        c.client(0).read("k0")


@pytest.mark.parametrize("mode", ["cp", "ap-lww", "ap-vv", "dynamo"])
def test_same_seed_byte_identical_history(mode):
    a = run(mode=mode, nemesis="mix", seed=11, ops=60)
    b = run(mode=mode, nemesis="mix", seed=11, ops=60)
    assert a.history == b.history and a.history
    assert json.dumps(a.summary(), sort_keys=True) == json.dumps(b.summary(), sort_keys=True)
    assert run(mode=mode, nemesis="mix", seed=12, ops=60).history != a.history


def test_history_is_well_formed_and_complete():
    r = run(mode="cp", nemesis="partition", seed=2, ops=60)
    h = parse_history(r.history.splitlines(), "run", model="cas-register")
    ops = h.operations()
    assert len(ops) == 60 == r.metrics["ops"]
    assert sum(sum(row.values()) for row in r.metrics["counts"].values()) == 60
    assert all(op.complete is not None for op in ops)  # every op got ok, fail or info
    assert [json.loads(line)["time"] for line in r.history.splitlines()] == sorted(
        json.loads(line)["time"] for line in r.history.splitlines())


def test_history_is_byte_identical_across_interpreters(tmp_path):
    """Python salts str hashes per process: no set iteration order may leak into the history."""
    import os
    import subprocess
    import sys

    files = []
    for salt in ("1", "2"):
        path = tmp_path / f"h{salt}.jsonl"
        env = {**os.environ, "PYTHONHASHSEED": salt}
        subprocess.run([sys.executable, "-m", "dsai.cli", "cap-run", "--mode", "ap-vv", "--nemesis", "mix",
                        "--seed", "7", "--ops", "60", "--history", str(path)],
                       check=True, env=env, capture_output=True)
        files.append(path.read_bytes())
    assert files[0] == files[1] and files[0]
