"""`dsai experiments` sections pipeline, tensor, memory and the equivalence keys: shapes and figures beside theory."""

import json

import pytest

from dsai import ray
from dsai.parallel import exp_mp_equivalence, experiments


@pytest.fixture(scope="module")
def sections():
    out = {s.name: s for s in experiments.run_sections(["pipeline", "tensor", "memory"],
                                                        progress=lambda line: None)}
    ray.shutdown()
    return out


def test_pipeline_rows(sections):
    rows = sections["pipeline"].data
    keys = {"schedule", "stages", "microbatches", "chunks", "bubble_fraction", "theory_bubble_fraction",
            "peak_activations"}
    assert all(keys <= set(r) for r in rows)
    for name in ("naive", "gpipe", "1f1b", "interleaved"):  # >= 2 (p, m) pairs per schedule
        assert len({(r["stages"], r["microbatches"]) for r in rows if r["schedule"] == name}) >= 2
    for r in rows:
        assert abs(r["bubble_fraction"] - r["theory_bubble_fraction"]) <= 0.02, r
        assert r["peak_activations"] == r["theory_peak_activations"], r
        assert 0 <= r["bytes_between_stages"] - r["theory_payload_bytes"] < 256 * 2 * r["microbatches"] \
            * (r["stages"] * r["chunks"] - 1)
    json.dumps(rows)
    assert "bubble" in sections["pipeline"].table()


def test_tensor_rows(sections):
    rows = sections["tensor"].data
    assert [r["degree"] for r in rows] == [1, 2, 4]
    for r in rows:
        assert r["allreduce_bytes_per_device"] == r["theory_bytes"]
        assert r["allreduces_per_block"] == 2 and r["max_abs_diff"] <= 1e-10


def test_memory_rows(sections):
    rows = sections["memory"].data
    keys = {"stage", "devices", "parameters", "bytes_per_device_formula", "bytes_per_device_measured"}
    assert all(keys <= set(r) for r in rows)
    paper = [round(r["bytes_per_device_formula"] / 1e9, 1) for r in rows if r["devices"] == 64]
    assert paper == [120.0, 31.4, 16.6, 1.9]
    measured = [r for r in rows if r["bytes_per_device_measured"] is not None]
    assert [r["stage"] for r in measured] == [0, 1, 2, 3]
    for r in measured:
        assert 0 <= r["bytes_per_device_measured"] - r["bytes_per_device_formula"] < 64
        assert 0 <= r["comm_bytes_per_device"] - r["theory_comm_bytes"] < 64
    assert measured[3]["comm_bytes_per_device"] / measured[1]["comm_bytes_per_device"] == pytest.approx(1.5, abs=1e-4)


def test_equivalence_keys():
    try:
        assert exp_mp_equivalence.pipeline_max_abs_diff() <= 1e-10
        assert exp_mp_equivalence.tensor_parallel_max_abs_diff(2) <= 1e-10
    finally:
        ray.shutdown()
