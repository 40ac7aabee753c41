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


_EVENTS = []  # the events the stub waits on, for the driver's real thread to set


def _hand_out(evt):
    # A module function is pickled by reference: it reaches this very list (the task is
    # pickled by value, with copies of what it reads, as in Ray).
    _EVENTS.append(evt)


def test_a_wait_made_for_jupyter_inside_a_task_is_real_and_takes_no_virtual_time():
    timer_made_outside = _EVENTS
    timer_made_outside.clear()

    @ray.remote
    def task():
        t0 = sim.now()
        ok = _STUB["flush"](_hand_out)
        return ok, sim.now() - t0

    ray.init(num_cpus=1, seed=0)
    try:
        ref = task.remote()
        # The task blocks in its real wait until the driver's real thread sets the event.
        threading.Timer(0.05, lambda: timer_made_outside and timer_made_outside[0].set()).start()
        assert ray.get(ref) == (True, 0.0)
    finally:
        ray.shutdown()
