"""Mutual exclusion in simulated time: locks and condition variables whose waits suspend a simulated process.

Inside simulated work every thread is a simulated process on the driver's
one OS thread, so a contended `threading.Lock` must not block that thread:
here a waiter suspends its process and the holder's `release` hands the lock
straight to the first waiter (FIFO), which resumes as the next event. A
timeout is virtual seconds. Outside simulated work (the driver, Jupyter's own
threads) every call goes to the real lock underneath, so one object can be
made at module level and used on both sides, as gevent's patched primitives
are. `RLock` and `Condition` are the standard library's pure-Python ones built
on this `Lock`; `Event`, `Semaphore`, `Barrier` and `queue.Queue` are built on
those (threads.py installs them).

Every wait that suspends is listed in `waits(sim)` with who waits on what, so
a simulation that stalls can say so (`describe_waits`).
"""

from __future__ import annotations

import sys
import threading
import time
import weakref
from _thread import allocate_lock
from collections import deque
from typing import Any

from dsai.sim.process import Process, current_process, suspend

__all__ = ["Lock", "RLock", "Condition", "Bell", "monotonic", "describe_waits"]

_RealCondition = threading.Condition
_RealRLock = threading._RLock  # the pure-Python RLock: owner by get_ident(), blocks on self._block
_real_monotonic = time.monotonic


# Jupyter's kernel waits inside simulated work too: a task's print flushes ipykernel's
# output stream, which waits (Event.wait, 10 s timeout) for the kernel's IO thread, a real
# thread that never runs in virtual time. Waits made for these packages stay real.
_INFRASTRUCTURE = ("ipykernel", "IPython", "jupyter", "tornado", "zmq", "traitlets", "comm",
                   "ipywidgets", "debugpy", "nbclient")
_PRIMITIVES = ("threading", "queue", "dsai.sim")


def _infrastructure_waits() -> bool:
    """Whether the first caller outside threading/queue/this package is Jupyter's machinery."""
    f = sys._getframe(2)
    while f is not None:
        mod = f.f_globals.get("__name__", "")
        if not mod.startswith(_PRIMITIVES):
            return mod.startswith(_INFRASTRUCTURE)
        f = f.f_back
    return False


# Outside simulated work, the layer above may serve the cluster while the driver's thread
# waits, and needs to know when its other threads wait (dsai.mockray.driver_hooks sets it):
# an object with driver_wait(until, timeout, bell), quiescent(waiting), thread_started(t)
# and thread_ended(t). None: every wait outside simulated work is simply the real one.
outside: Any = None


class Bell:
    """What the driver's thread sleeps on in a real wait: released by a notify (as a
    Condition's waiter) or rung by another thread that wants the driver to look again."""

    __slots__ = ("lock", "notified", "thread")

    def __init__(self) -> None:
        self.lock = allocate_lock()
        self.lock.acquire()
        self.notified = False
        self.thread: Any = None  # another thread of the driver that waits on it

    def release(self) -> None:
        self.notified = True
        hooks = outside
        if self.thread is not None and hooks is not None:
            hooks.woken(self.thread)  # it runs from now on, as far as the driver is concerned
        self.ring()

    def ring(self) -> None:
        try:
            self.lock.release()
        except RuntimeError:  # rung already
            pass

    def sleep(self, timeout: float) -> None:
        self.lock.acquire(True, timeout)


def monotonic() -> float:
    """`threading` and `queue` compute their deadlines with this: virtual seconds
    inside simulated work (so a timeout runs out in virtual time), real ones outside."""
    proc = current_process()
    return _real_monotonic() if proc is None else proc.sim.loop.clock.time


class _Waiter:
    """One process waiting to be handed a lock: granted, timed out, or still waiting."""

    __slots__ = ("proc", "granted", "over")

    def __init__(self, proc: Process) -> None:
        self.proc = proc
        self.granted = False
        self.over = False  # granted or timed out: its process is (to be) woken

    def grant(self) -> None:
        self.granted = self.over = True
        self.proc.sim.wake(self.proc, True)

    def expire(self, lock: "Lock") -> None:
        if self.over:
            return
        self.over = True
        try:
            lock._waiters.remove(self)
        except ValueError:
            pass
        self.proc.sim.wake(self.proc, False)


