"""A producer and a consumer thread inside one actor call, handing items over a bounded queue.Queue."""
import queue
import threading
import time

import ray


@ray.remote
class Pipeline:
    def run(self, n):
        q = queue.Queue(maxsize=2)  # the producer waits whenever the consumer lags 2 items behind
        consumed = []

        def produce():
            for i in range(n):
                time.sleep(0.01)
                q.put(i)
            q.put(None)

        def consume():
            while (item := q.get()) is not None:
                time.sleep(0.02)  # slower than the producer: the bound is reached
                consumed.append(item * 10)

        threads = [threading.Thread(target=produce), threading.Thread(target=consume)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        took = time.perf_counter() - start
        return consumed, any(t.is_alive() for t in threads), took >= n * 0.02


p = Pipeline.remote()
consumed, stuck, paced = ray.get(p.run.remote(20))
print("consumed:", consumed)
print("a thread still running:", stuck)
print("paced by the slower consumer:", paced)
