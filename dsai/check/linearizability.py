"""Linearizability: every operation appears to take effect atomically at one instant between its invoke and its completion.

A history is linearizable if its operations can be put in one sequential order
that (1) respects real time (an operation that completed before another was
invoked comes first) and (2) is a legal run of the model. This module searches
for such an order with the algorithm of Wing & Gong (1993) as improved by Lowe
(2017) and used by Porcupine (github.com/anishathalye/porcupine, checker.go):

* The history is a list of call and return entries in real-time order. The
  search walks it from the front, *linearizing* a call (applying it to the model
  and removing it and its return from the list) whenever the model accepts it.
  Reaching a return means that operation had to take effect by now but has not:
  backtrack, undo the last linearized call, and try the next candidate.
* Lowe's cache: the rest of the search depends only on *which* operations are
  linearized (a bitset) and the model state, so each (bitset, state) pair is
  explored once. This turns an exponential search into a fast one in practice.
* P-compositionality: keys are independent objects, so each key is checked on
  its own (much smaller) sub-history. The per-key searches take turns, a slice
  of steps each, and the first violation settles the verdict (Porcupine runs
  them in parallel and stops the rest the same way): refuting one key can take
  far longer than refuting another.
* ``info`` operations (and invokes with no completion) return "at the end of
  time": they may be linearized anywhere after their invoke, and linearizing
  them last is the same as never. Failed operations did nothing and are dropped,
  except a failed cas, which observed that the register did not hold ``from``.
* Symmetry: info operations with the same function and value are interchangeable,
  so only the earliest pending one of each such group is ever tried; for the
  register, written values nothing compares against are first merged into one
  (`models.UNSEEN`). Timed-out writes are common under partitions, and without
  this refuting a history with k of them costs up to 2^k steps.

A violation is explained with the operation no linearization could include and
the values the object held whenever that operation's deadline was reached.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Generator, Iterable, Literal, Union

from dsai.check.history import Event, History, Operation
from dsai.check.models import ILLEGAL, Model, get_model
from dsai.errors import HistoryError

__all__ = ["KeyResult", "CheckResult", "check", "check_operations"]

Verdict = Union[bool, Literal["unknown"]]
_SLICE = 4096  # search steps per turn when keys are interleaved (and between looks at the clock)
# Lowe's cache grows with the search: a hopeless history can fill gigabytes in a minute
# (measured: ~150 bytes per state for a register, ~270 for kv strings; Binder gives 2 GB).
# The largest public history needs 178k; the default leaves 10x room and stays under ~600 MB.
MAX_STATES = 2_000_000


@dataclass
class KeyResult:
    """The verdict for one key (one independent object)."""

    key: str | None
    valid: Verdict
    ops: int  # operations that constrain the check (failed reads etc. dropped)
    explanation: str
    linearization: list[Operation] = field(default_factory=list, repr=False)  # witness order if valid
    longest_prefix: list[Operation] = field(default_factory=list, repr=False)  # if not valid
    culprit: Operation | None = None  # the operation that could not be linearized
    states: list[Any] = field(default_factory=list, repr=False)  # states the culprit met at its deadline
    steps: int = 0  # search steps taken
    explored: int = 0  # distinct (linearized set, state) pairs in Lowe's cache
    elapsed: float = 0.0  # wall-clock seconds spent searching this key

    def __repr__(self) -> str:
        return f"<KeyResult key={self.key!r} valid={self.valid!r} ops={self.ops} steps={self.steps}>"


@dataclass
class CheckResult:
    """The verdict for a whole history: valid only if every key is; truthy only when valid is True."""

    valid: Verdict
    model: str
    explanation: str
    keys: list[KeyResult]
    ops: int
    elapsed: float
    source: str = "<history>"

    def __repr__(self) -> str:
        return (f"<CheckResult {self.source}: valid={self.valid!r} model={self.model} "
                f"ops={self.ops} keys={len(self.keys)} elapsed={self.elapsed:.3f}s>")

    def __bool__(self) -> bool:
        return self.valid is True

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready summary (the fields `dsai check-history --json` prints)."""
        return {
            "valid": self.valid,
            "model": self.model,
            "ops": self.ops,
            "keys": len(self.keys),
            "invalid_keys": [k.key for k in self.keys if k.valid is False],
            "states_explored": sum(k.explored for k in self.keys),
            "explanation": self.explanation,
            "elapsed_s": round(self.elapsed, 4),
        }


def check(history: History | Iterable[Event], model: str | Model, timeout: float | None = None,
          max_states: int | None = MAX_STATES) -> CheckResult:
    """Is ``history`` linearizable with respect to ``model`` ('cas-register' or 'kv')?

    ``timeout`` is a wall-clock budget in seconds for the whole history, and
    ``max_states`` bounds the memory (search states cached at once, all keys
    together; None: no bound). When either runs out before a violation is found
    the verdict is "unknown".
    """
    if not isinstance(history, History):
        history = History(history)
    return check_operations(history.operations(), history.events, model, timeout, history.source, max_states)


