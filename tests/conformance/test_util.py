"""Conformance: ray.util.ActorPool and ray.util.queue.Queue."""

import importlib
import queue as std_queue
import time

import pytest


def test_actor_pool(ray):
    ActorPool = importlib.import_module(ray.__name__ + ".util").ActorPool

    @ray.remote
    class W:
        def double(self, v):
            return 2 * v

        def slow(self, s):
            time.sleep(s)
            return s

    workers = [W.remote(), W.remote()]
    pool = ActorPool(workers)
    assert list(pool.map(lambda a, v: a.double.remote(v), [1, 2, 3, 4])) == [2, 4, 6, 8]
    assert sorted(pool.map_unordered(lambda a, v: a.double.remote(v), [1, 2, 3])) == [2, 4, 6]

    slow = lambda a, v: a.slow.remote(v)  # noqa: E731
    assert pool.has_free() and not pool.has_next()
    pool.submit(slow, 0.3)
    pool.submit(slow, 0.05)
    assert not pool.has_free() and pool.has_next()
    pool.submit(slow, 0.01)  # no idle actor: queued inside the pool
    assert pool.get_next() == 0.3  # submission order
    assert pool.get_next() == 0.05
    assert pool.get_next() == 0.01
    assert not pool.has_next()
    with pytest.raises(StopIteration, match="No more results to get"):
        pool.get_next()
    with pytest.raises(StopIteration, match="No more results to get"):
        pool.get_next_unordered()

    pool.submit(slow, 2.0)  # (2 s, not less: on a loaded machine two actors' calls start apart)
    pool.submit(slow, 0.02)
    assert pool.get_next_unordered() == 0.02  # completion order
    assert pool.get_next_unordered() == 2.0

    idle = pool.pop_idle()
    assert idle is not None and pool.has_free()  # one of the two is left
    pool.push(idle)
    with pytest.raises(ValueError, match="Actor already belongs to current ActorPool"):
        pool.push(idle)
    pool.submit(slow, 0.3)
    with pytest.raises(TimeoutError, match="Timed out waiting for result"):
        pool.get_next(timeout=0.01)
    assert pool.get_next() == 0.3  # still there after the timeout


def test_queue(ray):
    # `ray.util.queue` is Ray's module path (dsai.mockray.util.queue on the simulator).
    qmod = importlib.import_module(ray.__name__ + ".util.queue")
    Empty, Full, Queue = qmod.Empty, qmod.Full, qmod.Queue

    assert issubclass(Empty, std_queue.Empty) and issubclass(Full, std_queue.Full)
    q = Queue(maxsize=2)
    assert q.empty() and q.qsize() == 0 and q.size() == 0 and len(q) == 0 and not q.full()
    q.put(1)
    q.put(2)
    assert q.full() and q.qsize() == 2
    with pytest.raises(Full):
        q.put_nowait(3)
    with pytest.raises(Full):
        q.put(3, block=False)
    with pytest.raises(Full):  # real Ray: RayTaskError(Full), still a Full
        q.put(3, timeout=0.05)
    assert q.get() == 1 and q.get_nowait() == 2
    with pytest.raises(Empty):
        q.get_nowait()
    with pytest.raises(Empty):
        q.get(block=False)
    with pytest.raises(Empty):
        q.get(timeout=0.05)
    with pytest.raises(ValueError, match="'timeout' must be a non-negative number"):
        q.get(timeout=-1)
    with pytest.raises(Full):
        q.put_nowait_batch([1, 2, 3])  # all or nothing
    assert q.qsize() == 0
    q.put_nowait_batch([5, 6])
    with pytest.raises(Empty):
        q.get_nowait_batch(3)
    assert q.get_nowait_batch(2) == [5, 6]

    @ray.remote
    def consumer(q):
        return q.get(timeout=10)

    ref = consumer.remote(q)
    q.put("hello")
    assert ray.get(ref) == "hello"
    q.shutdown()
    q.shutdown()  # safe twice
