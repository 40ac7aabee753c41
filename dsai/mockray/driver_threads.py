"""The driver's other threads wait on the cluster through its main thread: their gets are requests it serves while it waits.

Design notes. The simulated cluster runs on the driver's thread (every
worker is a greenlet there, and greenlets cannot switch across OS threads),
so a `ray.get` or `ray.wait` from another thread of the driver
(`asyncio.to_thread(ray.get, ref)`, `ThreadPoolExecutor().map(ray.get,
refs)`, a plain `threading.Thread`) cannot run it. Instead it *posts a
request* and blocks on a real lock; the driver's thread takes it up the next
time it waits (in its own `ray.get`/`wait`, in a `threading` wait such as
`Future.result()`, `Event.wait()` or `Thread.join()`, or in its asyncio
loop's idle wait), runs the simulation until the objects are available (or
the request's timeout passes, in virtual seconds), answers it with the same
code its own get would run, and releases the thread.

Deterministic, as before: the driver runs the simulation only while every
other thread that takes part is *quiescent*, i.e. blocked in a request or in
a `threading`/`queue` wait (locks.py tells us), or ended. A thread takes
part once the driver starts it while a cluster is up (a pool's workers
included) or once it posts a request. When a request is answered, the
simulation stops at that event and the driver lets the answered thread run
until it is quiescent again, so what it submits next lands at the virtual
instant its `get` returned, as on Ray. A thread that keeps running without
waiting for longer than `PATIENCE` real seconds is stopped waiting for
(that is the one place where wall time can decide an order). A request that
can never be answered (the cluster has stalled) gets `SimulationDeadlockError`.

Waits of the driver's thread made by Jupyter's own machinery stay real (they
must not move the cluster's clock between cells), as for `time.sleep`.
"""

from __future__ import annotations

import _thread
import threading
from typing import Any, Callable

from dsai.mockray.blocking import _Waiter, check_wait_args
from dsai.mockray.exceptions import RaySystemError, SimulationDeadlockError
from dsai.mockray.object_ref import PENDING
from dsai.sim import clocks

__all__ = ["post_get", "post_wait", "Outside", "PATIENCE"]

PATIENCE = 5.0  # real seconds the driver waits for a running thread to come back before driving anyway
_POLL = 0.05  # real seconds between checks while the driver waits for real (a thread ending, a notify)


class _Request:
    """One `get`/`wait` posted by another thread: answered on the driver's thread."""

    __slots__ = ("entries", "num", "fetch_local", "stop_on_error", "timeout", "answer", "lock",
                 "result", "error", "thread", "waiter", "timer", "over")

    def __init__(self, entries: list, num: int, fetch_local: bool, stop_on_error: bool,
                 timeout: float | None, answer: Callable[[], Any]) -> None:
        self.entries, self.num, self.fetch_local, self.stop_on_error = entries, num, fetch_local, stop_on_error
        self.timeout = timeout
        self.answer = answer  # run on the driver's thread once ready or timed out
        self.lock = _thread.allocate_lock()
        self.lock.acquire()  # released when answered
        self.result: Any = None
        self.error: BaseException | None = None
        self.thread = threading.current_thread()
        self.waiter: Any = None
        self.timer: Any = None
        self.over = False


class _RequestWaiter(_Waiter):
    """A `_Waiter` that, once satisfied, queues its request to be answered."""

    __slots__ = ("req", "outside")

    def __init__(self, req: _Request, out: "Outside") -> None:
        self.req, self.outside = req, out
        super().__init__(out.rt, req.entries, req.num, 0, req.fetch_local, req.stop_on_error)

    def __call__(self, e: Any) -> None:
        super().__call__(e)
        if self.active and (self.count >= self.num or self.failed):
            self.outside.ready(self.req)

    def timeout(self) -> None:
        self.outside.ready(self.req)


