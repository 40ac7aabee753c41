"""`dsai cap-run`: the JSON summary, the history file, and clear errors for bad arguments."""

from __future__ import annotations

import json

from dsai.cap.cli import main
from dsai.check.cli import main as check_main


def test_json_summary_has_the_contract_fields(capsys, tmp_path):
    path = tmp_path / "h.jsonl"
    rc = main(["--mode", "ap-lww", "--nodes", "5", "--seed", "3", "--nemesis", "partition", "--ops", "60",
               "--history", str(path), "--json"])
    assert rc == 0
    s = json.loads(capsys.readouterr().out)
    for field in ("valid", "availability", "converged", "counts", "lost_writes", "msgs_per_op"):
        assert field in s
    assert s["availability"] == 1.0 and s["converged"] is True
    assert sum(sum(row.values()) for row in s["counts"].values()) == 60
    # the file checks the same way with dsai check-history
    rc = check_main([str(path), "--model", "cas-register", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] == s["valid"]
    assert rc == (0 if s["valid"] is True else 1)


def test_text_output_and_same_seed_same_file(capsys, tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    for p in (a, b):
        assert main(["--mode", "cp", "--seed", "4", "--nemesis", "isolate", "--ops", "40", "--history", str(p)]) == 0
    out = capsys.readouterr().out
    assert "cp on 5 nodes, nemesis isolate, seed 4: linearizable" in out
    assert a.read_bytes() == b.read_bytes()


def test_kv_workload_and_dynamo_flags(capsys):
    assert main(["--mode", "dynamo", "--r", "1", "--w", "1", "--ops", "30", "--workload", "kv", "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert (s["n"], s["r"], s["w"]) == (5, 1, 1) and s["workload"] == "kv"


def test_bad_arguments_exit_2_with_a_message(capsys):
    assert main(["--mode", "cpp"]) == 2
    assert "unknown mode 'cpp'; choose one of cp" in capsys.readouterr().err
    assert main(["--mode", "dynamo", "--nodes", "3", "--w", "4"]) == 2
    assert "quorum w=4 is larger than n=3" in capsys.readouterr().err
    assert main(["--nemesis", "storm"]) == 2
    assert "unknown nemesis 'storm'" in capsys.readouterr().err
    assert main(["--ops", "ten"]) == 2
    assert main(["--ops", "5", "--history", "/nonexistent-dir/h.jsonl"]) == 2
    assert "cannot write --history" in capsys.readouterr().err


def test_dispatched_by_the_dsai_command(capsys):
    from dsai.cli import main as dsai_main

    assert dsai_main(["cap-run", "--ops", "10", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ops"] == 10
