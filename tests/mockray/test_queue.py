"""ray.util.queue.Queue on the simulator: Ray's API and errors, blocking in virtual time, FIFO wake-ups."""

import queue as stdlib_queue
import time

import pytest

import dsai.mockray as ray
import dsai.sim as sim
from dsai.mockray.exceptions import ActorDiedError, RayTaskError, TaskCancelledError
from dsai.mockray.util.queue import Empty, Full, Queue


@ray.remote
def consume(q, n, start_after=0.0, timeout=None):
    time.sleep(start_after)
    out = []
    for _ in range(n):
        item = q.get(timeout=timeout)
        out.append((item, sim.now()))
    return out


@ray.remote
def produce(q, items, every=0.0, start_after=0.0):
    time.sleep(start_after)
    for item in items:
        time.sleep(every)
        q.put(item)
        sim.now()
    return sim.now()


def test_exceptions_subclass_the_stdlib_ones():
    assert issubclass(Empty, stdlib_queue.Empty)
    assert issubclass(Full, stdlib_queue.Full)


def test_fifo_and_sizes(sim_ray):
    q = Queue()
    assert q.empty() and not q.full() and q.qsize() == 0 and len(q) == 0
    for i in range(10):
        q.put(i)
    assert q.size() == q.qsize() == len(q) == 10
    assert not q.full()  # maxsize=0: unbounded
    assert [q.get() for _ in range(10)] == list(range(10))
    assert q.empty()


def test_values_cross_a_serialization_boundary(sim_ray):
    q = Queue()
    item = {"a": [1, 2]}
    q.put(item)
    item["a"].append(3)
    assert q.get() == {"a": [1, 2]}


def test_nowait_errors(sim_ray):
    q = Queue(maxsize=2)
    q.put_nowait(1)
    q.put(2, block=False)
    assert q.full()
    with pytest.raises(Full) as e:
        q.put_nowait(3)
    assert type(e.value) is Full  # Ray re-raises a bare Full
    assert q.get_nowait() == 1
    assert q.get(block=False) == 2
    with pytest.raises(Empty) as e:
        q.get_nowait()
    assert type(e.value) is Empty


def test_blocking_put_and_get_time_out_in_virtual_seconds(sim_ray):
    q = Queue(maxsize=1)
    q.put("x")
    t0 = sim.now()
    with pytest.raises(Full) as e:
        q.put("y", timeout=2.5)
    assert isinstance(e.value, RayTaskError)  # raised by the queue actor, as in Ray
    assert sim.now() - t0 == pytest.approx(2.5)
    assert q.get(timeout=1) == "x"
    t1 = sim.now()
    with pytest.raises(Empty):
        q.get(timeout=4)
    assert sim.now() - t1 == pytest.approx(4.0)
    assert q.qsize() == 0  # the timed-out put left nothing behind


def test_negative_timeouts_and_bad_batch_arguments(sim_ray):
    q = Queue()
    with pytest.raises(ValueError, match="^'timeout' must be a non-negative number$"):
        q.put(1, timeout=-1)
    with pytest.raises(ValueError, match="^'timeout' must be a non-negative number$"):
        q.get(timeout=-0.5)
    with pytest.raises(TypeError, match="^Argument 'items' must be an Iterable$"):
        q.put_nowait_batch(5)
    with pytest.raises(TypeError, match="^Argument 'num_items' must be an int$"):
        q.get_nowait_batch(1.0)
    with pytest.raises(ValueError, match="^'num_items' must be nonnegative$"):
        q.get_nowait_batch(-1)


def test_batches_are_all_or_nothing(sim_ray):
    q = Queue(maxsize=3)
    q.put_nowait_batch([1, 2])
    with pytest.raises(Full, match=r"Cannot add 2 items to queue of size 2 and maxsize 3\.$"):
        q.put_nowait_batch([3, 4])
    assert q.qsize() == 2
    with pytest.raises(Empty, match=r"Cannot get 3 items from queue of size 2\.$"):
        q.get_nowait_batch(3)
    assert q.get_nowait_batch(0) == []
    assert q.get_nowait_batch(2) == [1, 2]


def test_a_blocked_get_is_woken_by_a_put_from_a_task(sim_ray):
    q = Queue()
    producer = produce.remote(q, ["a", "b"], every=2.0)
    t0 = sim.now()
    assert q.get() == "a"
    assert sim.now() - t0 == pytest.approx(2.0)
    assert q.get() == "b"
    assert sim.now() - t0 == pytest.approx(4.0)
    assert ray.get(producer) == pytest.approx(4.0)


def test_bounded_queue_applies_backpressure_to_the_producer(sim_ray):
    q = Queue(maxsize=2)
    producer = produce.remote(q, list(range(5)))
    consumer = consume.remote(q, 5, start_after=1.0)
    # The producer fills 2 slots at t=0, then each put waits for the consumer.
    assert ray.get(producer) == pytest.approx(1.0)
    assert [item for item, _ in ray.get(consumer)] == [0, 1, 2, 3, 4]


