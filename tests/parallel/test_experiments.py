"""`dsai experiments`: the JSON has the contracted shape, every measured figure equals its
theory where the theory is exact, progress goes to stderr, and bad input exits 2."""

from __future__ import annotations

import json

import pytest

from dsai.cli import main as dsai_main
from dsai.parallel import experiments


OURS = ["training", "allreduce", "equivalence"]  # this branch's sections


@pytest.fixture(scope="module")
def output():
    """One run of `dsai experiments --json` over this branch's sections, shared by the tests
    (the model-parallel sections are tested with their own modules)."""
    import io
    import sys
    from contextlib import redirect_stderr, redirect_stdout

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = dsai_main(["experiments", "--json", "--only", *OURS])
    assert code == 0, err.getvalue()
    print(err.getvalue(), file=sys.stderr)
    return json.loads(out.getvalue()), err.getvalue()


ROW_KEYS = {"algorithm", "workers", "elements", "bytes_per_element", "payload_bytes_per_worker_max",
            "bytes_per_worker_max", "seconds", "theory_payload_bytes", "theory_seconds"}


def test_json_has_the_requested_sections_in_registry_order(output):
    data, _ = output
    assert list(data) == [name for name in experiments.SECTIONS if name in OURS]


def test_allreduce_rows_cover_ring_at_2_4_8_and_every_algorithm_at_4(output):
    rows = output[0]["allreduce"]
    assert all(ROW_KEYS <= set(r) for r in rows)
    assert {r["workers"] for r in rows if r["algorithm"] == "ring"} >= {2, 4, 8}
    assert {r["algorithm"] for r in rows if r["workers"] == 4} == {"naive", "ps", "tree", "ring"}


def test_measured_payload_equals_theory_exactly(output):
    for r in output[0]["allreduce"]:
        assert r["payload_bytes_per_worker_max"] == r["theory_payload_bytes"], r
        if r["algorithm"] == "ring":
            m = r["elements"] * r["bytes_per_element"]
            assert r["payload_bytes_per_worker_max"] == 2 * (r["workers"] - 1) * m // r["workers"]
        if r["algorithm"] == "ps":
            assert r["server_payload_bytes"] == r["theory_server_payload_bytes"]
            assert r["server_payload_bytes"] == 2 * r["workers"] * r["elements"] * 8 // r["shards"]


def test_wire_bytes_are_payload_plus_headers(output):
    for r in output[0]["allreduce"]:
        extra = r["bytes_per_worker_max"] - r["payload_bytes_per_worker_max"]
        assert 0 < extra < 200 * 2 * r["workers"]  # ~121 bytes per transfer, never zero
        assert 100 < r["header_bytes_per_transfer"] < 200


def test_virtual_time_is_the_alpha_beta_model_plus_headers(output):
    for r in output[0]["allreduce"]:
        assert r["seconds"] >= r["theory_seconds"]
        if r["algorithm"] != "ps" or r["shards"] == 1:
            # (up to 1 us more: the first calls' specs, a few hundred bytes, queue on the driver's link)
            assert r["seconds"] == pytest.approx(r["theory_seconds_with_headers"], abs=1e-6), r


def test_results_match_numpy(output):
    assert all(r["max_abs_error_vs_numpy"] < 1e-12 for r in output[0]["allreduce"])


TRAINING_KEYS = {"mode", "workers", "staleness_bound", "shards", "test_accuracy", "virtual_seconds",
                 "max_staleness"}


def test_training_rows_compare_modes_and_keep_their_staleness_promises(output):
    rows = output[0]["training"]
    assert all(TRAINING_KEYS <= set(r) for r in rows)
    assert {r["mode"] for r in rows} == {"sync", "async", "ssp"}
    for r in rows:
        assert 0 < r["test_accuracy"] <= 1 and r["virtual_seconds"] > 0
        if r["theory_max_staleness"] is not None:
            assert r["max_staleness"] <= r["theory_max_staleness"], r
    sync = [r for r in rows if r["mode"] == "sync" and r["straggler_slowdown"] == 1.0 and r["shards"] == 1]
    assert sync and sync[0]["test_accuracy"] >= 0.95
    slow = {r["mode"]: r for r in rows if r["straggler_slowdown"] == 4.0}
    # A 4x straggler holds BSP back; asynchronous training does not wait for it.
    assert slow["async"]["virtual_seconds"] < slow["sync"]["virtual_seconds"]
    assert slow["async"]["max_staleness"] > slow["ssp"]["max_staleness"]


def test_equivalence_is_within_the_bound(output):
    eq = output[0]["equivalence"]
    assert 0 <= eq["data_parallel_max_abs_diff"] <= 1e-10


def test_progress_lines_go_to_stderr(output):
    _, err = output
    assert err.count("[allreduce] ") >= 9 and "[equivalence]" in err and err.count("[training] ") >= 5


def test_table_puts_theory_beside_measurement(capsys):
    assert experiments.main(["--only", "equivalence"]) == 0
    out = capsys.readouterr().out
    assert "Data parallelism" in out and "max |w_dp - w_1|" in out and "bound" in out


def test_unknown_section_exits_2(capsys):
    assert experiments.main(["--only", "nope"]) == 2
    assert "unknown section 'nope'" in capsys.readouterr().err


def test_same_json_every_run():
    import io
    from contextlib import redirect_stderr, redirect_stdout

    outs = []
    for _ in range(2):
        out = io.StringIO()
        with redirect_stdout(out), redirect_stderr(io.StringIO()):
            experiments.main(["--json", "--only", "equivalence"])
        outs.append(out.getvalue())
    assert outs[0] == outs[1]
