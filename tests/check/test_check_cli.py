"""`dsai check-history`: one JSON object per file, exit 0 / 1 / 2, bad files never judged valid."""

from __future__ import annotations

import json

import pytest

from dsai import cli as dsai_cli
from dsai.check import Event, write_history
from dsai.check.cli import check_file, main


def _write(path, *rows):
    events = []
    for row in rows:
        process, type_, f, *rest = row.split(" ", 3)
        events.append(Event(int(process), type_, f, "x", json.loads(rest[0]) if rest else None))
    write_history(events, path)
    return str(path)


@pytest.fixture
def files(tmp_path):
    good = _write(tmp_path / "good.jsonl", "0 invoke write 1", "0 ok write 1", "1 invoke read", "1 ok read 1")
    bad = _write(tmp_path / "bad.jsonl", "0 invoke write 1", "0 ok write 1", "1 invoke read", "1 ok read 2")
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"process": 0, "type": "invoke", "f": "write", "value": 1}\n{"process": 0, "type": "ok"\n')
    hard = tmp_path / "hard.jsonl"
    events = [Event(p, "invoke", "write", None, p) for p in range(22)] + [Event(p, "ok", "write", None, p) for p in range(22)]
    write_history(events + [Event(99, "invoke", "read"), Event(99, "ok", "read", None, -1)], hard)
    return {"good": good, "bad": bad, "broken": str(broken), "hard": str(hard)}


def _json_lines(capsys):
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_all_valid_exits_0(files, capsys):
    assert main([files["good"], "--model", "cas-register", "--json"]) == 0
    (report,) = _json_lines(capsys)
    assert report["file"] == files["good"] and report["valid"] is True
    assert report["ops"] == 2 and report["model"] == "cas-register" and "elapsed_s" in report


def test_some_invalid_exits_1_with_one_object_per_file(files, capsys):
    assert main([files["good"], files["bad"], "--model", "cas-register", "--json"]) == 1
    reports = _json_lines(capsys)
    assert [(r["file"], r["valid"]) for r in reports] == [(files["good"], True), (files["bad"], False)]
    assert "read of key 'x' returned 2" in reports[1]["explanation"]
    assert reports[1]["invalid_keys"] == ["x"]


def test_malformed_file_is_never_valid_and_exits_2(files, capsys):
    assert main([files["good"], files["broken"], files["bad"], "--model", "cas-register", "--json"]) == 2
    reports = _json_lines(capsys)
    assert reports[1]["valid"] == "unknown"
    assert reports[1]["error"].startswith(f"{files['broken']}, line 2: not valid JSON")
    assert [r["valid"] for r in reports] == [True, "unknown", False]


def test_missing_file_and_wrong_model_are_bad_input(files, tmp_path, capsys):
    assert main([str(tmp_path / "nope.jsonl"), "--model", "kv", "--json"]) == 2
    assert "cannot read the history" in _json_lines(capsys)[0]["error"]
    assert main([files["good"], "--model", "kv"]) == 2
    assert "ERROR (not checked)" in capsys.readouterr().out


def test_timeout_gives_unknown_and_exit_2(files, capsys):
    assert main([files["hard"], "--model", "cas-register", "--timeout", "0.2", "--json"]) == 2
    assert _json_lines(capsys)[0]["valid"] == "unknown"


def test_human_readable_output(files, capsys):
    assert main([files["good"], files["bad"], "--model", "cas-register"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"{files['good']}: linearizable (cas-register, 2 ops, 1 key(s), ")
    assert out[1].startswith(f"{files['bad']}: NOT linearizable")
    assert out[2].startswith("  read of key 'x' returned 2 (process 1, lines 3-4)")


def test_usage_errors_exit_2(files, capsys):
    assert main([files["good"]]) == 2  # --model is required
    assert main([files["good"], "--model", "queue"]) == 2
    assert main([files["good"], "--model", "kv", "--timeout", "-1"]) == 2
    assert main(["--help"]) == 0
    assert "check-history" in capsys.readouterr().out


def test_foreign_formats_and_dispatch_through_dsai(tmp_path, capsys):
    log = tmp_path / "etcd.log"
    log.write_text("noise line\nINFO  jepsen.util - 0\t:invoke\t:write\t3\nINFO  jepsen.util - 0\t:ok\t:write\t3\n"
                   "INFO  jepsen.util - 1\t:invoke\t:read\tnil\nINFO  jepsen.util - 1\t:ok\t:read\t3\n")
    assert dsai_cli.main(["check-history", str(log), "--model", "cas-register", "--format", "jepsen-log", "--json"]) == 0
    assert _json_lines(capsys)[0]["valid"] is True
    edn = tmp_path / "kv.edn"
    edn.write_text('{:process 0, :type :invoke, :f :put, :key "k", :value "v"}\n'
                   '{:process 0, :type :ok, :f :put, :key "k", :value "v"}\n'
                   '{:process 1, :type :invoke, :f :get, :key "k", :value nil}\n'
                   '{:process 1, :type :ok, :f :get, :key "k", :value ""}\n')
    assert main([str(edn), "--model", "kv", "--format", "edn"]) == 1
    assert "get of key 'k' returned ''" in capsys.readouterr().out
    report = check_file(str(log), "kv", fmt="jepsen-log")
    assert report["valid"] == "unknown" and "not a kv operation" in report["error"]


def test_bad_lines_in_foreign_formats_name_the_line(tmp_path):
    log = tmp_path / "etcd.log"
    log.write_text("INFO  jepsen.util - 0\t:invoke\t:write\t3\nINFO  jepsen.util - 0\t:ok\n")
    assert "line 2: looks like a jepsen.util event but does not parse" in check_file(str(log), "cas-register", fmt="jepsen-log")["error"]
    edn = tmp_path / "kv.edn"
    edn.write_text('{:process 0, :type :invoke, :f :get, :key "k", :value nil}\n{:process 0 :type}\n')
    assert "line 2: cannot read the map entry" in check_file(str(edn), "kv", fmt="edn")["error"]


def test_an_empty_file_is_bad_input(tmp_path, capsys):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    assert main([str(empty), "--model", "kv", "--json"]) == 2
    report = _json_lines(capsys)[0]
    assert report["valid"] == "unknown" and "no events" in report["error"]


def test_memory_budget_gives_unknown_and_exit_2(files, capsys):
    assert main([files["hard"], "--model", "cas-register", "--max-states", "5000", "--json"]) == 2
    report = _json_lines(capsys)[0]
    assert report["valid"] == "unknown" and "memory budget of 5000" in report["explanation"]
    assert 5000 < report["states_explored"] < 5000 + 4096 + 1  # stops within one slice of the budget
    assert main([files["hard"], "--model", "cas-register", "--max-states", "0"]) == 2
