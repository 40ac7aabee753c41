"""Histories and linearizability: did the store behave like one correct copy of the data?

`dsai.check` records what clients saw (Jepsen-style histories, `HistoryWriter`
/ `read_history`) and decides whether some sequential order explains it
(`check`, Wing & Gong's search with Lowe's cache, as in Porcupine).
"""

from dsai.check.history import Event, History, HistoryBuilder, Operation
from dsai.check.jsonl import HistoryWriter, dumps_event, parse_history, read_history, write_history
from dsai.check.linearizability import CheckResult, KeyResult, check, check_operations
from dsai.check.models import CAS_REGISTER, ILLEGAL, KV, MODELS, Model, get_model

__all__ = [
    "Event", "History", "HistoryBuilder", "Operation",
    "HistoryWriter", "dumps_event", "parse_history", "read_history", "write_history",
    "CheckResult", "KeyResult", "check", "check_operations",
    "CAS_REGISTER", "ILLEGAL", "KV", "MODELS", "Model", "get_model",
]
