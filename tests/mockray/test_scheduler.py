"""A node's `settled` flag, which lets a worker hand its CPU straight to the next task, is set by dispatch only and cleared by any release."""

from dsai.mockray.runtime import runtime


def test_dispatch_settles_a_node_and_a_release_unsettles_it(sim_ray):
    rt = runtime()
    ns = rt.head
    rt.dispatch(ns)
    assert ns.settled  # looked, and nothing is queued
    ns.acquire({"CPU": 1.0})
    ns.release({"CPU": 1.0})
    assert not ns.settled  # something queued might fit now: the next dispatch must look

