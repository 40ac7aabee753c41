"""Shared helpers for the dsai.check tests: compact histories and the public test corpus."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from dsai.check import Event, History


def make_history(*rows: str, key: str | None = None) -> History:
    """Rows like ``"0 invoke write 1"`` / ``"1 ok read null"`` / ``"2 fail cas [1, 2]"``:
    process, type, f, then the value as JSON (``null`` if omitted). Row order is real time."""
    events = []
    for row in rows:
        process, type_, f, *rest = row.split(" ", 3)
        value = json.loads(rest[0]) if rest else None
        events.append(Event(int(process), type_, f, key, value))
    return History(events)


@pytest.fixture
def hist():
    return make_history


# Porcupine's test histories ship with the tests (MIT licence in the folder), so the
# corpus test runs in any clone.
PORCUPINE = Path(__file__).resolve().parents[1] / "data" / "porcupine"


def porcupine_dir() -> Path | None:
    """The Porcupine corpus: $DSAI_SHARED_DATA/porcupine if set, else tests/data/porcupine."""
    env = os.environ.get("DSAI_SHARED_DATA")
    if env:  # an explicit override is used alone: a wrong one should skip loudly, not fall back
        candidates = [Path(env) / "porcupine", Path(env)]
    else:
        candidates = [PORCUPINE]
    return next((c for c in candidates if (c / "verdicts.tsv").is_file()), None)


_MISSING = ("Porcupine corpus not found (looked in $DSAI_SHARED_DATA/porcupine if set, else "
            "tests/data/porcupine, which the repository ships): unset DSAI_SHARED_DATA or point "
            "it at the folder holding porcupine/")


@pytest.fixture
def porcupine_root() -> Path:
    root = porcupine_dir()
    if root is None:
        pytest.skip(_MISSING)
    return root


def _porcupine_cases() -> list:
    root = porcupine_dir()
    if root is None:
        return [pytest.param(None, marks=pytest.mark.skip(reason=_MISSING), id="corpus-missing")]
    cases = []
    for line in (root / "verdicts.tsv").read_text().splitlines()[1:]:
        name, verdict = line.split("\t")
        cases.append(pytest.param((root / name, verdict == "true"), id=Path(name).name))
    return cases


def pytest_generate_tests(metafunc):
    # Parametrize here, not in the test module, so test files never import this conftest.
    if "porcupine_case" in metafunc.fixturenames:
        metafunc.parametrize("porcupine_case", _porcupine_cases())
