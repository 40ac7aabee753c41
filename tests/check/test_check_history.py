"""History format: strict reading (errors name file, line and fix), byte-stable writing, pairing."""

from __future__ import annotations

import io
import json

import pytest

from dsai.check import Event, History, HistoryWriter, dumps_event, parse_history, read_history, write_history
from dsai.errors import HistoryError

GOOD = [
    '{"process": 0, "type": "invoke", "f": "write", "key": "x", "value": 3, "time": 0.12}',
    '{"process": 1, "type": "invoke", "f": "read", "key": "x", "value": null, "time": 0.2}',
    '{"process": 0, "type": "ok", "f": "write", "key": "x", "value": 3, "time": 0.31}',
    '{"process": 1, "type": "ok", "f": "read", "key": "x", "value": 3, "time": 0.4}',
    '{"process": 2, "type": "invoke", "f": "cas", "key": "x", "value": [3, 4], "time": 0.5}',
    '{"process": 2, "type": "fail", "f": "cas", "key": "x", "value": [3, 4], "time": 0.6, "error": "timeout"}',
    '{"process": 3, "type": "invoke", "f": "write", "key": "x", "value": 5, "time": 0.7}',
]


def test_reads_events_and_pairs_operations(tmp_path):
    path = tmp_path / "h.jsonl"
    path.write_text("\n".join(GOOD) + "\n")
    history = read_history(path, model="cas-register")
    assert len(history) == 7
    assert history.events[4].value == (3, 4)  # cas [from, to] is a tuple: hashable
    ops = history.operations()
    assert [(op.f, op.outcome) for op in ops] == [("write", "ok"), ("read", "ok"), ("cas", "fail"), ("write", "info")]
    assert ops[1].output == 3 and ops[0].output is None
    assert ops[3].complete is None  # no completion: treated as info
    assert ops[2].complete.error == "timeout"
    assert ops[1].span() == "lines 2-4, t=0.2-0.4"
    assert "read x -> 3 (ok)" in repr(ops[1])
    assert repr(history).startswith("<History ") and "7 events" in repr(history)


def test_writer_output_is_byte_identical_and_round_trips(tmp_path):
    events = parse_history(GOOD).events
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    write_history(events, a)
    write_history(read_history(a).events, b)
    assert a.read_bytes() == b.read_bytes()
    assert a.read_text().splitlines() == GOOD  # canonical field order and separators
    assert read_history(a).events == events


def test_writer_api_records_as_it_goes():
    buf = io.StringIO()
    with HistoryWriter(buf, model="kv") as w:
        w.invoke(0, "append", "a", key="k", time=0.0)
        w.invoke(1, "get", key="k", time=0.1)
        w.ok(0, "append", "a", key="k", time=0.2)
        w.ok(1, "get", "a", key="k", time=0.3)
        w.invoke(2, "put", "z", key="k")
        w.info(2, "put", key="k", error="timed out")
        assert "6 events" in repr(w)
    lines = buf.getvalue().splitlines()
    assert json.loads(lines[0]) == {"process": 0, "type": "invoke", "f": "append", "key": "k", "value": "a", "time": 0.0}
    assert json.loads(lines[5]) == {"process": 2, "type": "info", "f": "put", "key": "k", "value": None, "error": "timed out"}
    assert [op.outcome for op in w.history().operations()] == ["ok", "ok", "info"]


def test_writer_rejects_a_bad_event_before_writing_it():
    buf = io.StringIO()
    w = HistoryWriter(buf)
    w.invoke(0, "write", 1)
    with pytest.raises(HistoryError, match="line 2: process 0 invokes read while its write from line 1"):
        w.invoke(0, "read")
    assert len(buf.getvalue().splitlines()) == 1
    w.close()
    with pytest.raises(HistoryError, match="closed"):
        w.ok(0, "write", 1)


def test_writer_accepts_lists_for_cas_and_in_memory_events_get_positions():
    buf = io.StringIO()
    w = HistoryWriter(buf)
    w.invoke("c1", "cas", [1, 2])
    w.ok("c1", "cas", [1, 2])
    assert buf.getvalue().splitlines()[0] == '{"process": "c1", "type": "invoke", "f": "cas", "value": [1, 2]}'
    history = History([Event(0, "invoke", "read"), Event(0, "ok", "read", value=None)])
    assert [e.line for e in history] == [1, 2]
    with pytest.raises(HistoryError, match="<history>, line 2: ok for process 1 without a matching invoke"):
        History([Event(0, "invoke", "read"), Event(1, "ok", "read")])


def test_blank_lines_are_skipped_but_counted():
    history = parse_history(["", GOOD[0], "   ", GOOD[2]])
    assert [e.line for e in history] == [2, 4]


