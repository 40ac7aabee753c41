"""A driver asyncio pipeline: refs awaited as they finish, each result fed to a second stage at once."""
import asyncio
import time

import ray


@ray.remote
def fetch(seconds):
    time.sleep(seconds)
    return seconds


@ray.remote
def parse(seconds):
    return f"parsed {seconds}"


@ray.remote
class Gate:
    def __init__(self):
        self.arrived = 0

    def arrive(self):
        self.arrived += 1
        return self.arrived

    def count(self):
        return self.arrived


@ray.remote
def meet(gate, n):
    """Returns once n of these run at the same time: n workers are up (a cold start takes seconds)."""
    ray.get(gate.arrive.remote())
    while ray.get(gate.count.remote()) < n:
        time.sleep(0.01)


async def main():
    gate = Gate.remote()
    await asyncio.gather(*[meet.remote(gate, 3) for _ in range(3)])  # warm workers: only the sleeps differ
    start = time.perf_counter()
    refs = [fetch.remote(s) for s in (3, 1, 2)]
    order, parsed = [], []
    for next_done in asyncio.as_completed(refs):
        value = await next_done
        order.append(value)
        parsed.append(parse.remote(value))  # the second stage starts while the others still run
    print("fetched in completion order:", order)
    print("parsed:", await asyncio.gather(*parsed))
    print("took at least the slowest fetch:", time.perf_counter() - start >= 3)

    done, pending = await asyncio.wait([asyncio.ensure_future(fetch.remote(s)) for s in (0, 2)],
                                       return_when=asyncio.FIRST_COMPLETED)
    print("first completed:", [d.result() for d in done], "still pending:", len(pending))
    print("the pending one:", [await p for p in pending])


asyncio.run(main())
