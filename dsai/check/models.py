"""Sequential specifications: what a single, correct copy of the object would answer.

Linearizability is defined relative to a model: a sequential object with an
initial state and a step function. ``step(state, op)`` returns the state after
``op`` if ``op``'s observed result is possible in ``state``, and `ILLEGAL`
otherwise. States are immutable and hashable (a register value, a string), so
the checker can remember which (linearized set, state) pairs it has explored.

Two models, both applied to one key at a time (keys are independent objects):

* ``cas-register``: ``read`` / ``write`` / ``cas``, initially null. An ``ok``
  cas applied (the register held ``from``); a ``fail`` cas observed that the
  register did *not* hold ``from`` (Porcupine and DESIGN.md read it this way).
* ``kv``: one map entry, ``get`` / ``put`` / ``append`` on strings, initially "".

An ``info`` write may have taken effect or not; the checker models "not" by
letting it take effect after everything else, where nobody can observe it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable

from dsai.check.history import FUNCTIONS, Operation, show_value
from dsai.errors import HistoryError

__all__ = ["ILLEGAL", "UNSEEN", "Model", "CAS_REGISTER", "KV", "MODELS", "get_model"]


class _Illegal:
    """The result of a step whose observed output the model cannot produce."""

    def __repr__(self) -> str:
        return "ILLEGAL"


ILLEGAL: Any = _Illegal()


class _Unseen:
    """Stands for every value, written by an info operation, that no read returned and no cas compared against."""

    def __repr__(self) -> str:
        return "UNSEEN"

    def __str__(self) -> str:
        return "an unread value (from an info write)"


UNSEEN: Any = _Unseen()
Step = Callable[[Any], Any]  # state -> next state, or ILLEGAL


def _norm(v: Any) -> Any:
    # JSON true and 1 are different values, but Python says True == 1 and hash(True) == hash(1):
    # tag booleans so a read of true never matches a register holding 1.
    return ("bool", v) if isinstance(v, bool) else v


def _unnorm(v: Any) -> Any:
    return v[1] if isinstance(v, tuple) else v


def _name(op: Operation) -> str:
    return "the register" if op.key is None else f"key {op.key!r}"


@dataclass(frozen=True)
class Model:
    """A sequential object: initial state, per-operation step, and how to talk about it."""

    name: str
    init: Any
    compile: Callable[[Operation], Step]  # op -> its step function (built once per op)
    describe_state: Callable[[Any], str]
    relabel: Callable[[list[Operation]], list[Operation]] = lambda ops: ops  # see _register_relabel

    @property
    def functions(self) -> tuple[str, ...]:
        return FUNCTIONS[self.name]

    def __repr__(self) -> str:
        return f"<Model {self.name}: {', '.join(self.functions)}; initial {self.describe_state(self.init)}>"

    def constrains(self, op: Operation) -> bool:
        """Does ``op`` matter to the check? Failed ops did nothing (except a failed cas, which
        observed the register); a read whose result never arrived observed nothing."""
        if op.outcome == "fail":
            return op.f == "cas"
        return op.outcome == "ok" or op.f not in ("read", "get")

    def step(self, state: Any, op: Operation) -> Any:
        """The state after ``op``, or `ILLEGAL` if ``op``'s result is impossible in ``state``."""
        return self.compile(op)(state)

    def run(self, ops: list[Operation]) -> Any:
        """Apply ``ops`` in order from the initial state (`ILLEGAL` as soon as one is impossible)."""
        state = self.init
        for op in ops:
            state = self.step(state, op)
            if state is ILLEGAL:
                break
        return state

    def describe_states(self, states: list[Any]) -> str:
        """'2' or 'one of 0, 1, 3 (or 5 other values)'; the checker keeps at most 16 per operation."""
        shown = [self.describe_state(s) for s in states[:4]]
        more = f" (or {len(states) - 4}{'+' if len(states) >= 16 else ''} other values)" if len(states) > 4 else ""
        return (shown[0] if len(shown) == 1 else "one of " + ", ".join(shown)) + more

    def explain(self, op: Operation, states: list[Any]) -> str:
        """Why ``op`` cannot be linearized, given the states it met at its deadline."""
        key, where = _name(op), op.span()
        if not states:
            return (f"{op.describe()} ({where}) cannot be placed: every order of the operations "
                    "before it was tried and each one led to a contradiction")
        seen = self.describe_states(states)
        if op.f in ("read", "get"):
            return (f"{op.f} of {key} returned {show_value(op.output)} (process {op.process}, {where}), "
                    f"but in every linearization that reaches it {key} holds {seen}")
        if op.f == "cas":
            frm, to = (show_value(v) for v in op.value)
            if op.outcome == "fail":
                return (f"cas of {key} {frm}->{to} failed (process {op.process}, {where}), meaning "
                        f"{key} did not hold {frm}, but in every linearization that reaches it {key} holds {seen}")
            return (f"cas of {key} {frm}->{to} succeeded (process {op.process}, {where}), "
                    f"but in every linearization that reaches it {key} holds {seen}, not {frm}")
        return f"{op.describe()} ({where}) cannot be placed; {key} was {seen} at that point"


