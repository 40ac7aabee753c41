"""History files: one JSON event per line, in the real-time order the events happened.

`read_history` parses and validates a file (any mistake raises `HistoryError`
naming the file, the line and the fix); `HistoryWriter` is what a store uses to
record a history while it runs: it applies the same rules as the reader, so a
bad event fails at the call that wrote it, not later in the checker. The writer
emits fields in a fixed order with fixed separators, so the same history always
gives a byte-identical file.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from typing import IO, Any, Iterable

from dsai.check.history import FIELDS, FUNCTIONS, Event, History, HistoryBuilder
from dsai.errors import HistoryError

__all__ = ["read_history", "parse_history", "dumps_event", "write_history", "HistoryWriter"]


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    dup = next((k for k in keys if keys.count(k) > 1), None)
    if dup is not None:  # json.loads would silently keep the last one
        raise ValueError(f"field {dup!r} appears twice")
    return dict(pairs)


def _event_from_json(line: str, lineno: int, builder: HistoryBuilder) -> Event:
    try:
        obj = json.loads(line, parse_constant=_reject_constant, object_pairs_hook=_no_duplicates)
    except ValueError as exc:
        hint = "each line must be one JSON object"
        if line.lstrip().startswith("{:"):
            hint = "this looks like Jepsen's EDN format: use --format edn / read_edn_history"
        elif "jepsen.util" in line:
            hint = "this looks like a Jepsen log: use --format jepsen-log / read_jepsen_log"
        raise builder.error(lineno, f"not valid JSON ({exc}); {hint}") from None
    if not isinstance(obj, dict):
        raise builder.error(lineno, f"expected a JSON object {{...}}, got {type(obj).__name__}")
    unknown = [k for k in obj if k not in FIELDS]
    if unknown:
        raise builder.error(lineno, f"unknown field(s) {', '.join(map(repr, unknown))}; allowed: {', '.join(FIELDS)}")
    for name in ("process", "type", "f"):
        if name not in obj:
            raise builder.error(lineno, f"missing field {name!r}; every event has process, type and f")
    value = obj.get("value")
    if isinstance(value, list):  # cas [from, to]; tuples keep model states hashable
        value = tuple(value)
    return Event(obj["process"], obj["type"], obj["f"], obj.get("key"), value, obj.get("time"), obj.get("error"), lineno)


def parse_history(lines: Iterable[str], source: str = "<string>", model: str | None = None) -> History:
    """Parse JSON Lines (an iterable of lines) into a validated `History`.

    ``model`` ('cas-register' or 'kv') restricts ``f`` to that model's functions.
    Blank lines are ignored; everything else must be an event.
    """
    if model is not None and model not in FUNCTIONS:
        raise HistoryError(f"unknown model {model!r}; use one of {', '.join(FUNCTIONS)}")
    builder = HistoryBuilder(source, FUNCTIONS[model] if model else None)
    for lineno, line in enumerate(lines, start=1):
        if line.strip():
            builder.add(_event_from_json(line, lineno, builder))
    return History.from_builder(builder)


def read_history(path: str | os.PathLike[str], model: str | None = None) -> History:
    """Read and validate a JSON Lines history file (see `parse_history`)."""
    source = os.fspath(path)
    try:
        with open(source, encoding="utf-8") as fh:
            return parse_history(fh, source, model)
    except UnicodeDecodeError as exc:
        raise HistoryError(f"{source}: not UTF-8 text ({exc.reason}); save the history as UTF-8") from None
    except OSError as exc:
        raise HistoryError(f"{source}: cannot read the history ({exc.strerror or exc})") from None


def dumps_event(event: Event) -> str:
    """One event as its canonical JSON line (no newline): fixed field order and separators."""
    return json.dumps(event.to_json(), ensure_ascii=False, allow_nan=False, separators=(", ", ": "))


def write_history(history: Iterable[Event], path: str | os.PathLike[str]) -> None:
    """Write events (validated on the way) to ``path`` as JSON Lines."""
    with HistoryWriter(path) as writer:
        for event in history:
            writer.add(event)


class HistoryWriter:
    """Record a history as it happens, validating each event before writing it.

    Example::

        with HistoryWriter("run.jsonl", model="cas-register") as w:
            w.invoke(0, "write", 3, key="x", time=0.12)
            w.ok(0, "write", 3, key="x", time=0.31)

    ``target`` is a path or an open text file. Completions must repeat the
    invoke's ``f``, ``key`` and (for writes and cas) ``value``. After an
    ``info`` the process may not be used again: give the client a new process id.
    ``close()`` leaves unanswered invokes in the file; the checker treats them as info.
    """

    def __init__(self, target: str | os.PathLike[str] | IO[str], model: str | None = None) -> None:
        if model is not None and model not in FUNCTIONS:
            raise HistoryError(f"unknown model {model!r}; use one of {', '.join(FUNCTIONS)}")
        if isinstance(target, (str, os.PathLike)):
            self.name = os.fspath(target)
            self._fh: IO[str] = open(self.name, "w", encoding="utf-8", newline="\n")
            self._owns = True
        else:
            self.name, self._fh, self._owns = getattr(target, "name", "<stream>"), target, False
        self._builder = HistoryBuilder(str(self.name), FUNCTIONS[model] if model else None)
        self._lines = 0

    def __repr__(self) -> str:
        state = "closed" if self._fh is None else "open"
        return f"<HistoryWriter {self.name}: {self._lines} events, {state}>"

    def __enter__(self) -> "HistoryWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def events(self) -> list[Event]:
        """The events written so far."""
        return list(self._builder.events)

    def add(self, event: Event) -> None:
        """Validate and write one `Event`."""
        if self._fh is None:
            raise HistoryError(f"{self.name}: cannot write to a closed HistoryWriter; open a new one")
        event = self._builder.add(replace(event, line=self._lines + 1))
        self._fh.write(dumps_event(event) + "\n")
        self._lines += 1

    def invoke(self, process: int | str, f: str, value: Any = None, *, key: str | None = None, time: float | None = None) -> None:
        """``process`` starts operation ``f`` (read: value None; write: the value; cas: [from, to])."""
        self.add(Event(process, "invoke", f, key, value, time))

    def ok(self, process: int | str, f: str, value: Any = None, *, key: str | None = None, time: float | None = None) -> None:
        """The operation took effect; for a read/get, ``value`` is what it returned."""
        self.add(Event(process, "ok", f, key, value, time))

    def fail(self, process: int | str, f: str, value: Any = None, *, key: str | None = None,
             time: float | None = None, error: str | None = None) -> None:
        """The operation definitely did not take effect (cas: the register did not hold ``from``)."""
        self.add(Event(process, "fail", f, key, value, time, error))

    def info(self, process: int | str, f: str, value: Any = None, *, key: str | None = None,
             time: float | None = None, error: str | None = None) -> None:
        """Outcome unknown (e.g. a timeout); the process is finished and must not be reused."""
        self.add(Event(process, "info", f, key, value, time, error))

    def history(self) -> History:
        """The events written so far as a `History`."""
        return History(self._builder.events, str(self.name))

    def close(self) -> None:
        """Flush and (if the writer opened it) close the file. Safe to call twice."""
        if self._fh is not None:
            self._fh.flush()
            if self._owns:
                self._fh.close()
            self._fh = None  # type: ignore[assignment]
