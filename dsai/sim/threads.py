"""Threads in simulated time: cooperative `threading` inside simulated work, gevent-style, and the real one outside.

Every task attempt and actor call is a simulated process on the driver's one
OS thread. Here each process gets a thread identity of its own (its `ident`,
`current_thread()`, its `threading.local` values), a thread started inside
simulated work is one more simulated process on the same node, and every
`threading`/`queue` wait suspends the waiting process in virtual time
(locks.py), taking turns in event order. As gevent's monkey-patching does,
`install()` replaces the module attributes (`threading.Lock`, `Thread`,
`local`, `queue.SimpleQueue`, ...) by hybrids that are cooperative when
called from a simulated process and the real thing otherwise, so the driver
and Jupyter's own threads are untouched and no real thread is ever started
by simulated work.

Which thread a process is: a thread started here is itself; any other
process asks the layer above (`sim.hooks["thread_of"]`: the Ray runtime maps
a task to its worker's main thread and a threaded actor's calls to its pool
threads), or is a thread of its own.
"""

from __future__ import annotations

import _thread
import itertools
import queue
import threading
import weakref
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from greenlet import GreenletExit, getcurrent

from dsai.sim import locks, simulation
from dsai.sim.hard_kill import end_process
from dsai.sim.locks import Bell, Condition, Lock, RLock, monotonic
from dsai.sim.process import Process, current_process

__all__ = ["Thread", "Timer", "local", "get_ident", "current_thread", "main_thread", "enumerate_threads",
           "active_count", "thread_for", "kill_threads", "install"]

_RealThread = threading.Thread
_real_get_ident = _thread.get_ident
_real_current_thread = threading.current_thread
_real_main_thread = threading.main_thread
_IDENT_BASE = 0x7F00_0000_0000  # simulated idents look like a Linux pthread's, fixed by the order made


class _Threads:
    """One simulation's threads: idents handed out in order, the worker threads by key."""

    def __init__(self) -> None:
        self.count = itertools.count(1)
        self.names = itertools.count(1)
        self.by_key: dict[Any, "Thread"] = {}
        self.started: list["Thread"] = []  # threads started in simulated work, while they run


def _threads(sim: Any) -> _Threads:
    # Kept on the simulation (its threads point back to it): they go when it goes.
    st = getattr(sim, "thread_state", None)
    if st is None:
        st = sim.thread_state = _Threads()
    return st


class Thread(_RealThread):
    """`threading.Thread`: started inside simulated work it runs as a simulated
    process on the starter's node, in virtual time; started anywhere else it is
    a real thread."""

    _sim = None  # the simulation it runs in, once started there (or made as a worker's thread)
    _sim_proc: Process | None = None
    _sim_main: "Thread | None" = None  # the main thread of the worker it belongs to
    _sim_done = None
    _dsai_ended = False  # a real thread: its run is over (its OS thread may still be ending)

    def __init__(self, group: None = None, target: Callable[..., Any] | None = None, name: str | None = None,
                 args: Any = (), kwargs: dict | None = None, *, daemon: bool | None = None) -> None:
        proc = current_process()
        if proc is not None and name is None:  # named in the simulation's order, not the process's
            name = f"Thread-{next(_threads(proc.sim).names)}"
            if target is not None and getattr(target, "__name__", None):
                name += f" ({target.__name__})"
        super().__init__(group, target, name, args, kwargs, daemon=daemon)

    def start(self) -> None:
        proc = current_process()
        if proc is None:
            hooks = locks.outside
            if hooks is not None and not self._started.is_set():
                hooks.thread_started(self)  # (the driver runs the cluster only while it waits)
            return super().start()
        if not self._initialized:
            raise RuntimeError("thread.__init__() not called")
        if self._started.is_set():
            raise RuntimeError("threads can only be started once")
        sim = proc.sim
        st = _threads(sim)
        me = current_thread()
        self._sim, self._sim_main = sim, me._sim_main or me
        self._ident = self._native_id = _IDENT_BASE + next(st.count) * 0x1000
        self._sim_done = threading.Event()
        self._started.set()
        ctx = proc.context
        self._sim_proc = sim.spawn(_run_thread, self, name=f"thread {self.name!r}", node=proc.node,
                                   context=_ThreadContext(ctx) if ctx is not None else None)
        st.started.append(self)
        node = proc.node
        if node is not None and not getattr(node, "_threads_watched", False):  # its threads die with it
            node._threads_watched = True
            node.on_death(lambda node, sim=sim: kill_threads(sim, lambda t: t._sim_proc.node is node))

    def is_alive(self) -> bool:
        if self._sim is None:
            return super().is_alive()
        return self._started.is_set() and not self._is_stopped

    def _bootstrap_inner(self) -> None:
        try:
            super()._bootstrap_inner()
        finally:
            self._dsai_ended = True
            hooks = locks.outside
            if hooks is not None:
                hooks.thread_ended(self)

    def join(self, timeout: float | None = None) -> None:
        if self._sim is None:
            hooks = locks.outside
            if hooks is None or current_process() is not None or not self._started.is_set() \
                    or self is _real_current_thread():
                return super().join(timeout)
            # The driver's thread serves the cluster while it joins (the thread may be in ray.get);
            # another thread tells it that it waits.
            served = hooks.driver_wait(lambda: self._dsai_ended or self._is_stopped, timeout, Bell())
            if served is None:
                hooks.quiescent(True)
                try:
                    return super().join(timeout)
                finally:
                    hooks.quiescent(False)
            if served:
                super().join()  # (its run is over: its OS thread ends at once)
            return
        if not self._started.is_set():
            raise RuntimeError("cannot join thread before it is started")
        if self is current_thread():
            raise RuntimeError("cannot join current thread")
        if self._sim_done is None:  # a worker's own thread: it never ends by itself
            return
        if current_process() is not None:
            self._sim_done.wait(timeout)
            return
        # The driver (e.g. concurrent.futures at exit) joins a simulated thread:
        # run its simulation until the thread ends, if that simulation still runs.
        sim = self._sim
        if sim is simulation._current and not sim.loop.running:
            deadline = None if timeout is None else sim.now() + timeout
            sim.run_until(lambda: self._is_stopped, deadline)