def check_operations(ops: list[Operation], events: list[Event], model: str | Model,
                     timeout: float | None = None, source: str = "<history>",
                     max_states: int | None = MAX_STATES) -> CheckResult:
    """Check paired operations; ``events`` (the history's events) fixes their real-time order."""
    model = get_model(model)
    start = time.perf_counter()
    deadline = None if timeout is None else start + timeout
    position = {id(e): i for i, e in enumerate(events)}
    by_key: dict[Any, list[Operation]] = {}
    for op in ops:
        if op.f not in model.functions:
            raise HistoryError(f"{source}, {op.where()}: '{op.f}' is not a {model.name} operation "
                               f"({', '.join(model.functions)}); check the model you chose (--model)")
        if model.constrains(op):
            by_key.setdefault(op.key, []).append(op)
    keys, stop = _run_interleaved(
        {key: (len(kops), _search(key, kops, model, position)) for key, kops in by_key.items()}, deadline, max_states
    )
    elapsed = time.perf_counter() - start
    verdict: Verdict = True
    if any(k.valid is False for k in keys):
        verdict = False
    elif any(k.valid == "unknown" for k in keys):
        verdict = "unknown"
    return CheckResult(verdict, model.name, _summary(keys, verdict, stop), keys, len(ops), elapsed, source)


def _summary(keys: list[KeyResult], verdict: Verdict, stop: str | None) -> str:
    if verdict is True:
        n = sum(k.ops for k in keys)
        return f"linearizable: found a legal order for all {n} operations on {len(keys)} key(s)"
    if verdict == "unknown":
        pending = [k for k in keys if k.valid == "unknown"]
        return f"unknown: {stop}, with {len(pending)} of {len(keys)} key(s) undecided and no violation found"
    bad = [k for k in keys if k.valid is False]
    more = f" ({len(bad) - 1} more key(s) are also not linearizable)" if len(bad) > 1 else ""
    return f"not linearizable: {bad[0].explanation}{more}"


def _run_interleaved(searches: dict[Any, tuple[int, Generator[tuple[int, int], None, KeyResult]]],
                     deadline: float | None, max_states: int | None) -> tuple[list[KeyResult], str | None]:
    """Run the per-key searches round-robin, a slice of steps each, until all finish, one
    finds a violation (that settles the history, as in Porcupine's parallel check), or time is up.

    Interleaving matters: refuting a key can take far longer than refuting another one,
    so checking keys one after the other could spend the budget on the slow one.
    Returns the per-key results and why the run stopped early (None if it did not).
    """
    results: dict[Any, KeyResult] = {}
    spent = dict.fromkeys(searches, 0.0)
    steps = dict.fromkeys(searches, 0)
    cached = dict.fromkeys(searches, 0)  # live cache sizes: finished searches free theirs
    queue = deque(searches)
    stop_reason = None
    while queue:
        key = queue.popleft()
        t0 = time.perf_counter()
        try:
            steps[key], cached[key] = next(searches[key][1])
        except StopIteration as done:
            results[key], cached[key] = done.value, 0
            if done.value.valid is False:
                stop_reason = "not checked: another key already shows the history is not linearizable"
        else:
            queue.append(key)
            if deadline is not None and time.perf_counter() > deadline:
                stop_reason = "the timeout ran out (raise --timeout)"
            elif max_states is not None and sum(cached.values()) > max_states:
                stop_reason = (f"the search cached {sum(cached.values())} states, over the memory budget "
                               f"of {max_states} (raise --max-states if you have the memory)")
        spent[key] += time.perf_counter() - t0
        if stop_reason is not None:
            break
    for key in searches:
        if key not in results:
            why = stop_reason if stop_reason.startswith("not checked") else f"undecided: {stop_reason}"
            results[key] = KeyResult(key, "unknown", searches[key][0], why, steps=steps[key], explored=cached[key])
        searches[key][1].close()
        results[key].elapsed = spent[key]
    return [results[key] for key in searches], stop_reason


