"""Histories: what each client asked for and what it was told, in real-time order (Jepsen's model).

A history is a list of events. A client process *invokes* an operation and later
receives its completion: ``ok`` (it took effect), ``fail`` (it definitely did not)
or ``info`` (unknown: it may have taken effect, at any instant after its invoke,
or never). An invoke with no completion at all means the same as ``info``, and a
process never invokes again after an ``info``: it may still be running.

On disk a history is JSON Lines, one event per line, in real-time order::

    {"process": 0, "type": "invoke", "f": "write", "key": "x", "value": 3, "time": 0.12}
    {"process": 0, "type": "ok", "f": "write", "key": "x", "value": 3, "time": 0.31}

Design notes:

* One set of rules (`HistoryBuilder`) checks events whether they come from a
  file (`read_history`), from a store writing as it runs (`HistoryWriter`), or
  from a foreign format (`dsai.check.formats`). Every violation raises
  `HistoryError` naming the source, the line and the fix, because a checker
  that guesses what a malformed history meant can call a broken store correct.
* Pairing invokes with completions (`History.operations`) is separate from
  checking: the checker only sees `Operation`s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Iterator

from dsai.errors import HistoryError

__all__ = [
    "EVENT_TYPES",
    "FIELDS",
    "FUNCTIONS",
    "Event",
    "Operation",
    "History",
    "HistoryBuilder",
    "show_value",
]

EVENT_TYPES = ("invoke", "ok", "fail", "info")
# Functions each model understands; a history uses one model's set.
FUNCTIONS = {"cas-register": ("read", "write", "cas"), "kv": ("get", "put", "append")}
# Field order on disk; the writer emits them in this order so files are byte-stable.
FIELDS = ("process", "type", "f", "key", "value", "time", "error")
_READS = ("read", "get")
_STRING_VALUED = ("put", "append")


def show_value(value: Any, limit: int = 40) -> str:
    """A value as JSON-ish text (null, true, 'str', [1, 2]), shortened so explanations stay one line."""
    if value is None or isinstance(value, bool):
        text = {None: "null", True: "true", False: "false"}[value]
    elif isinstance(value, tuple):
        text = "[" + ", ".join(show_value(v) for v in value) + "]"
    else:
        text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass(frozen=True)
class Event:
    """One line of a history: a process invoking, or learning the outcome of, an operation."""

    process: int | str
    type: str  # invoke | ok | fail | info
    f: str  # read/write/cas (cas-register) or get/put/append (kv)
    key: str | None = None  # which register / map key; None for a lone register
    value: Any = None  # argument on invoke; result of a read on ok; cas: (from, to)
    time: float | None = None  # optional seconds; file order is what defines real time
    error: str | None = None  # optional reason for a fail / info
    line: int | None = field(default=None, compare=False)  # source line, for messages

    def __repr__(self) -> str:
        key = "" if self.key is None else f" key={self.key!r}"
        time = "" if self.time is None else f" t={self.time:g}" if _is_number(self.time) else f" t={self.time!r}"
        return f"<Event p{self.process} {self.type} {self.f}{key} {show_value(self.value)}{time}>"

    def to_json(self) -> dict[str, Any]:
        """The event as a JSON object with fields in `FIELDS` order (optional ones omitted)."""
        out: dict[str, Any] = {"process": self.process, "type": self.type, "f": self.f}
        if self.key is not None:
            out["key"] = self.key
        out["value"] = list(self.value) if isinstance(self.value, tuple) else self.value
        if self.time is not None:
            out["time"] = self.time
        if self.error is not None:
            out["error"] = self.error
        return out


@dataclass(frozen=True)
class Operation:
    """An invoke paired with its completion; ``outcome`` is ok, fail or info (info if none came)."""

    index: int  # position among the history's operations, in invoke order
    process: int | str
    f: str
    key: str | None
    value: Any  # the invoke's argument (cas: (from, to))
    output: Any  # what an ok read returned; None otherwise
    outcome: str  # ok | fail | info
    invoke: Event
    complete: Event | None  # None: the process never heard back (same as info)

    def where(self) -> str:
        """Where the operation started, for messages: 'line 17, t=0.42' or 'line 17'."""
        parts = []
        if self.invoke.line is not None:
            parts.append(f"line {self.invoke.line}")
        if self.invoke.time is not None:
            parts.append(f"t={self.invoke.time:g}")
        return ", ".join(parts) or f"operation {self.index}"

    def span(self) -> str:
        """Invoke to completion, for messages: 'lines 2-4, t=0.2-0.42' (info: 'line 2, t=0.2, no reply')."""
        inv, done = self.invoke, self.complete
        if done is None:
            lines = f"line {inv.line}, no reply" if inv.line is not None else "no reply"
        else:
            lines = f"lines {inv.line}-{done.line}" if inv.line is not None and done.line is not None else ""
        times = ""
        if inv.time is not None:
            end = done.time if done is not None and done.time is not None else None
            times = f"t={inv.time:g}" + ("" if end is None or end == inv.time else f"-{end:g}")
        return ", ".join(p for p in (lines, times) if p) or f"operation {self.index}"

    def describe(self) -> str:
        """Plain words: 'process 2 read x -> 3 (ok)'."""
        key = "" if self.key is None else f" {self.key}"
        if self.f in _READS:
            what = f"{self.f}{key} -> {show_value(self.output)}" if self.outcome == "ok" else f"{self.f}{key}"
        elif self.f == "cas":
            what = f"cas{key} {show_value(self.value[0])}->{show_value(self.value[1])}"
        else:
            what = f"{self.f}{key} {show_value(self.value)}"
        return f"process {self.process} {what} ({self.outcome})"

    def __repr__(self) -> str:
        return f"<Operation #{self.index} {self.describe()} at {self.where()}>"


class History:
    """A validated list of events; `operations()` pairs them into `Operation`s."""

    def __init__(self, events: Iterable[Event], source: str = "<history>") -> None:
        builder = HistoryBuilder(source)
        for event in events:
            builder.add(event)
        self.events: list[Event] = builder.events
        self.source = source

    @classmethod
    def from_builder(cls, builder: "HistoryBuilder") -> "History":
        """The events a `HistoryBuilder` has already validated (no second pass)."""
        history = cls.__new__(cls)
        history.events, history.source = builder.events, builder.source
        return history

    def __len__(self) -> int:
        return len(self.events)

    def __iter__(self) -> Iterator[Event]:
        return iter(self.events)

    def __repr__(self) -> str:
        procs = len({str(e.process) for e in self.events})
        return f"<History {self.source}: {len(self.events)} events, {procs} processes>"

    def functions(self) -> list[str]:
        """The distinct `f`s used, in order of first appearance."""
        return list(dict.fromkeys(e.f for e in self.events))

    def operations(self) -> list[Operation]:
        """Pair each invoke with its process's next completion; unanswered invokes become info."""
        ops: list[Operation] = []
        open_: dict[Any, tuple[int, Event]] = {}  # (type, process) -> (op slot, invoke)
        for event in self.events:
            pid = (type(event.process), event.process)
            if event.type == "invoke":
                open_[pid] = (len(ops), event)
                ops.append(None)  # type: ignore[arg-type]  # filled at completion
            else:
                slot, inv = open_.pop(pid)
                ops[slot] = _pair(slot, inv, event)
        for slot, inv in open_.values():
            ops[slot] = _pair(slot, inv, None)
        return ops