class _ThreadContext:
    """A started thread's process context: what it submits or puts counts as its
    starter's task (as in Ray, where the worker owns them), but a `ray.get` in it does
    not lend that task's CPU (kind "thread")."""

    __slots__ = ("task",)
    kind = "thread"

    def __init__(self, task: Any) -> None:
        self.task = task

    def __getattr__(self, name: str) -> Any:
        return getattr(self.task, name)


def _run_thread(thread: Thread) -> None:
    """The body of a thread's simulated process: `run()`, its exception to `threading.excepthook`."""
    runner = getcurrent()
    runner.sim_thread = (thread._sim_proc, None, thread)
    try:
        thread.run()
    except (GreenletExit, SystemExit):  # killed with its worker or node (Killed), or collected
        pass
    except BaseException:
        thread._invoke_excepthook(thread)
    finally:
        runner.sim_thread = None
        _ended(thread)


def _ended(thread: Thread) -> None:
    thread._is_stopped = True
    st = _threads(thread._sim)
    if thread in st.started:
        st.started.remove(thread)
    thread._sim_done.set()  # (wakes its joiners)


class Timer(Thread):
    """`threading.Timer` on the hybrid `Thread`: inside simulated work it fires after virtual seconds."""

    def __init__(self, interval: float, function: Callable[..., Any], args: Any = None,
                 kwargs: dict | None = None) -> None:
        super().__init__()
        self.interval = interval
        self.function = function
        self.args = args if args is not None else []
        self.kwargs = kwargs if kwargs is not None else {}
        self.finished = threading.Event()

    def cancel(self) -> None:
        self.finished.set()

    def run(self) -> None:
        self.finished.wait(self.interval)
        if not self.finished.is_set():
            self.function(*self.args, **self.kwargs)
        self.finished.set()


def kill_threads(sim: Any, which: Callable[[Thread], bool]) -> None:
    """End the running simulated threads of `sim` that `which` picks (their worker or node died)."""
    st = getattr(sim, "thread_state", None)
    if st is None:
        return
    for t in [t for t in st.started if which(t)]:
        if not t._sim_proc.done:
            end_process(t._sim_proc)  # (none of its code runs again: hard_kill.py)
        if not t._is_stopped:  # killed before it ever ran
            _ended(t)


# -- which thread is running -----------------------------------------------------------

def thread_for(sim: Any, key: Any, name: str | Callable[[], str], main: Thread | None = None) -> Thread:
    """The worker thread `key` of `sim` (made on first use): for the layer above to
    name a task's or a call's thread (`name` may be a function, called on first use).
    `main` is its worker's main thread, if not itself."""
    st = _threads(sim)
    t = st.by_key.get(key)
    if t is None:
        t = st.by_key[key] = _new_thread(sim, name if isinstance(name, str) else name(), main)
    return t


def _new_thread(sim: Any, name: str, main: Thread | None) -> Thread:
    """A running worker thread's identity (not started by user code, never ends by itself)."""
    t = Thread.__new__(Thread)
    _RealThread.__init__(t, name=name, daemon=False)
    t._sim, t._sim_main = sim, main
    t._ident = t._native_id = _IDENT_BASE + next(_threads(sim).count) * 0x1000
    t._started.set()
    return t


def _sim_thread(proc: Process) -> Thread:
    runner = getcurrent()
    cached = getattr(runner, "sim_thread", None)
    if cached is not None and cached[0] is proc and (cached[1] is proc.context or cached[1] is None):
        return cached[2]
    hook = proc.sim.hooks.get("thread_of")
    t = hook(proc) if hook is not None else None
    if t is None:  # a thread of its own (e.g. a client of the replicated store)
        t = _new_thread(proc.sim, "MainThread", None)
    runner.sim_thread = (proc, proc.context, t)
    return t


