"""The checker agrees with Porcupine on every public history it ships (103 etcd logs, 6 kv files)."""

from __future__ import annotations

from dsai.check import check
from dsai.check.cli import check_file
from dsai.check.formats import read_edn_history, read_jepsen_log

TIMEOUT = 120.0  # generous: a verdict of "unknown" fails the test instead of hanging it


def _load(path):
    if path.parent.name == "jepsen":
        return read_jepsen_log(path), "cas-register"
    return read_edn_history(path), "kv"


def test_verdict_matches_porcupine(porcupine_case):
    path, expected = porcupine_case
    history, model = _load(path)
    assert len(history) > 0
    result = check(history, model, timeout=TIMEOUT)
    assert result.valid is expected, f"{path.name}: {result.explanation}"
    if expected is False:
        bad = [k for k in result.keys if k.valid is False]
        assert bad and bad[0].culprit is not None
        assert "line" in result.explanation  # the explanation points into the file
        assert result.model == model
    else:
        for key in result.keys:  # the witness is a legal sequential run
            from dsai.check.models import ILLEGAL, get_model

            assert len(key.linearization) == key.ops
            assert get_model(model).run(key.linearization) is not ILLEGAL


def test_every_corpus_file_is_read(porcupine_root):
    listed = {line.split("\t")[0] for line in (porcupine_root / "verdicts.tsv").read_text().splitlines()[1:]}
    files = sorted(p for p in (porcupine_root / "test_data").rglob("*") if p.suffix in (".log", ".txt"))
    assert len(files) == 109  # 103 etcd logs + 6 kv histories
    for path in files:
        rel = path.relative_to(porcupine_root).as_posix()
        assert rel in listed or path.name == "etcd_095.log"  # the README: no verdict for 095
        history, _ = _load(path)
        assert len(history.operations()) > 0 or path.name == "etcd_095.log"


def test_the_unverdicted_log_is_empty_and_the_cli_refuses_to_call_it_valid(porcupine_root):
    path = porcupine_root / "test_data" / "jepsen" / "etcd_095.log"
    history, model = _load(path)
    assert len(history) == 0
    report = check_file(str(path), model, fmt="jepsen-log")
    assert report["valid"] == "unknown" and "no events" in report["error"]
