"""A threaded actor: concurrent calls on distinct threads, a shared counter kept right by a lock."""
import threading
import time

import ray


@ray.remote(max_concurrency=4)
class Counter:
    def __init__(self):
        self.count = 0
        self.lock = threading.Lock()
        self.barrier = threading.Barrier(4)  # passes only when 4 calls run at the same time
        self.local = threading.local()

    def add(self, times):
        self.barrier.wait(timeout=30)
        self.local.added = 0
        for _ in range(times):
            with self.lock:
                value = self.count
                time.sleep(0)  # give another thread the chance to interleave here
                self.count = value + 1
            self.local.added += 1
        return threading.get_ident(), self.local.added

    def total(self):
        return self.count


c = Counter.remote()
results = ray.get([c.add.remote(500) for _ in range(4)])
print("distinct threads:", len({ident for ident, _ in results}))
print("each call's own thread-local count:", [added for _, added in results])
print("total:", ray.get(c.total.remote()))