# -- cas-register -------------------------------------------------------------------------
def _register_step(op: Operation) -> Step:
    if op.f == "read":
        want = _norm(op.output)
        return lambda s: s if s == want else ILLEGAL
    if op.f == "write":
        new = _norm(op.value)
        return lambda s: new
    frm, to = _norm(op.value[0]), _norm(op.value[1])
    if op.outcome == "ok":
        return lambda s: to if s == frm else ILLEGAL
    if op.outcome == "fail":
        return lambda s: s if s != frm else ILLEGAL
    return lambda s: to if s == frm else s  # info: if it happened, it applied iff s == from


def _register_relabel(ops: list[Operation]) -> list[Operation]:
    """In info writes and cas, replace each value that nothing ever compares against by `UNSEEN`.

    A register step only tests ``state == x`` for x a read result or a cas ``from``;
    values outside that set pass every test alike, so merging them changes no
    verdict, but it makes, say, twenty timed-out writes of distinct unread values
    interchangeable, which the search exploits (see `linearizability`). Ok writes
    keep their values so that explanations can name them.
    """
    seen = {_norm(op.output) for op in ops if op.f == "read"} | {_norm(op.value[0]) for op in ops if op.f == "cas"}
    label = lambda v: v if _norm(v) in seen else UNSEEN  # noqa: E731
    out = []
    for op in ops:
        if op.outcome != "info":
            pass
        elif op.f == "write":
            op = replace(op, value=label(op.value))
        elif op.f == "cas":
            op = replace(op, value=(op.value[0], label(op.value[1])))
        out.append(op)
    return out


def _register_state(s: Any) -> str:
    return show_value(_unnorm(s))


CAS_REGISTER = Model("cas-register", None, _register_step, _register_state, _register_relabel)


# -- kv (one key) -------------------------------------------------------------------------
def _kv_step(op: Operation) -> Step:
    if op.f == "get":
        want = op.output
        return lambda s: s if s == want else ILLEGAL
    if op.f == "put":
        new = op.value
        return lambda s: new
    suffix = op.value
    return lambda s: s + suffix


KV = Model("kv", "", _kv_step, lambda s: show_value(s, 60))

MODELS = {m.name: m for m in (CAS_REGISTER, KV)}


def get_model(name: str | Model) -> Model:
    """The model called ``name`` ('cas-register' or 'kv'); a `Model` is returned as is."""
    if isinstance(name, Model):
        return name
    try:
        return MODELS[name]
    except KeyError:
        raise HistoryError(f"unknown model {name!r}; use one of {', '.join(MODELS)}") from None
