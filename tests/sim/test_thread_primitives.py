"""Threads in simulated time: the patched threading/queue primitives, inside simulated processes and outside them."""

import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import dsai.mockray as ray
import dsai.sim
from dsai.mockray.exceptions import SimulationDeadlockError
from dsai.sim import Simulation, kill_node
from dsai.sim.locks import describe_waits

MODULE_LOCK = threading.Lock()  # made at import, outside any simulation
MODULE_LOCAL = threading.local()


def run(sim, *bodies):
    """Run each body as a simulated process of `sim`, to the end."""
    for i, body in enumerate(bodies):
        sim.spawn(body, name=f"p{i}")
    sim.run()


# -- the primitives inside simulated processes ------------------------------------------

def test_contended_lock_hands_over_in_arrival_order_in_virtual_time():
    log = []

    def holder(name, hold):
        def body():
            with MODULE_LOCK:
                log.append((sim.now(), name, "in"))
                time.sleep(hold)
        return body

    sim = Simulation()
    for name, hold in (("a", 1.0), ("b", 0.5), ("c", 0.25)):
        sim.spawn(holder(name, hold), name=name)
    wall = time.perf_counter()
    sim.run()
    assert time.perf_counter() - wall < 3.0  # virtual seconds, not real ones
    assert log == [(0.0, "a", "in"), (1.0, "b", "in"), (1.5, "c", "in")]
    assert not MODULE_LOCK.locked()


def test_lock_timeouts_are_virtual_seconds():
    out = []

    def hold():
        with MODULE_LOCK:
            time.sleep(2)

    def try_twice():
        out.append((MODULE_LOCK.acquire(timeout=0.5), sim.now()))
        out.append((MODULE_LOCK.acquire(blocking=False), sim.now()))
        out.append((MODULE_LOCK.acquire(timeout=5), sim.now()))
        MODULE_LOCK.release()

    sim = Simulation()
    run(sim, hold, try_twice)
    assert out == [(False, 0.5), (False, 0.5), (True, 2.0)]
    assert sim.now() == 2.0


def test_rlock_is_owned_by_one_simulated_thread():
    rlock = threading.RLock()
    out = []

    def a():
        with rlock:
            with rlock:  # re-entrant for its owner
                time.sleep(1)
        out.append(("a done", sim.now()))

    def b():
        with pytest.raises(RuntimeError):
            rlock.release()  # not the owner
        with rlock:
            out.append(("b in", sim.now()))

    sim = Simulation()
    run(sim, a, b)
    assert out == [("a done", 1.0), ("b in", 1.0)]


def test_event_condition_semaphore_barrier_and_queues():
    event, cond, sem = threading.Event(), threading.Condition(), threading.Semaphore(2)
    barrier, q, sq = threading.Barrier(2), queue.Queue(maxsize=1), queue.SimpleQueue()
    items, log = [], []

    def producer():
        time.sleep(1)
        event.set()
        for i in range(3):
            q.put(i)  # maxsize 1: waits for the consumer
            log.append(("put", i, sim.now()))
        with cond:
            items.append("x")
            cond.notify()
        sq.put("done")
        log.append(("barrier", barrier.wait(), sim.now()))

    def consumer():
        log.append(("event", event.wait(), sim.now()))
        for _ in range(3):
            time.sleep(0.5)
            log.append(("got", q.get(), sim.now()))
        with cond:
            log.append(("cond", cond.wait_for(lambda: items, timeout=10), sim.now()))
        log.append(("simple", sq.get(timeout=10), sim.now()))
        log.append(("empty", _empty(sq), sim.now()))
        time.sleep(1)
        log.append(("barrier", barrier.wait(), sim.now()))

    def limited(i):
        def body():
            with sem:
                time.sleep(1)
                log.append(("sem", i, sim.now()))
        return body

    sim = Simulation()
    sim.spawn(producer)
    sim.spawn(consumer)
    for i in range(4):
        sim.spawn(limited(i))
    sim.run()
    assert ("event", True, 1.0) in log
    assert [e for e in log if e[0] == "got"] == [("got", 0, 1.5), ("got", 1, 2.0), ("got", 2, 2.5)]
    assert [e[2] for e in log if e[0] == "sem"] == [1.0, 1.0, 2.0, 2.0]
    assert ("cond", ["x"], 2.5) in log and ("simple", "done", 2.5) in log
    assert ("empty", "empty", 2.75) in log  # SimpleQueue.get(timeout=0.25) in virtual time
    assert sorted(e[1:] for e in log if e[0] == "barrier") == [(0, 3.75), (1, 3.75)]


def _empty(sq):
    try:
        sq.get(timeout=0.25)
    except queue.Empty:
        return "empty"


