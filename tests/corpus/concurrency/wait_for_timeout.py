"""Timeouts with asyncio.wait_for: in an async actor and on refs in the driver; the task outlives the timeout."""
import asyncio
import time

import ray


@ray.remote
def slow(seconds):
    time.sleep(seconds)
    return seconds


@ray.remote
class Caller:
    async def call(self, seconds, timeout):
        try:
            return await asyncio.wait_for(asyncio.sleep(seconds, result="done"), timeout)
        except asyncio.TimeoutError:
            return "timed out"

    async def call_task(self, seconds, timeout):
        try:
            return await asyncio.wait_for(slow.remote(seconds), timeout)
        except asyncio.TimeoutError:
            return "timed out"


caller = Caller.remote()
print("actor, 2 s work, 0.5 s timeout:", ray.get(caller.call.remote(2, 0.5)))
print("actor, 0.1 s work, 1 s timeout:", ray.get(caller.call.remote(0.1, 1)))
print("actor, 2 s task, 0.5 s timeout:", ray.get(caller.call_task.remote(2, 0.5)))


async def main():
    ref = slow.remote(2)
    try:
        await asyncio.wait_for(ref, 0.5)
    except asyncio.TimeoutError:
        print("driver, 2 s task, 0.5 s timeout: timed out")
    print("the task still finished:", await ref)
    print("driver, 0 s task, 5 s timeout:", await asyncio.wait_for(slow.remote(0), 5))


asyncio.run(main())
