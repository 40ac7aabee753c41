"""Foreign history formats: Jepsen's text log and its EDN event maps, as Porcupine's test data uses them.

Real systems were tested with Jepsen long before this course existed; reading
their histories lets the checker be validated against verdicts nobody here
wrote, and lets students run it on real bug reports.

* ``jepsen-log``: Jepsen's console log of a single compare-and-set register
  (etcd's test), e.g. ``INFO  jepsen.util - 3	:invoke	:cas	[0 3]``. Lines
  that are not ``jepsen.util`` events are noise and are skipped; a line that
  looks like an event but does not parse is an error. ``:timed-out`` results
  become ``"error": "timed-out"`` with no value.
* ``edn``: one Clojure map per line, ``{:process 0, :type :invoke, :f :append,
  :key "4", :value "x 0 1 y"}`` (Jepsen's history format; Porcupine's kv data).

Both produce a validated `History`, so every rule of the JSON Lines format
applies and errors name the file and line.
"""

from __future__ import annotations

import os
import re
from typing import Any, Callable, Iterable

from dsai.check.history import Event, History, HistoryBuilder
from dsai.check.jsonl import read_history
from dsai.errors import HistoryError

__all__ = ["parse_jepsen_log", "read_jepsen_log", "parse_edn_history", "read_edn_history", "FORMATS", "read_any"]

_JEPSEN_EVENT = re.compile(r"^INFO\s+jepsen\.util\s+-\s+(\d+)\s+:(invoke|ok|fail|info)\b")
_JEPSEN_LINE = re.compile(r"^INFO\s+jepsen\.util\s+-\s+(\d+)\s+:(\w+)\s+:([\w-]+)\s+(.*?)\s*$")
_EDN_PAIR = re.compile(r'\s*:([\w-]+)\s+("(?:[^"\\]|\\.)*"|nil|true|false|-?\d+(?:\.\d+)?|:[\w-]+|\[[^\]]*\])\s*(,|$)')


def _edn_value(text: str, where: Callable[[str], HistoryError]) -> Any:
    """A small EDN scalar / vector: nil, true, false, numbers, "strings", :keywords, [a b]."""
    if text == "nil":
        return None
    if text in ("true", "false"):
        return text == "true"
    if text.startswith('"'):
        return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), text[1:-1])
    if text.startswith(":"):
        return text  # keyword; callers decide what it means
    if text.startswith("["):
        return tuple(_edn_value(t, where) for t in text[1:-1].split())
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            raise where(f"cannot read the value {text!r}; expected nil, a number, a string or [a b]") from None


def parse_jepsen_log(lines: Iterable[str], source: str = "<jepsen-log>") -> History:
    """Parse a Jepsen console log of a cas register (see the module docstring)."""
    builder = HistoryBuilder(source, ("read", "write", "cas"))
    for lineno, line in enumerate(lines, start=1):
        line = line.rstrip("\r\n")
        if not _JEPSEN_EVENT.match(line):
            continue  # log noise
        where = lambda msg, n=lineno: builder.error(n, msg)  # noqa: E731
        m = _JEPSEN_LINE.match(line)
        if m is None:
            raise where(f"looks like a jepsen.util event but does not parse: {line.strip()!r}; "
                        "expected 'INFO  jepsen.util - PROCESS  :TYPE  :F  VALUE'")
        process, type_, f, raw = int(m.group(1)), m.group(2), m.group(3), m.group(4)
        value, error = _edn_value(raw, where), None
        if isinstance(value, str) and value.startswith(":"):
            if type_ in ("invoke", "ok"):
                raise where(f"an {type_} event needs a value, got the keyword {value}")
            value, error = None, value[1:]
        builder.add(Event(process, type_, f, None, value, None, error, lineno))
    return History.from_builder(builder)


def parse_edn_history(lines: Iterable[str], source: str = "<edn>") -> History:
    """Parse one EDN map per line: ``{:process 0, :type :ok, :f :get, :key "4", :value "x"}``."""
    builder = HistoryBuilder(source)
    for lineno, line in enumerate(lines, start=1):
        text = line.strip()
        if not text:
            continue
        where = lambda msg, n=lineno: builder.error(n, msg)  # noqa: E731
        if not (text.startswith("{") and text.endswith("}")):
            raise where(f"expected an EDN map {{:process ..., :type ..., :f ...}}, got {text[:60]!r}")
        body, fields, pos = text[1:-1], {}, 0
        while pos < len(body):
            m = _EDN_PAIR.match(body, pos)
            if m is None:
                raise where(f"cannot read the map entry starting at {body[pos:pos + 30]!r}")
            fields[m.group(1)] = _edn_value(m.group(2), where)
            pos = m.end()
        unknown = [k for k in fields if k not in ("process", "type", "f", "key", "value", "time", "error")]
        if unknown:
            raise where(f"unknown field(s) {', '.join(':' + k for k in unknown)}")
        for name in ("process", "type", "f"):
            if name not in fields:
                raise where(f"missing field :{name}; every event has :process, :type and :f")
        kw = lambda v: v[1:] if isinstance(v, str) and v.startswith(":") else v  # noqa: E731
        value = fields.get("value")
        error = kw(fields.get("error")) if fields.get("error") is not None else None
        if isinstance(value, str) and value.startswith(":") and fields["type"] in (":fail", ":info"):
            value, error = None, value[1:]
        builder.add(Event(fields["process"], kw(fields["type"]), kw(fields["f"]), fields.get("key"),
                          value, fields.get("time"), error, lineno))
    return History.from_builder(builder)


def _reader(parse: Callable[[Iterable[str], str], History]) -> Callable[[str | os.PathLike[str]], History]:
    def read(path: str | os.PathLike[str]) -> History:
        source = os.fspath(path)
        try:
            with open(source, encoding="utf-8") as fh:
                return parse(fh, source)
        except UnicodeDecodeError as exc:
            raise HistoryError(f"{source}: not UTF-8 text ({exc.reason})") from None
        except OSError as exc:
            raise HistoryError(f"{source}: cannot read the history ({exc.strerror or exc})") from None

    read.__doc__ = f"Read a file with `{parse.__name__}`."
    return read


read_jepsen_log = _reader(parse_jepsen_log)
read_edn_history = _reader(parse_edn_history)

# --format name -> reader
FORMATS: dict[str, Callable[..., History]] = {
    "jsonl": read_history,
    "jepsen-log": read_jepsen_log,
    "edn": read_edn_history,
}


def read_any(path: str | os.PathLike[str], fmt: str = "jsonl") -> History:
    """Read ``path`` in format ``fmt`` (one of `FORMATS`)."""
    if fmt not in FORMATS:
        raise HistoryError(f"unknown history format {fmt!r}; use one of {', '.join(FORMATS)}")
    return FORMATS[fmt](path)
