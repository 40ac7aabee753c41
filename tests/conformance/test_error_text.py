"""The text of errors on both backends: what `str()` of a failed task's error says, line by line."""

from __future__ import annotations

import re

import pytest

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _lines(error: BaseException) -> list[str]:
    """str(error) without Ray's colours, its (pid=..., ip=...) parts blanked."""
    text = _ANSI.sub("", str(error))
    return [re.sub(r"\(pid=\d+, ip=[0-9.]+\)", "(pid, ip)", ln) for ln in text.splitlines()]


def test_a_failed_argument_names_the_error_it_carries(ray):
    @ray.remote
    def f():
        raise ValueError("x")

    @ray.remote
    def down(x):
        return x

    with pytest.raises(ValueError) as info:
        ray.get(down.remote(f.remote()))
    assert isinstance(info.value, ray.exceptions.RayTaskError)
    lines = _lines(info.value)
    assert lines[:3] == ["ray::down() (pid, ip)",
                         "  At least one of the input arguments for this task could not be computed:",
                         "ray.exceptions.RayTaskError: ray::f() (pid, ip)"]
    assert lines[-1] == "ValueError: x"
    assert any('raise ValueError("x")' in ln for ln in lines)


def test_a_chain_of_failed_arguments_names_each_task(ray):
    @ray.remote
    def f():
        raise ValueError("x")

    @ray.remote
    def down(x):
        return x

    with pytest.raises(ValueError) as info:
        ray.get(down.remote(down.remote(f.remote())))
    heads = [ln for ln in _lines(info.value) if "ray::" in ln]
    assert heads == ["ray::down() (pid, ip)", "ray.exceptions.RayTaskError: ray::down() (pid, ip)",
                     "ray.exceptions.RayTaskError: ray::f() (pid, ip)"]
