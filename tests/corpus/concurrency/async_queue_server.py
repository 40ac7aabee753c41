"""An async actor serves many callers through an asyncio.Queue: one background task answers them in batches."""
import asyncio

import ray


@ray.remote
class BatchServer:
    def __init__(self, batch):
        self.batch = batch
        self.queue = asyncio.Queue()
        self.batches = []
        self.worker = None

    async def _serve(self):
        while True:
            items = [await self.queue.get() for _ in range(self.batch)]  # waits until a batch is full
            self.batches.append(len(items))
            await asyncio.sleep(1.0)  # one model step for the whole batch
            for x, answer in items:
                answer.set_result(x * x)

    async def square(self, x):
        loop = asyncio.get_running_loop()
        if self.worker is None:
            self.worker = loop.create_task(self._serve())
        answer = loop.create_future()
        await self.queue.put((x, answer))
        return await answer

    def batch_sizes(self):
        return self.batches


server = BatchServer.remote(batch=4)
print("answers:", ray.get([server.square.remote(i) for i in range(8)]))
print("batch sizes:", ray.get(server.batch_sizes.remote()))
print("answers:", ray.get([server.square.remote(i) for i in range(4)]))
print("batch sizes:", ray.get(server.batch_sizes.remote()))