class Outside:
    """The threads of the driver other than its main one, as the simulation sees them."""

    def __init__(self, rt: Any) -> None:
        self.rt = rt
        self.mutex = _thread.allocate_lock()
        self.posted: list[_Request] = []  # not taken up yet
        self.open: list[_Request] = []  # subscribed, waiting in the simulation
        self.answered: list[_Request] = []  # ready, to be answered at the next stop
        self.running: set[Any] = set()  # threads that take part and are not quiescent
        self.bells: list[Any] = []  # what the driver's thread waits on now (rung on any change)
        self.changed = 0  # bumped on every change of `running`

    # -- other threads --------------------------------------------------------------------
    def post(self, req: _Request) -> Any:
        """Called on the posting thread: hand `req` to the driver's thread and wait for its answer."""
        with self.mutex:
            self.posted.append(req)
            self.running.discard(req.thread)
            req.thread._dsai_takes_part = True
            self.changed += 1
        self.ring()
        req.lock.acquire()
        if req.error is not None:
            raise req.error.with_traceback(None)
        return req.result

    def set_running(self, thread: Any, running: bool) -> None:
        with self.mutex:
            if running:
                self.running.add(thread)
            else:
                self.running.discard(thread)
            self.changed += 1
        if not running:
            self.ring()

    def ring(self) -> None:
        for bell in list(self.bells):
            bell.ring()

    # -- the driver's thread ----------------------------------------------------------------
    def busy(self) -> bool:
        """Whether anything of other threads is going on (else the driver's waits are as before)."""
        return bool(self.posted or self.open or self.answered or self.running)

    def ready(self, req: _Request) -> None:
        if not req.over:
            req.over = True
            self.answered.append(req)

    def _take_up(self) -> None:
        with self.mutex:
            posted, self.posted = self.posted, []
        rt = self.rt
        for req in posted:
            w = req.waiter = _RequestWaiter(req, self)
            if w.satisfied() or req.timeout == 0:
                self.ready(req)
            else:
                self.open.append(req)
                if req.timeout is not None:
                    req.timer = rt.sim.loop.call_later(req.timeout, w.timeout)

    def _answer(self) -> None:
        """Answer the ready requests (on the driver's thread) and let their threads run."""
        while self.answered:
            req = self.answered.pop(0)
            if req in self.open:
                self.open.remove(req)
            if req.timer is not None:
                req.timer.cancel()
            req.waiter.close()
            self.rt.outside = None  # (answering may run this instant's events: the plain way, not again here)
            try:
                req.result = req.answer()
            except BaseException as e:  # (its thread raises it)
                req.error = e
            finally:
                self.rt.outside = self
            self.set_running(req.thread, True)
            req.lock.release()

    def _fail_open(self, msg: str) -> None:
        for req in self.open:
            req.over = True
            req.waiter.close()
            if req.timer is not None:
                req.timer.cancel()
            req.error = SimulationDeadlockError(msg)
            self.set_running(req.thread, True)
            req.lock.release()
        self.open.clear()

    def _quiesce(self, bell: Any, until: Callable[[], bool] | None = None) -> None:
        """Wait (for real) until no thread that takes part is running (or `until()`). A thread
        that runs PATIENCE real seconds without waiting is no longer waited for (until its next
        request): it computes, or waits in something the simulation does not see."""
        waited, seen = 0.0, self.changed
        while self.running:
            if until is not None and until():
                return
            if waited >= PATIENCE:
                with self.mutex:
                    for t in self.running:
                        t._dsai_takes_part = False
                    self.running.clear()
                return
            bell.sleep(_POLL)
            if self.changed != seen:
                waited, seen = 0.0, self.changed
            else:
                waited += _POLL
            with self.mutex:
                # (a thread marked running as it is started is not alive yet: keep it)
                self.running = {t for t in self.running if not getattr(t, "_dsai_ended", False)
                                and (t.is_alive() or not t._started.is_set())}

    def _stuck(self) -> bool:
        """The cluster is idle, yet objects someone subscribed to (a future's done-callback)
        are pending: nothing can settle them any more."""
        return any(e.state is PENDING and e.callbacks is not None for e in self.rt.objects.values())

    def serve(self, until: Callable[[], bool], timeout: float | None, bell: Any, own: bool) -> bool:
        """The driver's thread waits until `until()` (True) or for `timeout` seconds (False),
        serving requests meanwhile. `own`: the driver waits for the cluster itself (its `get`
        or `wait`): the timeout is virtual seconds, and a stall raises. Otherwise (a `threading`
        wait) it is seconds on the driver's clock: virtual while the cluster runs, real while
        it is idle."""
        rt, loop = self.rt, self.rt.sim.loop
        clock = loop.now if own else _driver_clock
        end = None if timeout is None else clock() + timeout
        self.bells.append(bell)
        patient = getattr(bell, "patient", True)  # (an asyncio loop's bell must keep its I/O going)
        stuck_checked = False
        try:
            while True:
                self._answer()
                self._quiesce(bell, None if patient else until)
                if self.running:  # (not patient: the loop has work)
                    return until()
                self._take_up()
                if self.answered:
                    continue
                if until():
                    return True
                left = None if end is None else end - clock()
                if left is not None and (left < 0 or (left == 0 and not own)):
                    return False  # (the driver's own get with timeout 0 still runs this instant's events)
                vdeadline = None if left is None else loop.now() + left
                nxt = loop.next_time()
                if nxt is not None and (vdeadline is None or nxt <= vdeadline):
                    loop.run_until(lambda: bool(self.answered or self.posted or self.running) or until(), vdeadline)
                    continue
                if nxt is not None or (own and vdeadline is not None):
                    loop.clock.advance_to(vdeadline)  # waits out the rest in virtual time
                    return until()
                if self.open or own:  # the cluster is idle and cannot answer: a stall
                    if rt._resolve_stall():
                        continue
                    msg = rt.explain_stall()
                    self._fail_open(msg)
                    if own:
                        raise SimulationDeadlockError(msg)
                    continue
                if left is None and not stuck_checked:
                    # A wait without timeout for what a done-callback would set, while nothing
                    # can run any more: say so rather than hang (Ray would hang).
                    stuck_checked = True
                    if self._stuck() and not rt._resolve_stall():
                        raise SimulationDeadlockError(rt.explain_stall())
                    continue
                bell.sleep(_POLL if left is None else min(left, _POLL))  # a notify, a post or a thread's end
        finally:
            self.bells.remove(bell)
            self._answer()
            self._quiesce(bell, None if patient else until)


