"""The driver's threading waits are the cluster's: its `Event.wait`, `join` and `sleep` serve the simulation and its other threads.

dsai.sim's threading primitives call these hooks (`locks.outside`) when they
wait outside simulated work. The driver's main thread serves the requests of
its other threads while it waits (driver_threads.py); another thread that
waits is quiescent, so the cluster may run meanwhile. Waits made by
Jupyter's own machinery stay real.
"""
from __future__ import annotations

import sys
import threading
from typing import Any, Callable

from dsai.mockray import driver_async, session
from dsai.mockray.driver_threads import outside, post_wait
from dsai.mockray.exceptions import SimulationDeadlockError
from dsai.sim import clocks, locks
from dsai.sim.process import current_process

__all__ = ["install"]

_LIBRARIES = ("threading", "queue", "concurrent.futures", "asyncio", "dsai.sim", "dsai.mockray")


def _user_waits() -> bool:
    """Whether the first caller outside threading/queue/concurrent.futures/asyncio/dsai is user code
    (not Jupyter's machinery, whose waits stay real)."""
    f = sys._getframe(2)
    while f is not None:
        mod = f.f_globals.get("__name__", "")
        if not mod.startswith(_LIBRARIES):
            return not mod.startswith(locks._INFRASTRUCTURE)
        f = f.f_back
    return True


class _Hooks:
    """What dsai.sim's threading primitives call outside simulated work (locks.outside)."""

    @staticmethod
    def _runtime() -> Any:
        rt = session.runtime_or_none()
        if rt is None or rt.sim.loop.running:
            return None
        return rt

    def driver_wait(self, until: Callable[[], bool], timeout: float | None, bell: Any) -> bool | None:
        """The driver's thread waits in a `threading` primitive: serve the cluster meanwhile.
        None: not the driver's thread, no cluster, or Jupyter's own wait (wait for real)."""
        if threading.get_ident() != clocks.driver_thread() or current_process() is not None:
            return None
        rt = self._runtime()
        if rt is None or not _user_waits():
            return None
        return outside(rt).serve(until, timeout, bell, False)

    @staticmethod
    def is_driver() -> bool:
        return threading.get_ident() == clocks.driver_thread()

    def woken(self, thread: Any) -> None:
        """`thread`, waiting in a `threading` wait, is notified (by the caller)."""
        rt = session.runtime_or_none()
        out = rt.outside if rt is not None else None
        if out is not None and getattr(thread, "_dsai_takes_part", False):
            out.set_running(thread, True)

    def quiescent(self, waiting: bool) -> None:
        """Another thread enters (True) or leaves (False) a `threading` wait."""
        if threading.get_ident() == clocks.driver_thread():
            return
        rt = session.runtime_or_none()
        out = rt.outside if rt is not None else None
        if out is None:
            return
        t = threading.current_thread()
        if getattr(t, "_dsai_takes_part", False):
            out.set_running(t, not waiting)

    def thread_started(self, thread: Any) -> None:
        """A thread is started outside simulated work: it takes part if the driver's user code
        started it while a cluster is up (not Jupyter's machinery)."""
        rt = session.runtime_or_none()
        if rt is None or not _user_waits():
            return
        thread._dsai_takes_part = True
        out = outside(rt)
        out.set_running(thread, True)
        loop = driver_async.driver_loop()  # (the driver's asyncio loop hears of its requests)
        if loop is not None:
            driver_async.pump_for(loop, out)

    def thread_ended(self, thread: Any) -> None:
        rt = session.runtime_or_none()
        out = rt.outside if rt is not None else None
        if out is not None and getattr(thread, "_dsai_takes_part", False):
            out.set_running(thread, False)


def _driver_sleep(sim: Any, seconds: float) -> bool:
    """The driver's `time.sleep(s)` runs the cluster `s` virtual seconds: serving other threads too."""
    rt = session.runtime_or_none()
    out = rt.outside if rt is not None and rt.sim is sim else None
    if out is None or not out.busy():
        return False
    out.serve(lambda: False, seconds, locks.Bell(), True)
    return True


def _at_exit() -> None:
    """The interpreter exits and is about to wait for its non-daemon threads: serve the ones
    that take part until they end (they may be waiting on the cluster)."""
    rt = session.runtime_or_none()
    out = rt.outside if rt is not None else None
    if out is None or rt.sim.loop.running or threading.get_ident() != clocks.driver_thread():
        return

    def others() -> list:
        return [t for t in threading.enumerate() if getattr(t, "_dsai_takes_part", False)
                and not t.daemon and not getattr(t, "_dsai_ended", False) and t is not threading.current_thread()]

    try:
        out.serve(lambda: not others(), None, locks.Bell(), False)
    except SimulationDeadlockError:
        pass  # (its requests were failed with it: the threads end)


def install() -> None:
    """Hook the driver's threading waits, sleeps and exit into the simulation (once, at import)."""
    if locks.outside is None:
        threading._register_atexit(_at_exit)
    hooks = locks.outside = _Hooks()
    clocks.outside_sleep = hooks.quiescent  # (another thread's real sleep: the cluster may run)
    clocks.driver_sleep = _driver_sleep
    driver_async.wait_from_thread = post_wait
