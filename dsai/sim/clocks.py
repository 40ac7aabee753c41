"""One clock: every clock simulated work can read follows the virtual clock, and the driver's runs ahead by what it waited.

Design notes. Ray programs time themselves with `time.time()`,
`time.perf_counter()` or `datetime.now()`, on the driver and inside tasks.
In the simulator only the event loop moves time, so those functions are
patched (once, process-wide, by module attribute) and answer by who asks:

- Simulated work (code running in a `Process`, i.e. a task, an actor call,
  a simulated client) reads the virtual clock of its own simulation:
  `monotonic()` and `perf_counter()` are its virtual seconds since the
  simulation started, `time()` is `EPOCH` (2026-01-01 00:00:00 UTC) plus
  those seconds, and `datetime.now()` follows `time()`. Deterministic: the
  same program and seed read the same values on any machine.
- The driver (the thread that connected the current simulation, e.g. the
  notebook's) reads the real clock plus every virtual second its simulations
  have run so far. So its clock runs at real speed between Ray calls and
  jumps forward by the virtual time a blocking call (`ray.get`, `ray.wait`,
  `await ref`, `time.sleep`) covered: `perf_counter()` around
  `ray.get(slow.remote(1))` reads about 1.0. It only ever jumps forward,
  which asyncio and Jupyter's event loop tolerate (a timer fires early);
  a clock that stopped between events is what froze time-machine's loops.
- Any other thread (Jupyter's kernel threads, a thread pool) reads the real
  clocks.

The two agree on differences, not on absolute values: a task's
`time.time()` is `EPOCH + now`, the driver's is the real time plus the
virtual seconds waited.

`time.sleep(s)` inside simulated work takes `s` virtual seconds (scaled by
a slowed node's factor). In the driver, while a simulation is connected, it
lets the simulation run `s` virtual seconds and returns at once, so a
polling loop `while not ray.wait([ref], timeout=0)[0]: time.sleep(0.05)`
ends. Elsewhere it is the real sleep, and so is a sleep that Jupyter's
kernel, asyncio, pytest and the like call on the driver's thread.

Names bound before this module was imported (`from time import sleep` in
an earlier notebook cell) are rebound in `__main__` (the notebook's or the
script's namespace) when it is imported, if they carry the function's own
name: an alias (`WALL = time.perf_counter`) is a deliberate hold on the real
clock and stays real. Other modules keep what they bound, which is what lets
pytest, threading and queue keep real time.
`datetime.datetime` is replaced by a subclass whose `now`/`utcnow`/`today`
follow these clocks; the objects it makes are plain `datetime`s, and
`isinstance` answers as for the real class.
"""

from __future__ import annotations

import copyreg
import datetime as _dt
import sys
import threading
import time
from typing import Any

from greenlet import getcurrent

__all__ = ["EPOCH", "activate", "driver_thread", "virtual_elapsed", "real_perf_counter", "real_monotonic", "real_time",
           "real_sleep", "install"]

EPOCH = 1_767_225_600.0  # time.time() at virtual second 0 in simulated work: 2026-01-01T00:00:00Z

real_time = time.time
real_time_ns = time.time_ns
real_monotonic = time.monotonic
real_monotonic_ns = time.monotonic_ns
real_perf_counter = time.perf_counter
real_perf_counter_ns = time.perf_counter_ns
real_sleep = time.sleep
_real_datetime = _dt.datetime

_sim: Any = None  # the connected simulation, whose clock the driver's includes
_base = 0.0  # virtual seconds run by earlier connected simulations
_driver = threading.main_thread().ident  # the thread that connected it
outside_sleep: Any = None  # called (True/False) around another thread's real sleep (mockray/driver_hooks.py)
driver_sleep: Any = None  # driver_sleep(sim, s): the driver's sleep, if it serves other threads (True)


def activate(sim: Any) -> None:
    """`sim` is now the connected simulation (None: none); called by `set_current`.
    The driver's clock keeps the virtual seconds of the one it leaves, so it never goes back."""
    global _sim, _base, _driver
    old = _sim
    if old is sim:
        return
    if old is not None:
        _base += old.loop.clock.time
    _sim = sim
    if sim is not None:
        _driver = threading.get_ident()


def driver_thread() -> int | None:
    """The ident of the thread that connected the current simulation (the driver's)."""
    return _driver


def virtual_elapsed() -> float:
    """Virtual seconds the driver has waited, over every simulation connected so far."""
    s = _sim
    return _base + (s.loop.clock.time if s is not None else 0.0)


def _proc() -> Any:
    """The simulated process running now, or None (the driver, another thread)."""
    try:
        return getattr(getcurrent(), "proc", None)
    except RuntimeError:  # a greenlet being finalized (a gc callback reads the clock): not simulated work
        return None


def _offset() -> float:
    """What the calling driver thread's clocks add to the real ones (0 on other threads)."""
    if threading.get_ident() != _driver:
        return 0.0
    s = _sim
    return _base + (s.loop.clock.time if s is not None else 0.0)


