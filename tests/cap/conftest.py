"""Shared helpers for the dsai.cap tests: small, fast runs (the checks run over many seeds)."""

from __future__ import annotations

import functools

from dsai.cap import run


@functools.lru_cache(maxsize=None)
def cached_run(mode: str, nemesis: str, seed: int, ops: int = 60, **kw):
    """One run per (mode, nemesis, seed, ops): several tests look at the same runs."""
    return run(mode=mode, nemesis=nemesis, seed=seed, ops=ops, **kw)