def _driver_clock() -> float:
    return clocks.real_monotonic() + clocks.virtual_elapsed()


def outside(rt: Any) -> Outside:
    out = rt.outside
    if out is None:
        out = rt.outside = Outside(rt)
    return out


# -- requests from other threads ------------------------------------------------------------

def post_get(rt: Any, refs: list, timeout: float | None) -> list:
    """`ray.get(refs)` from another thread of the driver: their values, or the first error."""
    entries = [r._entry or rt.entry(r) for r in refs]
    req = _Request(entries, len(entries), True, True, timeout, lambda: rt.get_list(refs, 0))
    return outside(rt).post(req)


def post_wait(rt: Any, refs: list, num_returns: int, timeout: float | None, fetch_local: bool) -> tuple:
    """`ray.wait(refs)` from another thread of the driver."""
    entries = [r._entry or rt.entry(r) for r in refs]
    check_wait_args(len(set(entries)), len(entries), num_returns)
    req = _Request(entries, num_returns, fetch_local, False, timeout,
                   lambda: rt.wait(list(refs), num_returns, 0, fetch_local))
    return outside(rt).post(req)


def close(rt: Any) -> None:
    """`ray.shutdown()`: the requests of other threads that still wait fail, and their threads go on."""
    out = rt.outside
    if out is None:
        return
    with out.mutex:
        waiting = list({id(r): r for r in out.posted + out.open + out.answered}.values())
        out.posted = []
        out.open, out.answered = [], []
    for req in waiting:
        if req.waiter is not None:
            req.waiter.close()
        req.error = RaySystemError("ray.shutdown() was called while this thread waited in ray.get or "
                                   "ray.wait: the cluster it waited on is gone")
        req.lock.release()
    out.running.clear()