def test_condition_wait_times_out_in_virtual_time():
    cond = threading.Condition()
    out = []

    def body():
        with cond:
            out.append((cond.wait(1.5), sim.now()))
            out.append((cond.wait_for(lambda: False, timeout=0.5), sim.now()))

    sim = Simulation()
    run(sim, body)
    assert out == [(False, 1.5), (False, 2.0)]


def test_identity_and_locals_per_simulated_thread():
    seen = {}

    def body(i):
        def f():
            MODULE_LOCAL.value = i
            time.sleep(1)
            seen[i] = (MODULE_LOCAL.value, threading.get_ident(), threading.current_thread().name)
        return f

    sim = Simulation()
    for i in range(3):
        sim.spawn(body(i))
    sim.run()
    assert [seen[i][0] for i in range(3)] == [0, 1, 2]
    assert len({seen[i][1] for i in range(3)}) == 3
    assert threading.get_ident() not in {seen[i][1] for i in range(3)}
    assert not hasattr(MODULE_LOCAL, "value")  # the driver's own value was never set


def test_local_subclass_init_runs_once_per_thread():
    class Counter(threading.local):
        def __init__(self, start):
            self.n = start

    c = Counter(10)
    c.n += 1
    out = []

    def body():
        c.n += 5
        out.append(c.n)

    run(Simulation(), body, body)
    assert out == [15, 15] and c.n == 11


def test_threads_started_in_a_process_run_in_virtual_time():
    out = []

    def body():
        start = threading.current_thread()
        t = threading.Thread(target=lambda: (time.sleep(1), out.append(("thread", sim.now(), threading.current_thread() is start))))
        t.start()
        out.append(("started", sim.now(), t.is_alive()))
        t.join(timeout=0.25)
        out.append(("timed out", sim.now(), t.is_alive()))
        t.join()
        out.append(("joined", sim.now(), t.is_alive()))
        timer = threading.Timer(0.5, lambda: out.append(("timer", sim.now(), None)))
        timer.start()
        timer.join()

    sim = Simulation()
    wall = time.perf_counter()
    run(sim, body)
    assert time.perf_counter() - wall < 3.0
    assert out == [("started", 0.0, True), ("timed out", 0.25, True), ("thread", 1.0, False),
                   ("joined", 1.0, False), ("timer", 1.5, None)]
    assert threading.active_count() >= 1  # no real thread was started: nothing to count


def test_thread_pool_executor_in_a_process():
    out = []

    def body():
        with ThreadPoolExecutor(max_workers=3) as pool:
            futures = [pool.submit(lambda s=s: (time.sleep(s), s)[1]) for s in (3, 1, 2)]
            out.append([f.result() for f in futures])
        out.append(sim.now())

    before = threading.active_count()
    sim = Simulation()
    run(sim, body)
    assert out == [[3, 1, 2], 3.0]
    assert threading.active_count() == before  # its workers were simulated threads


def test_exception_in_a_thread_goes_to_excepthook(monkeypatch):
    caught = []
    monkeypatch.setattr(threading, "excepthook", lambda args: caught.append(args.exc_type))

    def body():
        t = threading.Thread(target=lambda: 1 / 0)
        t.start()
        t.join()

    run(Simulation(), body)
    assert caught == [ZeroDivisionError]


def test_same_program_same_idents_and_order():
    def program():
        log = []

        def worker(i):
            def f():
                with MODULE_LOCK:
                    time.sleep(0.1 * (3 - i))
                    log.append((i, threading.get_ident(), sim.now()))
            return f

        def parent():
            ts = [threading.Thread(target=worker(i)) for i in range(3)]
            for t in ts:
                t.start()
            for t in ts:
                t.join()

        sim = Simulation(seed=7)
        sim.spawn(parent)
        sim.run()
        return log

    assert program() == program()


def test_waits_are_listed_with_who_and_what():
    lock = threading.Lock()

    def holder():
        lock.acquire()

    def waiter():
        lock.acquire()

    sim = Simulation()
    sim.spawn(holder, name="holder")
    sim.spawn(waiter, name="waiter")
    sim.run()
    lines = describe_waits(sim)
    assert len(lines) == 1 and lines[0].startswith("waiter waits in Lock.acquire at ")
    assert "test_thread_primitives.py" in lines[0]


def test_a_node_death_ends_its_threads():
    sim = Simulation()
    node = sim.add_node("n1")
    ticks = []

    def body():
        def tick():
            while True:
                time.sleep(1)
                ticks.append(sim.now())
        threading.Thread(target=tick, daemon=True).start()

    sim.spawn(body, node=node)
    sim.at(2.5, lambda: kill_node(node, sim=sim))
    sim.run(until=10)
    assert ticks == [1.0, 2.0]


# -- outside simulated work they are the real ones --------------------------------------