# --- the patched clocks ------------------------------------------------------
# Each checks for simulated work first (one greenlet lookup): a process reads its
# simulation's clock directly.

def _time() -> float:
    proc = _proc()
    if proc is not None:
        return EPOCH + proc.sim.loop.clock.time
    return real_time() + _offset()


def _time_ns() -> int:
    proc = _proc()
    if proc is not None:
        return int(EPOCH * 1e9) + round(proc.sim.loop.clock.time * 1e9)
    return real_time_ns() + round(_offset() * 1e9)


def _monotonic() -> float:
    proc = _proc()
    if proc is not None:
        return proc.sim.loop.clock.time
    return real_monotonic() + _offset()


def _monotonic_ns() -> int:
    proc = _proc()
    if proc is not None:
        return round(proc.sim.loop.clock.time * 1e9)
    return real_monotonic_ns() + round(_offset() * 1e9)


def _perf_counter() -> float:
    proc = _proc()
    if proc is not None:
        return proc.sim.loop.clock.time
    return real_perf_counter() + _offset()


def _perf_counter_ns() -> int:
    proc = _proc()
    if proc is not None:
        return round(proc.sim.loop.clock.time * 1e9)
    return real_perf_counter_ns() + round(_offset() * 1e9)


def _sleep(seconds: float) -> None:
    proc = _proc()
    if proc is not None:
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        proc.sim.sleep(seconds)
        return
    s = _sim
    if (s is not None and threading.get_ident() == _driver and not s.loop.running
            and not sys._getframe(1).f_globals.get("__name__", "").startswith(_INFRASTRUCTURE)):
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        # The driver sleeps: the cluster runs meanwhile, in virtual time.
        if driver_sleep is None or not driver_sleep(s, seconds):  # (serving other threads' requests)
            s.loop.run(s.loop.clock.time + seconds)
        return
    hook = outside_sleep  # another thread of the driver sleeps: the cluster may run meanwhile
    if hook is None or threading.get_ident() == _driver:
        return real_sleep(seconds)
    hook(True)
    try:
        real_sleep(seconds)
    finally:
        hook(False)


# The driver thread also runs Jupyter's kernel, whose own pauses (ipykernel sleeps 0.5 ms
# after every cell) must not move the cluster's clock: sleeps called from these stay real.
_INFRASTRUCTURE = ("ipykernel", "IPython", "jupyter", "tornado", "zmq", "asyncio", "concurrent",
                   "threading", "traitlets", "comm", "ipywidgets", "debugpy", "nbclient", "nbval",
                   "_pytest", "pytest", "pluggy")


class _DatetimeType(type):
    """isinstance/issubclass answer as for the real datetime class."""

    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, _real_datetime)

    def __subclasscheck__(cls, sub: type) -> bool:
        return issubclass(sub, _real_datetime)


class _Datetime(_real_datetime, metaclass=_DatetimeType):
    """`datetime.datetime` whose `now`, `utcnow` and `today` read the patched `time.time`."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        return _real_datetime(*args, **kwargs)  # a plain datetime, as every other constructor makes

    @classmethod
    def now(cls, tz: Any = None) -> Any:
        return _real_datetime.fromtimestamp(_time(), tz)

    @classmethod
    def today(cls) -> Any:
        return _real_datetime.fromtimestamp(_time())

    @classmethod
    def utcnow(cls) -> Any:
        return _real_datetime.fromtimestamp(_time(), _dt.timezone.utc).replace(tzinfo=None)


_Datetime.__name__ = _Datetime.__qualname__ = "datetime"
_Datetime.__module__ = "datetime"


def _reduce_datetime(d: Any) -> tuple:
    # pickle finds a class by its module and name, and `datetime.datetime` is now the
    # subclass: datetimes are pickled through it (and unpickle as plain datetimes).
    return (_dt.datetime, d.__reduce__()[1])

_PATCHES = {"time": _time, "time_ns": _time_ns, "monotonic": _monotonic, "monotonic_ns": _monotonic_ns,
            "perf_counter": _perf_counter, "perf_counter_ns": _perf_counter_ns, "sleep": _sleep}


def install() -> None:
    """Patch the `time` functions and `datetime.datetime` (idempotent), and rebind
    the real ones that `__main__` (a script, a notebook) imported by name before."""
    swaps: dict[int, Any] = {}
    for name, fn in _PATCHES.items():
        real = getattr(time, name)
        if real is not fn:
            swaps[id(real)] = fn
            setattr(time, name, fn)
    if _dt.datetime is _real_datetime:
        _dt.datetime = _Datetime
        copyreg.pickle(_real_datetime, _reduce_datetime)
        swaps[id(_real_datetime)] = _Datetime
    if not swaps:
        return
    namespaces = []
    main = sys.modules.get("__main__")
    if main is not None:
        namespaces.append(vars(main))
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None
    if shell is not None:
        namespaces.append(shell.user_ns)
    for ns in namespaces:
        for key, value in list(ns.items()):
            new = swaps.get(id(value))
            if new is not None and key == new.__name__.lstrip("_"):
                ns[key] = new
