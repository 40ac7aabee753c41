"""The virtual clock and the event loop: order, ties, cancellation, no going back."""

import pytest

from dsai.errors import SimulationError
from dsai.sim import EventLoop, Simulation, VirtualClock


def test_clock_refuses_to_go_backwards():
    c = VirtualClock()
    c.advance_to(2.5)
    assert c.now() == 2.5
    with pytest.raises(SimulationError, match="cannot go backwards"):
        c.advance_to(1.0)


def test_events_run_in_time_order_and_ties_in_submission_order():
    loop = EventLoop()
    seen = []
    loop.call_at(2.0, seen.append, "b")
    loop.call_at(1.0, seen.append, "a")
    loop.call_at(2.0, seen.append, "c")
    loop.call_soon(seen.append, "now")
    loop.run()
    assert seen == ["now", "a", "b", "c"]
    assert loop.now() == 2.0


def test_cancelled_timer_does_not_run():
    loop = EventLoop()
    seen = []
    t = loop.call_later(1.0, seen.append, "x")
    loop.call_later(2.0, seen.append, "y")
    t.cancel()
    assert t.cancelled
    loop.run()
    assert seen == ["y"]


def test_run_until_deadline_leaves_later_events():
    loop = EventLoop()
    seen = []
    loop.call_at(1.0, seen.append, 1)
    loop.call_at(5.0, seen.append, 5)
    loop.run(until=3.0)
    assert seen == [1] and loop.now() == 3.0
    loop.run()
    assert seen == [1, 5]


def test_scheduling_in_the_past_is_an_error():
    loop = EventLoop()
    loop.call_at(1.0, lambda: None)
    loop.run()
    with pytest.raises(SimulationError, match="in the past"):
        loop.call_at(0.5, lambda: None)
    with pytest.raises(SimulationError, match="non-negative"):
        loop.call_later(-1, lambda: None)


def test_streams_are_independent_and_seeded():
    a, b = Simulation(seed=7), Simulation(seed=7)
    assert [a.stream("x").random() for _ in range(3)] == [b.stream("x").random() for _ in range(3)]
    assert a.stream("x").random() != a.stream("y").random()
    assert Simulation(seed=8).stream("x").random() != Simulation(seed=7).stream("x").random()


def test_run_while_stops_when_the_attribute_changes_or_events_run_out():
    class Box:
        state = "pending"

    loop, box, seen = EventLoop(), Box(), []
    loop.call_at(1.0, seen.append, 1)
    loop.call_at(2.0, setattr, box, "state", "ready")
    loop.call_at(3.0, seen.append, 3)
    cancelled = loop.call_at(2.5, seen.append, "cancelled")
    cancelled.cancel()
    loop.run_while(box, "state", "pending")
    assert (seen, box.state, loop.now()) == ([1], "ready", 2.0)  # event 3 is left for later
    box.state = "pending"
    loop.run_while(box, "state", "pending")  # nothing can change it: returns when events run out
    assert (seen, loop.now(), loop.pending()) == ([1, 3], 3.0, 0)
