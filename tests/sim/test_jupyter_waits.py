"""Jupyter's own waits inside simulated work stay real: a task's print flushes ipykernel's
output stream, which waits for the kernel's IO thread (a real thread)."""

import threading

from dsai import ray, sim

# A stand-in for ipykernel's OutStream.flush: a function of a module named ipykernel.*
_STUB = {"__name__": "ipykernel.iostream_stub"}
exec(  # noqa: S102
    "def flush(io_thread_set):\n"
    "    evt = threading.Event()\n"
    "    io_thread_set(evt)\n"
    "    return evt.wait(10)\n", {**_STUB, "threading": threading}, _STUB)


_MADE_OUTSIDE: list = []  # the event the task's flush waits on, for the driver's real thread to set


def _task():
    # (a module-level function is pickled by reference, so it reads this module's list)
    t0 = sim.now()
    ok = _STUB["flush"](_MADE_OUTSIDE.append)
    return ok, sim.now() - t0


def test_a_wait_made_for_jupyter_inside_a_task_is_real_and_takes_no_virtual_time():
    _MADE_OUTSIDE.clear()
    ray.init(num_cpus=1, seed=0)
    try:
        ref = ray.remote(_task).remote()
        # The task blocks in its real wait until the driver's real thread sets the event.
        threading.Timer(0.05, lambda: _MADE_OUTSIDE and _MADE_OUTSIDE[0].set()).start()
        assert ray.get(ref) == (True, 0.0)
    finally:
        ray.shutdown()