def test_dumps_event_is_canonical():
    assert dumps_event(Event(0, "invoke", "cas", "x", (1, 2))) == '{"process": 0, "type": "invoke", "f": "cas", "key": "x", "value": [1, 2]}'
    assert repr(Event(0, "ok", "read", "x", 3, 0.5)) == "<Event p0 ok read key='x' 3 t=0.5>"


INV_W = '{"process": 0, "type": "invoke", "f": "write", "value": 1}'
OK_W = '{"process": 0, "type": "ok", "f": "write", "value": 1}'
MALFORMED = [
    ([INV_W, "{not json"], 2, "not valid JSON"),
    ([INV_W, '[1, 2]'], 2, "expected a JSON object"),
    (['{"process": 0, "type": "invoke", "f": "write", "value": 1, "node": 3}'], 1, "unknown field(s) 'node'"),
    (['{"type": "invoke", "f": "write", "value": 1}'], 1, "missing field 'process'"),
    (['{"process": 0, "type": "done", "f": "write", "value": 1}'], 1, "unknown 'type' 'done'"),
    (['{"process": 0, "type": "invoke", "f": "incr", "value": 1}'], 1, "unknown 'f' 'incr'"),
    ([OK_W], 1, "ok for process 0 without a matching invoke"),
    ([INV_W, INV_W], 2, "invokes write while its write from line 1 has no completion"),
    ([INV_W, '{"process": 0, "type": "info", "f": "write", "value": 1}', INV_W], 3, "already ended with an info"),
    (['{"process": 0, "type": "invoke", "f": "cas", "value": 3}'], 1, "a cas 'value' must be [from, to], got 3"),
    (['{"process": 0, "type": "invoke", "f": "cas", "value": [1, 2, 3]}'], 1, "must be [from, to]"),
    ([INV_W, '{"process": 0, "type": "ok", "f": "read", "value": 1}'], 2, "does not match process 0's invoke"),
    ([INV_W, '{"process": 0, "type": "ok", "f": "write", "value": 2}'], 2, "differs from its invoke's value 1"),
    (['{"process": 0, "type": "invoke", "f": "read", "value": null, "time": 2}',
      '{"process": 0, "type": "ok", "f": "read", "value": null, "time": 1}'], 2, "earlier than the previous"),
    ([INV_W, '{"process": 1, "type": "invoke", "f": "put", "key": "k", "value": "a"}'], 2, "one history, one model"),
    (['{"process": 0, "type": "invoke", "f": "put", "value": "a"}'], 1, "needs a 'key'"),
    (['{"process": 0, "type": "invoke", "f": "put", "key": "k", "value": 7}'], 1, "kv values are strings"),
    (['{"process": 0, "type": "invoke", "f": "write", "value": NaN}'], 1, "not valid JSON"),
    (['{"process": true, "type": "invoke", "f": "write", "value": 1}'], 1, "'process' must be an integer or string"),
    (['{"process": 0, "type": "invoke", "f": "read", "value": 5}'], 1, "carries no value"),
    ([INV_W, '{"process": 0, "type": "ok", "f": "write", "value": 1, "error": "x"}'], 2, "only fail and info"),
    (['{"process": 0, "type": "invoke", "f": "write", "value": {"a": 1}}'], 1, "register values must be"),
    (['{"process": 0, "type": "invoke", "f": "write", "key": 5, "value": 1}'], 1, "'key' must be a string"),
    (['{"process": 0, "type": "invoke", "f": "write", "value": 1, "time": "soon"}'], 1, "'time' must be a finite"),
    (['{:process 0, :type :invoke, :f :write, :value 1}'], 1, "use --format edn"),
    (['{"process": 0, "type": "invoke", "f": "write", "value": 1, "value": 2}'], 1, "field 'value' appears twice"),
]


@pytest.mark.parametrize("lines, line, message", MALFORMED, ids=[m[2][:30] for m in MALFORMED])
def test_malformed_history_names_file_and_line(tmp_path, lines, line, message):
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(HistoryError) as info:
        read_history(path)
    text = str(info.value)
    assert text.startswith(f"{path}, line {line}: ")
    assert message in text
    assert isinstance(info.value, ValueError)


def test_model_restricts_functions_and_unreadable_files_are_errors(tmp_path):
    with pytest.raises(HistoryError, match="line 1: unknown 'f' 'write'; use one of get, put, append"):
        parse_history([INV_W], model="kv")
    with pytest.raises(HistoryError, match="unknown model 'queue'"):
        parse_history([INV_W], model="queue")
    with pytest.raises(HistoryError, match="cannot read the history"):
        read_history(tmp_path / "missing.jsonl")
    (tmp_path / "latin1.jsonl").write_bytes(b"\xff\xfe{}")
    with pytest.raises(HistoryError, match="not UTF-8"):
        read_history(tmp_path / "latin1.jsonl")