def test_real_threads_still_work_with_the_patched_primitives():
    lock, event, q = threading.Lock(), threading.Event(), queue.Queue()
    local = threading.local()
    local.v = "main"
    seen = []

    def worker(i):
        local.v = i
        event.wait(5)
        with lock:
            seen.append((i, local.v, threading.get_ident() != main))
        q.put(i)

    main = threading.get_ident()
    ts = [threading.Thread(target=worker, args=(i,)) for i in range(3)]
    for t in ts:
        t.start()
    event.set()
    got = sorted(q.get(timeout=5) for _ in ts)
    for t in ts:
        t.join(5)
    assert got == [0, 1, 2] and sorted(seen) == [(i, i, True) for i in range(3)]
    assert local.v == "main"
    with ThreadPoolExecutor(2) as pool:
        assert list(pool.map(abs, [-1, -2])) == [1, 2]
    t0 = time.monotonic()
    assert threading.Timer(0.05, lambda: None) is not None
    assert not lock.acquire(timeout=0) or lock.release() is None
    assert time.monotonic() - t0 < 5


# -- on the Ray runtime ------------------------------------------------------------------

@pytest.fixture
def cluster():
    ray.shutdown()
    ray.init(num_cpus=4)
    yield ray
    ray.shutdown()


def test_a_wait_that_never_ends_is_a_deadlock_error_naming_it(cluster):
    @ray.remote
    def stuck():
        return queue.Queue().get()

    with pytest.raises(SimulationDeadlockError) as info:
        ray.get(stuck.remote())
    assert "stuck on head waits in Queue.get at " in str(info.value)


def test_killing_an_actor_ends_the_threads_it_started(cluster):
    ticks = []

    @ray.remote
    class Ticker:
        def __init__(self):
            threading.Thread(target=self.run, daemon=True).start()

        def run(self):
            while True:
                time.sleep(1)
                ticks.append(1)

        def ping(self):
            return len(ticks)

    t = Ticker.remote()
    ray.get(t.ping.remote())
    ray.kill(t)

    @ray.remote
    def wait(s):
        time.sleep(s)

    ray.get(wait.remote(5))
    assert ticks == []  # killed at 0 s, before its first tick


_STARTED: list = []


def _start_thread():
    t = threading.Thread(target=time.sleep, args=(2,))
    t.start()
    _STARTED.append(t)  # (a module-level function reads the module's list: the test sees it)


def test_driver_join_of_a_simulated_thread_runs_the_simulation(cluster):
    _STARTED.clear()
    ray.get(ray.remote(_start_thread).remote())
    t = _STARTED[0]
    assert t.is_alive()
    t.join()  # from the driver: runs the simulation until the thread ends
    assert not t.is_alive() and dsai.sim.now() == 2.0


# -- deliberate differences (README's table) ----------------------------------------------

def test_a_thread_switches_only_where_it_waits():
    log = []

    def spinner(name):
        def body():
            for i in range(3):
                log.append((name, i))  # no wait: nobody else runs meanwhile
            time.sleep(0)
            log.append((name, "after"))
        return body

    sim = Simulation()
    run(sim, spinner("a"), spinner("b"))
    assert log == [("a", 0), ("a", 1), ("a", 2), ("b", 0), ("b", 1), ("b", 2), ("a", "after"), ("b", "after")]


def _hold(s):
    # A function of an importable module is pickled by reference, as on Ray, so it reads
    # the module's MODULE_LOCK: one object for every task (on Ray: one per worker process).
    with MODULE_LOCK:
        threading.Thread(target=time.sleep, args=(s,)).start()  # a simulated thread
        time.sleep(s)
    return True


def test_module_level_lock_is_shared_by_tasks_and_threads_are_not_enumerated(cluster):
    hold = ray.remote(_hold)
    start = dsai.sim.now()
    names_before = {t.name for t in threading.enumerate()}
    assert ray.get([hold.remote(1), hold.remote(1)]) == [True, True]
    assert dsai.sim.now() - start == 2.0
    assert {t.name for t in threading.enumerate()} == names_before


def test_main_thread_and_thread_subclasses_in_simulated_work(cluster):
    @ray.remote
    def in_task():
        class Worker(threading.Thread):
            def __init__(self):
                super().__init__(name="worker-1", daemon=True)
                self.seen = None

            def run(self):
                time.sleep(0.1)
                self.seen = (threading.current_thread().name, threading.current_thread() is threading.main_thread())

        w = Worker()
        w.start()
        w.join()
        return threading.current_thread() is threading.main_thread(), w.seen, w.is_alive()

    assert ray.get(in_task.remote()) == (True, ("worker-1", False), False)

    @ray.remote(max_concurrency=2)
    class Threaded:
        def where(self):
            return threading.current_thread() is threading.main_thread()

    assert ray.get(Threaded.remote().where.remote()) is False
