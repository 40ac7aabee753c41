"""The differential fuzzer's programs are deterministic, and a few of them run in `make test`.

The comparison of a whole run of seeds against traces recorded at another
commit is `python tests/mockray/fuzzer.py compare FILE` (see fuzzer.py).
"""

import json
import re

import pytest

import fuzzer


@pytest.mark.parametrize("seed", range(0, 40, 3))
def test_a_seed_gives_the_same_trace_twice(seed):
    a = fuzzer.trace(seed)
    assert a == fuzzer.trace(seed)
    steps = json.loads(a)
    assert steps[0][0] == "start" and steps[-1][0] == "timeline"


def test_the_programs_cover_what_the_runtime_does():
    """Over a few dozen seeds every kind of step runs, and faults and errors show up."""
    labels, errors = set(), set()
    for seed in range(40):
        for entry in json.loads(fuzzer.trace(seed)):
            labels.add(re.sub(r"\d.*", "", entry[0]))  # "fanout3[2]" -> "fanout"
            if len(entry) > 1 and isinstance(entry[1], list) and entry[1][:1] == ["error"]:
                errors.add(entry[1][1])
    for step in ("fanout", "chain", "waitloop", "actor", "async", "flaky", "nested", "cancel", "put",
                 "timeout", "returns", "killtask", "fault"):
        assert step in labels
    assert {"TaskCancelledError", "GetTimeoutError", "RayTaskError(ValueError)",
            "ActorDiedError", "WorkerCrashedError"} <= errors


def test_the_compare_mode_finds_a_changed_trace(tmp_path, capsys):
    base = tmp_path / "base.jsonl"
    assert fuzzer.main(["record", str(base), "--seeds", "2"]) == 0
    rows = [json.loads(line) for line in base.read_text().splitlines()]
    rows[1]["trace"] = rows[1]["trace"].replace('"start"', '"begin"', 1)
    base.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert fuzzer.main(["compare", str(base)]) == 1
    assert "1 of 2 seeds byte-identical" in capsys.readouterr().out