class Lock:
    """`threading.Lock` that waits in virtual time inside simulated work.

    A lock held by a simulated process that was killed (dsai/sim/hard_kill.py: its
    `with` block never exits) is taken over by its next taker: on Ray a lock lives in
    one worker process and dies with it, so nobody else could be waiting on it; here
    a module-level lock is shared by every simulated worker."""

    __slots__ = ("_lock", "_waiters", "_owner", "__weakref__")

    def __init__(self) -> None:
        self._lock = allocate_lock()  # locked while anyone holds it, on either side
        self._waiters: deque[_Waiter] = deque()  # simulated processes, first come first served
        self._owner: Process | None = None  # the simulated process that took it last, if one holds it

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        proc = current_process()
        if proc is None:
            if self._orphaned():
                self._owner = None
                return True
            # (Not a wait the driver counts as quiescent: a lock is held briefly, often by the
            # driver's thread itself on its way into a wait, e.g. an Event's lock.)
            return self._lock.acquire(blocking, timeout)
        if self._lock.acquire(False) or self._orphaned():
            self._owner = proc
            return True
        if not blocking:
            if timeout != -1:
                raise ValueError("can't specify a timeout for a non-blocking call")
            return False
        if timeout != -1 and timeout < 0:
            raise ValueError("timeout value must be a non-negative number")
        if timeout == 0:
            return False
        if _infrastructure_waits():  # (a real thread will release it, in real time)
            got = self._lock.acquire(True, timeout)
            if got:
                self._owner = proc
            return got
        return self._wait(proc, None if timeout == -1 else timeout)

    def _wait(self, proc: Process, timeout: float | None) -> bool:
        w = _Waiter(proc)
        self._waiters.append(w)
        sim = proc.sim
        timer = sim.loop.call_later(timeout, w.expire, self) if timeout is not None else None
        table = waits(sim)
        table[proc] = _what_waits()
        contended(sim).add(self)
        try:
            got = suspend(("thread wait", table[proc]))
        except BaseException:
            if w.granted:  # handed the lock as it died: pass it on
                self.release()
            elif not w.over:
                w.over = True
                self._waiters.remove(w)
            raise
        finally:
            table.pop(proc, None)
            if timer is not None:
                timer.cancel()
        return got

    def release(self) -> None:
        waiters = self._waiters
        if waiters:
            if not self._lock.locked():
                raise RuntimeError("release unlocked lock")
            while waiters:
                w = waiters.popleft()
                if not w.proc.done:  # (a waiter whose process was killed never takes it: hard_kill.py)
                    self._owner = w.proc
                    w.grant()  # it stays locked: the waiter holds it now
                    return
                w.over = True
        self._owner = None
        self._lock.release()

    def _orphaned(self) -> bool:
        """Locked by a simulated process that was killed (see the class docstring)."""
        owner = self._owner
        return owner is not None and owner.killed and self._lock.locked()

    def locked(self) -> bool:
        return self._lock.locked()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc: Any) -> None:
        self.release()

    def _at_fork_reinit(self) -> None:
        self._lock = allocate_lock()
        self._waiters.clear()
        self._owner = None

    def __repr__(self) -> str:
        state = "locked" if self._lock.locked() else "unlocked"
        waiting = f", {len(self._waiters)} waiting" if self._waiters else ""
        return f"<dsai.sim Lock {state}{waiting}>"


class RLock(_RealRLock):
    """`threading.RLock` whose owner is the current (simulated) thread and whose waits are `Lock`'s."""

    def __init__(self) -> None:
        super().__init__()
        self._block = Lock()


