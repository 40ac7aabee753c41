"""A threading.Timer inside a task fires after its delay; an Event with a timeout waits for it."""
import threading
import time

import ray


@ray.remote
def remind(delay):
    fired = threading.Event()
    start = time.perf_counter()
    timer = threading.Timer(delay, fired.set)
    timer.start()
    early = fired.is_set()
    ok = fired.wait(timeout=10)
    waited = time.perf_counter() - start
    return early, ok, waited >= delay


@ray.remote
def cancelled(delay):
    fired = threading.Event()
    timer = threading.Timer(delay, fired.set)
    timer.start()
    timer.cancel()
    return fired.wait(timeout=delay * 2)


early, ok, waited = ray.get(remind.remote(0.5))
print("fired before its delay:", early)
print("fired:", ok)
print("waited at least the delay:", waited)
print("a cancelled timer fired:", ray.get(cancelled.remote(0.5)))
