"""A heartbeat coroutine keeps ticking while other coroutines wait: in an async actor and in the driver."""
import asyncio

import ray


@ray.remote
class Worker:
    def __init__(self):
        self.ticks = 0
        self.alive = asyncio.Event()

    async def _heartbeat(self):
        while True:
            await asyncio.sleep(0.1)
            self.ticks += 1
            if self.ticks == 5:
                self.alive.set()

    async def work(self):
        beat = asyncio.get_running_loop().create_task(self._heartbeat())
        await self.alive.wait()  # finishes only if the heartbeat ran while this call waited
        beat.cancel()
        try:
            await beat
        except asyncio.CancelledError:
            pass
        return self.ticks


@ray.remote
def job():
    import time
    time.sleep(1.0)
    return "job done"


async def main():
    ticks = 0

    async def heartbeat():
        nonlocal ticks
        while True:
            await asyncio.sleep(0.1)
            ticks += 1

    beat = asyncio.create_task(heartbeat())
    result = await job.remote()
    beat.cancel()
    print(result, "; the driver's heartbeat ticked meanwhile:", ticks >= 3)


w = Worker.remote()
print("actor heartbeat ticks when work returned:", ray.get(w.work.remote()))
asyncio.run(main())
