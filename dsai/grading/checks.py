"""Inline checks: a failed test should teach, not just say "AssertionError".

``check(got, expected, name=..., hint=...)`` compares an answer with the
expected value and, when they differ, raises `CheckFailed` (an
``AssertionError``, so nbgrader's rule "a test that raises scores 0" still
holds) whose notebook display is a short message instead of a traceback::

    ✗ squares: item 2 differs: expected 4, got 2
      Hint: square each number with x * x.

It knows the usual distributed-systems slips: an ``ObjectRef`` where a value
was expected ("call ray.get"), a list of refs, a generator. Numbers compare
with a tolerance, numpy arrays elementwise (numpy is imported only if the
value already is an array).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["check", "CheckFailed", "compare"]


class CheckFailed(AssertionError):
    """An answer differs from what was expected; the message says how."""

    def _render_traceback_(self) -> list[str]:
        # IPython shows this instead of a traceback: the message is the feedback,
        # plus the cell line in IPython's words (the grader reads it to tell a
        # visible test from a hidden one).
        lines = [f"\x1b[31m✗\x1b[0m {line}" if i == 0 else f"  {line}"
                 for i, line in enumerate(str(self).split("\n"))]
        tb = self.__traceback__
        while tb is not None:
            frame = tb.tb_frame
            if frame.f_code.co_name == "<module>" and frame.f_globals.get("__name__") == "__main__":
                lines.append(f"  (Cell In[], line {tb.tb_lineno})")
                break
            tb = tb.tb_next
        return lines


def _is_ref(x: Any) -> bool:
    return type(x).__name__ in ("ObjectRef", "ObjectRefGenerator")


def _short(x: Any, limit: int = 80) -> str:
    text = repr(x)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def compare(got: Any, expected: Any, *, rel_tol: float = 1e-9, abs_tol: float = 1e-12,
            path: str = "") -> str | None:
    """None if ``got`` matches ``expected``, else a sentence saying where they differ."""
    where = f"{path}: " if path else ""
    if _is_ref(got) and not _is_ref(expected):
        return (f"{where}got an ObjectRef, not its value; call ray.get(ref) to wait for the "
                "result")
    if type(got).__module__ == "numpy" or type(expected).__module__ == "numpy":
        import numpy as np
        a, b = np.asarray(got), np.asarray(expected)
        if a.shape != b.shape:
            return f"{where}expected shape {b.shape}, got shape {a.shape}"
        if a.dtype.kind in "biufc" and b.dtype.kind in "biufc":
            ok = np.isclose(a, b, rtol=rel_tol, atol=abs_tol)
            if ok.all():
                return None
            i = tuple(int(k) for k in np.argwhere(~ok)[0])
            return f"{where}element {i} differs: expected {b[i]!r}, got {a[i]!r}"
        return None if np.array_equal(a, b) else f"{where}expected {_short(b)}, got {_short(a)}"
    if isinstance(expected, bool) or isinstance(got, bool):
        return None if got is expected or got == expected and type(got) is type(expected) \
            else f"{where}expected {expected!r}, got {_short(got)}"
    if isinstance(expected, (int, float)) and isinstance(got, (int, float)):
        if math.isclose(got, expected, rel_tol=rel_tol, abs_tol=abs_tol):
            return None
        return f"{where}expected {expected!r}, got {got!r}"
    if isinstance(expected, Mapping):
        if not isinstance(got, Mapping):
            return (f"{where}expected a {type(expected).__name__}, "
                    f"got {type(got).__name__} {_short(got)}")
        missing = [k for k in expected if k not in got]
        extra = [k for k in got if k not in expected]
        if missing or extra:
            parts = ([f"missing keys {missing!r}"] if missing else []) + \
                    ([f"unexpected keys {extra!r}"] if extra else [])
            return where + ", ".join(parts)
        for k in expected:
            why = compare(got[k], expected[k], rel_tol=rel_tol, abs_tol=abs_tol,
                          path=f"{path}[{k!r}]")
            if why:
                return why
        return None
    if isinstance(expected, Sequence) and not isinstance(expected, (str, bytes)):
        if isinstance(got, (str, bytes)) or not isinstance(got, Sequence):
            kind = type(got).__name__
            extra = " (a generator: wrap it in list(...))" if kind == "generator" else ""
            return f"{where}expected a {type(expected).__name__}, got a {kind}{extra}"
        if got and all(_is_ref(g) for g in got) and not any(_is_ref(e) for e in expected):
            return (f"{where}got a list of ObjectRefs; call ray.get(refs) to wait for all "
                    "their values")
        if len(got) != len(expected):
            return f"{where}expected {len(expected)} items, got {len(got)}: {_short(got)}"
        for i, (g, e) in enumerate(zip(got, expected)):
            why = compare(g, e, rel_tol=rel_tol, abs_tol=abs_tol, path=f"{path}[{i}]")
            if why:
                return why if path else why.replace(f"[{i}]: ", f"item {i} differs: ", 1)
        return None
    return None if got == expected else f"{where}expected {_short(expected)}, got {_short(got)}"


def check(got: Any, expected: Any, *, name: str = "answer", hint: str | None = None,
          rel_tol: float = 1e-9, abs_tol: float = 1e-12) -> bool:
    """Return True if ``got`` matches ``expected``; else raise CheckFailed with a friendly message.

    ``name`` says which answer is checked, ``hint`` what to try next.
    """
    why = compare(got, expected, rel_tol=rel_tol, abs_tol=abs_tol)
    if why is None:
        return True
    message = f"{name}: {why}"
    if hint:
        message += f"\nHint: {hint}"
    raise CheckFailed(message)