def _pair(index: int, inv: Event, done: Event | None) -> Operation:
    outcome = "info" if done is None else done.type
    output = done.value if (done is not None and done.type == "ok" and inv.f in _READS) else None
    return Operation(index, inv.process, inv.f, inv.key, inv.value, output, outcome, inv, done)


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _is_scalar(x: Any) -> bool:
    return x is None or isinstance(x, (bool, str)) or (_is_number(x) and math.isfinite(x))


class HistoryBuilder:
    """Checks events one at a time against the rules of the format and keeps the good ones.

    ``functions`` restricts ``f`` to one model's set (see `FUNCTIONS`); by
    default any known function is accepted but a history may not mix models.
    """

    def __init__(self, source: str = "<history>", functions: Iterable[str] | None = None) -> None:
        self.source = source
        self.functions = tuple(functions) if functions is not None else None
        self.events: list[Event] = []
        self._open: dict[Any, Event] = {}  # process -> its pending invoke
        self._crashed: dict[Any, Event] = {}  # process -> the info that ended it
        self._model: str | None = None
        self._last_time: float | None = None

    def __repr__(self) -> str:
        return f"<HistoryBuilder {self.source}: {len(self.events)} events, {len(self._open)} open>"

    def error(self, line: int | None, message: str) -> HistoryError:
        """A HistoryError that names where the problem is."""
        where = self.source if line is None else f"{self.source}, line {line}"
        return HistoryError(f"{where}: {message}")

    def add(self, event: Event) -> Event:
        """Validate ``event`` against everything seen so far, then append it.

        An event without a line number gets its position (the line it would have
        in a file); a list value (cas ``[from, to]``) becomes a tuple, so it is hashable.
        """
        if event.line is None or isinstance(event.value, list):
            value = tuple(event.value) if isinstance(event.value, list) else event.value
            line = len(self.events) + 1 if event.line is None else event.line
            event = replace(event, value=value, line=line)
        self._check_fields(event)
        self._check_order(event)
        self.events.append(event)
        return event

    def pending(self) -> list[Event]:
        """Invokes still waiting for a completion, in invoke order."""
        return sorted(self._open.values(), key=self.events.index)

    # -- field-level rules ------------------------------------------------------------------
    def _check_fields(self, e: Event) -> None:
        err = lambda msg: self.error(e.line, msg)  # noqa: E731
        if isinstance(e.process, bool) or not isinstance(e.process, (int, str)):
            raise err(f"'process' must be an integer or string naming the client, got {e.process!r}")
        if e.type not in EVENT_TYPES:
            raise err(f"unknown 'type' {e.type!r}; use one of {', '.join(EVENT_TYPES)}")
        model = next((m for m, fs in FUNCTIONS.items() if e.f in fs), None)
        allowed = self.functions or tuple(f for fs in FUNCTIONS.values() for f in fs)
        if model is None or e.f not in allowed:
            raise err(f"unknown 'f' {e.f!r}; use one of {', '.join(allowed)}")
        if self._model is None:
            self._model = model
        elif model != self._model:
            raise err(
                f"'f' {e.f!r} belongs to the {model} model but earlier events use the "
                f"{self._model} model ({', '.join(FUNCTIONS[self._model])}); one history, one model"
            )
        if e.key is not None and not isinstance(e.key, str):
            raise err(f"'key' must be a string, got {e.key!r}; write it as \"{e.key}\"")
        if model == "kv" and e.key is None:
            raise err(f"a kv '{e.f}' needs a 'key' (a string naming the map entry)")
        if e.time is not None and (not _is_number(e.time) or not math.isfinite(e.time)):
            raise err(f"'time' must be a finite number of seconds, got {e.time!r}")
        if e.error is not None and not isinstance(e.error, str):
            raise err(f"'error' must be a string, got {e.error!r}")
        if e.error is not None and e.type in ("invoke", "ok"):
            raise err(f"only fail and info events carry an 'error', not {e.type}")
        self._check_value(e, err)

    def _check_value(self, e: Event, err: Any) -> None:
        v = e.value
        if e.f == "cas":
            if e.type in ("invoke", "ok") or v is not None:
                if not (isinstance(v, tuple) and len(v) == 2 and all(map(_is_scalar, v))):
                    raise err(f"a cas 'value' must be [from, to], got {show_value(v)}; e.g. \"value\": [1, 2]")
        elif e.f in _READS and e.type != "ok":
            if v is not None:
                raise err(f"a {e.f} {e.type} carries no value (the result comes with ok); use \"value\": null")
        elif e.f == "get" or e.f in _STRING_VALUED:
            if not isinstance(v, str) and not (v is None and e.type in ("fail", "info")):
                raise err(f"kv values are strings, but this {e.f} {e.type} has value {show_value(v)}")
        elif not _is_scalar(v):
            raise err(f"register values must be null, a boolean, a finite number or a string, got {show_value(v)}")

    # -- rules across events ----------------------------------------------------------------
    def _check_order(self, e: Event) -> None:
        err = lambda msg: self.error(e.line, msg)  # noqa: E731
        pid = (type(e.process), e.process)
        if e.time is not None:
            if self._last_time is not None and e.time < self._last_time:
                raise err(
                    f"time {e.time:g} is earlier than the previous event's time {self._last_time:g}; "
                    "events must be written in real-time order"
                )
            self._last_time = e.time
        if pid in self._crashed:
            raise err(
                f"process {e.process!r} already ended with an info (line {self._crashed[pid].line}): "
                "its operation may still be running, so that process may not issue events again; "
                "use a fresh process id for the client's next operation"
            )
        inv = self._open.get(pid)
        if e.type == "invoke":
            if inv is not None:
                raise err(
                    f"process {e.process!r} invokes {e.f} while its {inv.f} from line {inv.line} has no "
                    "completion; a process runs one operation at a time, so write the ok/fail/info first"
                )
            self._open[pid] = e
            return
        if inv is None:
            raise err(f"{e.type} for process {e.process!r} without a matching invoke; write the invoke first")
        if (e.f, e.key) != (inv.f, inv.key):
            raise err(
                f"completion {e.f} key={e.key!r} does not match process {e.process!r}'s invoke "
                f"{inv.f} key={inv.key!r} on line {inv.line}; a completion repeats its invoke's f and key"
            )
        if e.f not in _READS and e.value != inv.value and not (e.type != "ok" and e.value is None):
            raise err(
                f"{e.f} completion value {show_value(e.value)} differs from its invoke's value "
                f"{show_value(inv.value)} (line {inv.line}); repeat the invoke's value"
            )
        del self._open[pid]
        if e.type == "info":
            self._crashed[pid] = e
