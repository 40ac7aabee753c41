"""Zero-time livelocks (dsai/mockray/livelock.py): free round trips, then 1 ms each, so timeouts come true."""

import time

import pytest

import dsai.mockray as ray
import dsai.sim as sim
from dsai.mockray.livelock import FREE_TRIPS, ROUND_TRIP, RoundTrips


@ray.remote
class Ticker:
    def __init__(self):
        self.calls = 0

    def next(self):
        self.calls += 1
        return self.calls

    def count(self):
        return self.calls


@ray.remote
class Spinner:
    def spin(self, other):
        while True:
            ray.get(other.next.remote())


def test_a_livelock_runs_free_round_trips_then_pays_one_ms_each(sim_ray):
    ticker, spinner = Ticker.remote(), Spinner.remote()
    ref = spinner.spin.remote(ticker)
    start = sim.now()
    with pytest.raises(ray.exceptions.GetTimeoutError):
        ray.get(ref, timeout=2)
    assert sim.now() == start + 2
    calls = ray.get(ticker.count.remote())
    # 10,000 free, then one per millisecond for 2 s (the count is read at the same instant).
    assert FREE_TRIPS + 2 / ROUND_TRIP - 1 <= calls <= FREE_TRIPS + 2 / ROUND_TRIP + 1


def test_round_trips_that_take_time_or_are_apart_in_time_cost_nothing(sim_ray):
    ticker = Ticker.remote()

    @ray.remote
    def apart(n):
        for _ in range(n):
            time.sleep(0.001)  # time moves between round trips: no livelock
            ray.get(ticker.next.remote())
        return sim.now()

    n = FREE_TRIPS + 500
    assert ray.get(apart.remote(n)) == pytest.approx(n * 0.001)  # not a millisecond more


def test_the_counter_resets_when_time_moves():
    trips = RoundTrips()
    for _ in range(FREE_TRIPS):
        assert trips.cost(0.0, 0.0) == 0.0
        trips.end = 0.0
    assert trips.cost(0.0, 0.0) == ROUND_TRIP  # the 10,001st in a row at one instant
    trips.end = ROUND_TRIP
    assert trips.cost(ROUND_TRIP, ROUND_TRIP) == ROUND_TRIP  # and on, once it pays
    trips.end = 2 * ROUND_TRIP
    assert trips.cost(5.0, 5.0) == 0.0  # the clock moved since the last one: a fresh count
    assert trips.count == 1
    assert trips.cost(5.0, 6.0) == 0.0 and trips.count == 0  # a wait that took time
    assert "RoundTrips(0 in a row" in repr(trips)
