"""A drop-in replacement: unchanged `import ray` code talks to the simulated cluster instead of a real one.

A program written for Ray names its runtime by module path (`import ray`,
`from ray.util.queue import Queue`), so the substitution happens where Python
resolves those names: an import hook maps `ray` and every `ray.<sub>` to the
simulator's module of the same path (`dsai.mockray.<sub>`). The program's own
code is never edited or copied; a submodule the simulator lacks fails at its
import with a `ModuleNotFoundError` naming it, not later with an
`AttributeError` deep in the program.

`ray` itself is a thin module that forwards every attribute to
`dsai.mockray`, except `init`, which fills the defaults this session was
given (`seed`, `num_cpus`, ...) for the keywords the program leaves out, so
`dsai run --seed 7 script.py` reseeds a script that calls `ray.init()`; what
the program passes itself always wins, as on Ray. A program that never calls
`ray.init` (Ray starts a cluster on first use) gets the same defaults.

    with simulate_ray(seed=7):
        import ray                  # the simulator
        ray.init()                  # seed 7, 8 CPUs
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
from contextlib import contextmanager
from typing import Any, Iterator

import dsai.mockray as _mockray
from dsai.mockray import session as _session

__all__ = ["SimulatedRay", "simulate_ray", "install", "uninstall", "installed", "current"]

_TARGET = "dsai.mockray"
_SHAPE_KEYWORDS = ("num_cpus", "num_gpus", "resources")


class SimulatedRay(types.ModuleType):
    """The `ray` module a drop-in session sees: `dsai.mockray`, with this session's `init` defaults."""

    def __init__(self, defaults: dict[str, Any]) -> None:
        super().__init__("ray", _mockray.__doc__)
        self.__path__: list[str] = []  # a package, so `import ray.util` asks the finder
        self.__version__ = _mockray.__version__
        self.__all__ = list(_mockray.__all__)  # `from ray import *`
        self._dsai_defaults = dict(defaults)

    def set_init_default(self, key: str, value: Any) -> None:
        """Use `value` for `ray.init(key=...)` from now on when the program does not pass it."""
        self._dsai_defaults[key] = value

    def init(self, address: str | None = None, **kwargs: Any) -> Any:
        """`ray.init`, with the session's defaults for the keywords the program leaves out."""
        joining = address is not None and address != "local"
        for key, value in self._dsai_defaults.items():
            # A cluster being joined has its shape already (Ray refuses num_cpus there).
            if not (joining and key in _SHAPE_KEYWORDS):
                kwargs.setdefault(key, value)
        return _mockray.init(address, **kwargs)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(_mockray, name)

    def __dir__(self) -> list[str]:
        return sorted(set(dir(_mockray)) | {"init"})

    def __repr__(self) -> str:
        return f"<module 'ray' (the dsai simulator, dsai.mockray; init defaults {self._dsai_defaults})>"


class _Alias(importlib.abc.Loader):
    """Loads `ray.<sub>` as the existing module `dsai.mockray.<sub>` (the same object, not a copy)."""

    def __init__(self, module: types.ModuleType) -> None:
        self.module = module

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        # A placeholder: returning the real module here would let the import system
        # overwrite its __spec__ with the alias's.
        return types.ModuleType(spec.name)

    def exec_module(self, module: types.ModuleType) -> None:
        # The import system returns whatever sys.modules holds after exec_module.
        sys.modules[module.__name__] = self.module


class _RayFinder(importlib.abc.MetaPathFinder):
    """Resolves `ray` and `ray.<sub>` to the simulator, ahead of any real Ray installed."""

    def __init__(self, ray: SimulatedRay) -> None:
        self.ray = ray

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname == "ray":
            return importlib.machinery.ModuleSpec("ray", _Alias(self.ray), is_package=True)
        if not fullname.startswith("ray."):
            return None
        module = _simulator_module(fullname)
        return importlib.machinery.ModuleSpec(fullname, _Alias(module),
                                              is_package=hasattr(module, "__path__"))


def _simulator_module(fullname: str) -> types.ModuleType:
    """`dsai.mockray.<sub>` for `ray.<sub>`, or a ModuleNotFoundError naming what is missing."""
    sub = fullname[len("ray."):]
    target = f"{_TARGET}.{sub}"
    try:
        return importlib.import_module(target)
    except ModuleNotFoundError as e:
        # Only "this very module does not exist" means unsupported; a module that exists
        # but fails to import its own dependency must show that error instead.
        if e.name is None or not (target == e.name or target.startswith(e.name + ".")):
            raise
    parent_name, _, leaf = target.rpartition(".")
    parent = sys.modules.get(parent_name)
    value = getattr(parent, leaf, None) if parent is not None else None
    if isinstance(value, types.ModuleType):  # a module the simulator exports as an attribute
        return value
    raise ModuleNotFoundError(
        f"No module named {fullname!r}: the dsai simulator does not provide `{fullname}` "
        f"(there is no `{target}`). Run this program on real Ray, or see the README's table "
        "\"Deliberate differences from real Ray\" for what the simulator covers.",
        # Named after the simulator's module, not `fullname`: `from ray import x` would
        # otherwise swallow it and say only "cannot import name 'x'".
        name=target)


_state: dict[str, Any] = {}  # while installed: finder, ray, saved modules, saved starter


def installed() -> bool:
    """Whether `import ray` currently resolves to the simulator through this hook."""
    return bool(_state)


def current() -> SimulatedRay:
    """The `ray` module of the installed hook."""
    if not _state:
        raise RuntimeError("the ray drop-in is not installed; call dsai.dropin.install() first")
    return _state["ray"]


def install(**defaults: Any) -> SimulatedRay:
    """Make `import ray` (and `ray.<sub>`) resolve to the simulator until `uninstall()`.

    `defaults` are `ray.init` keywords (`seed`, `num_cpus`, `num_gpus`,
    `resources`, ...) used when the program does not pass them, including
    for the cluster Ray starts on first use. A real `ray` already imported is
    set aside and restored by `uninstall()`.
    """
    if _state:
        raise RuntimeError("the ray drop-in is already installed; call dsai.dropin.uninstall() first")
    ray = SimulatedRay(defaults)
    finder = _RayFinder(ray)
    saved = {name: mod for name, mod in sys.modules.items() if name == "ray" or name.startswith("ray.")}
    for name in saved:
        del sys.modules[name]
    sys.meta_path.insert(0, finder)
    _state.update(finder=finder, ray=ray, saved=saved, starter=_session.starter)
    # Ray starts a default cluster on the first call that needs one; so does the
    # simulator, through session.starter: give that cluster the session's defaults too.
    _session.starter = ray.init
    return ray


def uninstall() -> None:
    """Undo `install()`: `import ray` finds whatever it found before (real Ray, or nothing)."""
    if not _state:
        return
    sys.meta_path.remove(_state["finder"])
    for name in [n for n in sys.modules if n == "ray" or n.startswith("ray.")]:
        del sys.modules[name]
    sys.modules.update(_state["saved"])
    _session.starter = _state["starter"]
    _state.clear()


@contextmanager
def simulate_ray(**defaults: Any) -> Iterator[SimulatedRay]:
    """`import ray` is the simulator inside the block (see `install`); the cluster is shut down after."""
    ray = install(**defaults)
    try:
        yield ray
    finally:
        try:
            _mockray.shutdown()
        finally:
            uninstall()
