"""Histories and linearizability: did the store behave like one correct copy of the data?

`dsai.check` records what clients saw (Jepsen-style histories, `HistoryWriter`
/ `read_history`) and decides whether some sequential order explains it
(`check`, Wing & Gong's search with Lowe's cache, as in Porcupine).

Recording a run and checking it::

    from dsai.check import HistoryWriter, check, read_history

    with HistoryWriter("run.jsonl", model="cas-register") as h:
        h.invoke(0, "write", 3, key="x", time=0.12)
        h.ok(0, "write", 3, key="x", time=0.31)
        h.invoke(1, "read", key="x", time=0.40)
        h.ok(1, "read", 3, key="x", time=0.52)
    result = check(read_history("run.jsonl"), "cas-register", timeout=10)
    result.valid, result.explanation   # True, 'linearizable: ...'
"""

from dsai.check.formats import FORMATS, read_any, read_edn_history, read_jepsen_log
from dsai.check.history import Event, History, HistoryBuilder, Operation
from dsai.check.jsonl import HistoryWriter, dumps_event, parse_history, read_history, write_history
from dsai.check.linearizability import CheckResult, KeyResult, check, check_operations
from dsai.check.models import CAS_REGISTER, ILLEGAL, KV, MODELS, Model, get_model

__all__ = [
    "FORMATS", "read_any", "read_edn_history", "read_jepsen_log",
    "Event", "History", "HistoryBuilder", "Operation",
    "HistoryWriter", "dumps_event", "parse_history", "read_history", "write_history",
    "CheckResult", "KeyResult", "check", "check_operations",
    "CAS_REGISTER", "ILLEGAL", "KV", "MODELS", "Model", "get_model",
]
