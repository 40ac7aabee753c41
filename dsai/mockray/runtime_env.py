"""Runtime environments: the environment variables a job, task or actor runs with, seen by that work only.

Ray sets `runtime_env={"env_vars": {...}}` per job (`ray.init`) and per task
or actor (the decorator or `.options`); a child task inherits its parent's,
and a child's own `env_vars` are merged over the inherited ones (its keys
win). The worker process running the work has them in `os.environ`.

Here every worker shares the driver's process, so `os.environ` becomes a view
(installed the first time any `env_vars` is given): inside simulated work it
shows the process's variables with that work's `env_vars` on top; in the
driver, the process's own. Writes go to the process's environment. The other
`runtime_env` fields (`pip`, `working_dir`, `conda`, ...) would install or
ship things; the simulator does not, and says so with `NotImplementedError`.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from typing import Any, Iterator

from dsai.sim.process import current_process

__all__ = ["validate", "merged", "current_env", "env_of", "WorkerEnviron", "install"]

_real_environ = os.environ
active = False  # set once any env_vars is given: until then nothing inherits or looks them up


def validate(runtime_env: Any) -> dict[str, str] | None:
    """The `env_vars` of a `runtime_env` option (None if none); Ray's TypeError for bad
    ones, NotImplementedError naming any other field."""
    if runtime_env is None:
        return None
    if not isinstance(runtime_env, dict):
        raise TypeError(f"runtime_env must be a dict, got {type(runtime_env)}")
    other = [k for k in runtime_env if k != "env_vars"]
    if other:
        raise NotImplementedError(
            f"runtime_env field(s) {', '.join(map(repr, other))} are not simulated: simulated workers "
            "run in this process, with its packages and files; the simulator supports only "
            "runtime_env={'env_vars': {...}}")
    env = runtime_env.get("env_vars")
    if env is None:
        return None
    if not isinstance(env, dict):
        raise TypeError(f"runtime_env['env_vars'] must be of type Dict[str, str], got {type(env)}")
    for key, val in env.items():
        if not isinstance(key, str):
            raise TypeError("runtime_env['env_vars'] must be of type Dict[str, str], but the key "
                            f"{key} is of type {type(key)}")
        if not isinstance(val, str):
            raise TypeError("runtime_env['env_vars'] must be of type Dict[str, str], but the value "
                            f"{val} is of type {type(val)}")
    if env:
        install()
    return dict(env) or None


def merged(parent: dict[str, str] | None, own: dict[str, str] | None) -> dict[str, str] | None:
    """A child's env_vars: the inherited ones with its own on top."""
    if not parent:
        return own
    if not own:
        return parent
    return {**parent, **own}


def env_of(task: Any) -> dict[str, str] | None:
    """The env_vars `task` runs with (an actor's calls run with the actor's)."""
    env = getattr(task, "env_vars", None)
    if env is None and task.actor is not None:
        env = getattr(task.actor, "env_vars", None)
    return env


def current_env(rt: Any) -> dict[str, str] | None:
    """The env_vars of the code running now: its task's, or the job's in the driver."""
    proc = current_process()
    task = proc.context if proc is not None and proc.node is not None else None
    if task is not None and hasattr(task, "actor"):
        return env_of(task)
    return getattr(rt, "job_env_vars", None)


def _overlay() -> dict[str, str] | None:
    proc = current_process()
    if proc is None or proc.node is None or proc.context is None or not hasattr(proc.context, "actor"):
        return None
    return env_of(proc.context)


class WorkerEnviron(MutableMapping):
    """`os.environ` while env_vars are in use: the process's variables, and inside
    simulated work that work's env_vars on top."""

    def __getitem__(self, key: str) -> str:
        env = _overlay()
        if env is not None and key in env:
            return env[key]
        return _real_environ[key]

    def __setitem__(self, key: str, value: str) -> None:
        _real_environ[key] = value

    def __delitem__(self, key: str) -> None:
        del _real_environ[key]

    def __iter__(self) -> Iterator[str]:
        env = _overlay()
        yield from _real_environ
        if env:
            yield from (k for k in env if k not in _real_environ)

    def __len__(self) -> int:
        env = _overlay()
        return len(_real_environ) + (sum(1 for k in env if k not in _real_environ) if env else 0)

    def copy(self) -> dict[str, str]:
        return dict(self)

    def __repr__(self) -> str:
        return f"environ({dict(self)!r})"


def install() -> None:
    """Make `os.environ` the per-work view (once; the driver sees no difference)."""
    global active
    active = True
    if not isinstance(os.environ, WorkerEnviron):
        os.environ = WorkerEnviron()  # type: ignore[assignment]