def get_ident() -> int:
    proc = current_process()
    return _real_get_ident() if proc is None else _sim_thread(proc)._ident


def current_thread() -> Any:
    proc = current_process()
    return _real_current_thread() if proc is None else _sim_thread(proc)


def main_thread() -> Any:
    proc = current_process()
    if proc is None:
        return _real_main_thread()
    t = _sim_thread(proc)
    return t._sim_main or t


_real_enumerate = threading.enumerate
_real_active_count = threading.active_count


def enumerate_threads() -> list:
    """`threading.enumerate()`: inside simulated work, the threads of the caller's worker
    process as Ray's shows them (its main thread, Ray's `PythonGCThread`, the event-loop or
    pool threads its calls have used, the threads its code started that still run)."""
    proc = current_process()
    if proc is None:
        return _real_enumerate()
    me = _sim_thread(proc)
    main = me._sim_main or me
    sim = proc.sim
    st = _threads(sim)
    gc = thread_for(sim, ("gc", main._ident), "PythonGCThread", main)
    gc._daemonic = True
    others = {t for t in st.by_key.values() if t._sim_main is main and t is not gc}
    others.update(t for t in st.started if t._sim_main is main)
    others.add(me)
    others.discard(main)
    return [main, gc] + sorted(others, key=lambda t: t._ident)


def active_count() -> int:
    """`threading.active_count()`: the length of `enumerate()`, as in the standard library."""
    if current_process() is None:
        return _real_active_count()
    return len(enumerate_threads())


# -- thread-local data -----------------------------------------------------------------

class _LocalImpl:
    """Where a `local`'s values live: per OS thread in a real `_thread._local`, per
    simulated thread in a dict keyed by the thread."""

    __slots__ = ("real", "sim", "args", "lock", "__weakref__")

    def __init__(self, args: tuple) -> None:
        self.real = _thread._local()
        self.sim: "weakref.WeakKeyDictionary[Thread, dict]" = weakref.WeakKeyDictionary()
        self.args = args
        self.lock = _thread.RLock()

    def get_dict(self) -> tuple[dict, bool]:
        """The calling thread's dict of values, and whether it is new."""
        proc = current_process()
        if proc is None:
            d = getattr(self.real, "values", None)
            if d is None:
                d = self.real.values = {}
                return d, True
            return d, False
        t = _sim_thread(proc)
        d = self.sim.get(t)
        if d is None:
            d = self.sim[t] = {}
            return d, True
        return d, False


@contextmanager
def _patch(self: "local") -> Iterator[None]:
    impl = object.__getattribute__(self, "_local__impl")
    with impl.lock:
        d, new = impl.get_dict()
        object.__setattr__(self, "__dict__", d)
        if new:  # first use on this thread: __init__ again, as threading.local does
            args, kw = impl.args
            type(self).__init__(self, *args, **kw)
        yield


class local:
    """`threading.local`: values per OS thread outside simulated work, per simulated thread inside."""

    __slots__ = ("_local__impl", "__dict__")

    def __new__(cls, *args: Any, **kw: Any) -> "local":
        if (args or kw) and (cls.__init__ is object.__init__):
            raise TypeError("Initialization arguments are not supported")
        self = object.__new__(cls)
        impl = _LocalImpl((args, kw))
        object.__setattr__(self, "_local__impl", impl)
        d, _ = impl.get_dict()  # the creating thread's: __init__ runs on it as for any object
        object.__setattr__(self, "__dict__", d)
        return self

    def __getattribute__(self, name: str) -> Any:
        with _patch(self):
            return object.__getattribute__(self, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "__dict__":
            raise AttributeError("%r object attribute '__dict__' is read-only" % self.__class__.__name__)
        with _patch(self):
            return object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        if name == "__dict__":
            raise AttributeError("%r object attribute '__dict__' is read-only" % self.__class__.__name__)
        with _patch(self):
            return object.__delattr__(self, name)


# -- installing ------------------------------------------------------------------------

_PATCHES: list[tuple[Any, str, Any]] = [
    (threading, "Lock", Lock), (threading, "RLock", RLock), (threading, "Condition", Condition),
    (threading, "Thread", Thread), (threading, "Timer", Timer), (threading, "local", local),
    (threading, "get_ident", get_ident), (threading, "current_thread", current_thread),
    (threading, "main_thread", main_thread), (threading, "_time", monotonic),
    (threading, "enumerate", enumerate_threads), (threading, "active_count", active_count),
    (_thread, "get_ident", get_ident),
    (queue, "SimpleQueue", queue._PySimpleQueue), (queue, "time", monotonic),
]


def install() -> None:
    """Patch `threading` and `queue` once, process-wide (idempotent). `Event`,
    `Semaphore`, `BoundedSemaphore`, `Barrier` and `queue.Queue` are the standard
    ones: they find the patched `Lock`, `Condition` and clock when they run."""
    for module, name, value in _PATCHES:
        if getattr(module, name) is not value:
            setattr(module, name, value)