def test_blocked_getters_are_served_in_arrival_order(sim_ray):
    q = Queue()
    # Three consumers block at t=0.3, 0.1, 0.2; the items go to them in that order.
    refs = [consume.remote(q, 1, start_after=s) for s in (0.3, 0.1, 0.2)]
    ray.get(produce.remote(q, ["first", "second", "third"], start_after=1.0))
    got = [ray.get(r)[0][0] for r in refs]
    assert got == ["third", "first", "second"]


def test_blocked_putters_are_served_in_arrival_order(sim_ray):
    q = Queue(maxsize=1)
    q.put("seed")
    refs = [produce.remote(q, [name], start_after=s) for name, s in (("p1", 0.2), ("p2", 0.1))]
    ray.wait(refs, num_returns=2, timeout=0.5)  # both blocked by now
    assert q.qsize() == 1
    assert [q.get() for _ in range(3)] == ["seed", "p2", "p1"]


def test_queue_passed_to_an_actor_and_made_inside_a_task(sim_ray):
    @ray.remote
    class Sink:
        def __init__(self, q):
            self.q = q

        def drain(self, n):
            return [self.q.get() for _ in range(n)]

    q = Queue()
    sink = Sink.remote(q)
    ref = sink.drain.remote(3)
    for i in range(3):
        q.put(i)
    assert ray.get(ref) == [0, 1, 2]

    @ray.remote
    def roundtrip():
        inner = Queue()
        inner.put_nowait_batch(["x", "y"])
        return inner.get_nowait_batch(2)

    assert ray.get(roundtrip.remote()) == ["x", "y"]


def test_many_concurrent_blocked_gets_do_not_block_the_queue(sim_ray):
    q = Queue()
    refs = [consume.remote(q, 1) for _ in range(6)]
    ray.wait(refs, num_returns=6, timeout=0.1)
    assert q.qsize() == 0  # the actor still answers while 6 gets wait
    q.put_nowait_batch(list(range(6)))
    assert sorted(ray.get(r)[0][0] for r in refs) == list(range(6))


def test_timeout_zero_answers_at_once(sim_ray):
    # Deliberate difference: Ray on Python 3.11 raises Empty/Full for timeout=0 even when an
    # item or a slot is there (asyncio.wait_for(..., 0) cancels first); 3.12+ behaves as here.
    q = Queue(maxsize=1)
    with pytest.raises(Empty):
        q.get(timeout=0)
    q.put(1, timeout=0)
    with pytest.raises(Full):
        q.put(2, timeout=0)
    assert q.get(timeout=0) == 1
    assert sim.now() == pytest.approx(0.0, abs=1e-3)


def test_cancelling_a_blocked_get_loses_no_item(sim_ray):
    q = Queue()
    blocked = q.actor.get.remote(None)
    ray.wait([blocked], timeout=1.0)
    ray.cancel(blocked)
    with pytest.raises(TaskCancelledError):
        ray.get(blocked)
    q.put("kept")
    assert q.get(timeout=1) == "kept"


def test_shutdown_kills_the_actor_and_blocked_callers_see_it(sim_ray):
    q = Queue()
    waiting = consume.remote(q, 1)
    ray.wait([waiting], timeout=1.0)
    actor = q.actor
    q.shutdown()
    assert q.actor is None
    with pytest.raises(ActorDiedError):
        ray.get(actor.qsize.remote())
    with pytest.raises(ActorDiedError):
        ray.get(waiting)
    q2 = Queue()
    q2.shutdown(force=True)
    q2.shutdown()  # twice is fine
    assert q2.actor is None


def test_actor_options_are_passed_through(sim_ray):
    q = Queue(actor_options={"num_cpus": 3, "name": "the-queue"})
    q.put(1)
    assert ray.available_resources()["CPU"] == pytest.approx(5.0)
    assert ray.get_actor("the-queue") == q.actor
    assert repr(q).startswith("Queue(maxsize=0, actor=Actor(_QueueActor, ")


def test_same_seed_same_items_same_times():
    def run():
        ray.shutdown()
        ray.init(num_cpus=4, seed=11)
        q = Queue(maxsize=2)
        producers = [produce.remote(q, [f"p{i}-{k}" for k in range(3)], every=0.5 + 0.25 * i)
                     for i in range(2)]
        consumers = [consume.remote(q, 3, start_after=0.1 * j) for j in range(2)]
        out = ray.get(consumers), ray.get(producers), ray.timeline()
        ray.shutdown()
        return out

    first, second = run(), run()
    assert first == second
    items = sorted(i for c in first[0] for i, _ in c)
    assert items == sorted(f"p{i}-{k}" for i in range(2) for k in range(3))


def test_async_api_inside_an_async_actor(sim_ray):
    @ray.remote
    class Taker:
        async def take(self, q):
            first = await q.get_async()
            try:
                await q.get_async(block=False)
                second = "item"
            except Empty:
                second = "empty"
            await q.put_async("reply")
            return first, second

    q = Queue()
    ref = Taker.remote().take.remote(q)
    produce.remote(q, ["x"], start_after=2.0)
    assert ray.get(ref) == ("x", "empty")
    assert sim.now() == pytest.approx(2.0)
    assert q.get() == "reply"