class Condition(_RealCondition):
    """`threading.Condition` whose waiters wait on a `Lock`, so they wait in virtual time in simulated work."""

    def __init__(self, lock: Any = None) -> None:
        super().__init__(RLock() if lock is None else lock)

    def wait(self, timeout: float | None = None) -> bool:
        if current_process() is None:
            hooks = outside
            if hooks is None:
                return super().wait(timeout)
            return self._outside_wait(hooks, timeout)
        if not self._is_owned():
            raise RuntimeError("cannot wait on un-acquired lock")
        waiter = Lock()  # (the standard wait, with a simulated lock as the waiter)
        waiter.acquire()
        self._waiters.append(waiter)
        saved_state = self._release_save()
        gotit = False
        try:
            if timeout is None:
                gotit = waiter.acquire()
            elif timeout > 0:
                gotit = waiter.acquire(True, timeout)
            else:
                gotit = waiter.acquire(False)
            return gotit
        finally:
            self._acquire_restore(saved_state)
            if not gotit:
                try:
                    self._waiters.remove(waiter)
                except ValueError:
                    pass

    def _outside_wait(self, hooks: Any, timeout: float | None) -> bool:
        """A wait outside simulated work: the driver's thread serves the cluster meanwhile
        (a done-callback run in the simulation may be what notifies it); another thread
        tells the driver it is waiting, so the cluster may run until it is notified."""
        if not self._is_owned():
            raise RuntimeError("cannot wait on un-acquired lock")
        bell = Bell()
        driver = hooks.is_driver()
        if not driver:
            bell.thread = threading.current_thread()
            hooks.quiescent(True)  # (before the lock is released: no notify can come first)
        self._waiters.append(bell)
        saved_state = self._release_save()
        gotit = False
        try:
            served = hooks.driver_wait(lambda: bell.notified, timeout, bell) if driver else None
            if served is not None:
                gotit = served or bell.notified
            else:
                gotit = bell.lock.acquire(True, -1 if timeout is None else max(timeout, 0)) or bell.notified
            return gotit
        finally:
            if not driver:
                hooks.quiescent(False)
            self._acquire_restore(saved_state)
            if not gotit:
                try:
                    self._waiters.remove(bell)
                except ValueError:
                    pass


# -- who waits on what ---------------------------------------------------------------

_INTERNAL = ("threading", "queue", "concurrent.futures._base", "concurrent.futures.thread",
             "dsai.sim.locks", "dsai.sim.threads")


def waits(sim: Any) -> dict[Process, str]:
    """The processes of `sim` suspended in a thread primitive, and what each waits in."""
    table = getattr(sim, "thread_waits", None)
    if table is None:
        table = sim.thread_waits = {}
    return table


def _what_waits() -> str:
    """The outermost standard-library call the waiter is in ('Queue.get', 'Thread.join')
    and the user's line that called it: read off the stack, only when a wait suspends."""
    f = sys._getframe(2)  # (Lock.acquire, which called _wait, which called this)
    api = "Lock.acquire"
    while f is not None:
        mod, name = f.f_globals.get("__name__", ""), f.f_code.co_name
        owner = f.f_locals.get("self")
        if name == "run" and isinstance(owner, threading.Thread):
            return api  # the thread's target itself waits
        if mod not in _INTERNAL or owner is None:
            break  # the user's code, or a library's own loop
        api = f"{type(owner).__name__.replace('_Py', '')}.{name}"
        f = f.f_back
    if f is None:
        return api
    if mod in _INTERNAL:  # e.g. an idle ThreadPoolExecutor worker (concurrent.futures.thread._worker)
        return f"{api} in {mod}.{name}"
    return f"{api} at {f.f_code.co_filename}:{f.f_lineno}"


def contended(sim: Any) -> "weakref.WeakSet[Lock]":
    """The locks of `sim` that a simulated process has waited for (weakly held)."""
    table = getattr(sim, "contended_locks", None)
    if table is None:
        table = sim.contended_locks = weakref.WeakSet()
    return table


def forget(proc: Process) -> None:
    """`proc` was killed without unwinding (hard_kill.py): it waits on nothing any more,
    and a lock it held that others wait for goes to the first of them."""
    sim = proc.sim
    table = getattr(sim, "thread_waits", None)
    if table:
        table.pop(proc, None)
    locks = getattr(sim, "contended_locks", None)
    if locks:
        for lock in list(locks):
            if lock._owner is proc and any(not w.proc.done for w in lock._waiters):
                lock.release()


def describe_waits(sim: Any) -> list[str]:
    """One line per simulated thread suspended in a `threading`/`queue` wait."""
    out = []
    for proc, what in waits(sim).items():
        where = f" on {proc.node.name}" if proc.node is not None else ""
        out.append(f"{proc.name}{where} waits in {what}")
    return out