def _search(key: Any, ops: list[Operation], model: Model,
            position: dict[int, int]) -> Generator[tuple[int, int], None, KeyResult]:
    """Wing & Gong search with Lowe's cache over one key's operations.

    A generator: every `_SLICE` steps it yields (steps so far, cache size) so the
    caller can interleave keys and watch the clock and memory; returns the `KeyResult`.
    """
    n = len(ops)
    end = len(position)  # info ops return after every real event
    entries: list[tuple[int, int, int]] = []  # (position, kind 0=call 1=return, op)
    for i, op in enumerate(ops):
        entries.append((position[id(op.invoke)], 0, i))
        done = end + i if op.outcome == "info" else position[id(op.complete)]
        entries.append((done, 1, i))
    entries.sort()
    # Doubly linked list over entry slots 0..2n-1 (n >= 1), head sentinel at 2n, -1 = end.
    head = 2 * n
    nxt = list(range(1, 2 * n)) + [-1, 0]
    prv = [head] + list(range(0, 2 * n - 1)) + [-1]
    op_of = [o for _, _, o in entries]
    is_call = [kind == 0 for _, kind, _ in entries]
    ret_slot = [0] * n
    for slot, (_, kind, o) in enumerate(entries):
        if kind:
            ret_slot[o] = slot
    match = [ret_slot[op_of[s]] if is_call[s] else -1 for s in range(2 * n)]
    canon = model.relabel(ops)
    steps = [model.compile(op) for op in canon]
    bits = [1 << i for i in range(n)]
    twin = _earlier_twins(canon)

    state, linearized, ever = model.init, 0, 0
    cache: set[tuple[int, Any]] = set()
    calls: list[tuple[int, Any]] = []  # (call slot, state before it)
    best: list[int] = []  # longest linearizable prefix (op indices)
    stuck = -1  # the operation whose deadline stopped that longest prefix
    fails: dict[int, dict[Any, None]] = {}  # op -> states it was impossible in, at its deadline
    counter, verdict = 0, None
    e = nxt[head]
    while nxt[head] != -1:
        counter += 1
        if counter % _SLICE == 0:
            yield counter, len(cache)
        if is_call[e]:
            o = op_of[e]
            t = twin[o]
            if t >= 0 and not (linearized >> t) & 1:  # its earlier twin is still pending: use that one
                e = nxt[e]
                continue
            new = steps[o](state)
            if new is not ILLEGAL:
                lin = linearized | bits[o]
                if (lin, new) not in cache:
                    cache.add((lin, new))
                    calls.append((e, state))
                    state, linearized = new, lin
                    ever |= lin
                    # lift the call and its return out of the list
                    p, q = prv[e], nxt[e]
                    nxt[p], prv[q] = q, p
                    m = match[e]
                    p, q = prv[m], nxt[m]
                    nxt[p] = q
                    if q != -1:
                        prv[q] = p
                    e = nxt[head]
                    continue
            e = nxt[e]
        else:
            o = op_of[e]  # this operation's deadline passed without it taking effect
            if steps[o](state) is ILLEGAL:
                seen = fails.setdefault(o, {})
                if len(seen) < 16:
                    seen[state] = None
            if len(calls) > len(best) or stuck < 0:
                best, stuck = [op_of[c] for c, _ in calls], o
            if not calls:
                verdict = False
                break
            e, state = calls.pop()
            linearized ^= bits[op_of[e]]
            m = match[e]  # unlift: put the return, then the call, back
            p, q = prv[m], nxt[m]
            nxt[p] = m
            if q != -1:
                prv[q] = m
            nxt[prv[e]] = e
            prv[nxt[e]] = e
            e = nxt[e]
    if verdict is None:
        order = [ops[op_of[c]] for c, _ in calls]
        return KeyResult(key, True, n, f"linearizable ({n} operations)", order, steps=counter, explored=len(cache))
    result = _violation(key, ops, model, best, stuck, fails, ever, ret_slot, counter)
    result.explored = len(cache)
    return result


def _symmetry_key(op: Operation) -> tuple[str, Any]:
    # bool is tagged: JSON true and 1 are different values although Python says True == 1
    tag = lambda v: ("bool", v) if isinstance(v, bool) else v  # noqa: E731
    return op.f, tuple(map(tag, op.value)) if isinstance(op.value, tuple) else tag(op.value)


def _earlier_twins(ops: list[Operation]) -> list[int]:
    """For each info operation, the previous info operation with the same f and value, else -1.

    Such twins are interchangeable: same step, both may take effect any time after
    their invoke, or never. So the search only ever linearizes the earliest-invoked
    pending one, which cuts 2^k subsets of k twins down to k + 1 counts.
    """
    last: dict[tuple[str, Any], int] = {}
    twin = [-1] * len(ops)
    for i, op in enumerate(ops):  # ops are in invoke order
        if op.outcome == "info":
            key = _symmetry_key(op)
            twin[i] = last.get(key, -1)
            last[key] = i
    return twin


def _violation(key: Any, ops: list[Operation], model: Model, best: list[int], stuck: int,
               fails: dict[int, dict[Any, None]], ever: int, ret_slot: list[int], counter: int) -> KeyResult:
    """Name the operation no linearization could include, and what the object held when it was due."""
    prefix = [ops[o] for o in best]
    never = [o for o in fails if not (ever >> o) & 1]
    if never:  # no partial linearization ever included it: the earliest such op is the first thing wrong
        culprit = min(never, key=lambda o: ret_slot[o])
        states = sorted(fails[culprit], key=repr)
        text = model.explain(ops[culprit], states)
    else:  # each op fits into some partial order but none covers them all: show the longest one
        culprit = stuck
        states = sorted(fails.get(culprit, ()), key=repr)
        op = ops[culprit]
        name = "the register" if key is None else f"key {key!r}"
        held = f" ({name} holds {model.describe_states(states)} there)" if states else ""
        text = (f"no legal order covers all {len(ops)} operations; the longest linearizable prefix found has "
                f"{len(prefix)}, and after it {op.describe()} ({op.span()}) cannot take effect{held}")
    return KeyResult(key, False, len(ops), text, longest_prefix=prefix, culprit=ops[culprit],
                     states=states, steps=counter)
