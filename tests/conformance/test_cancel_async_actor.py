"""Cancelling a running call of an async actor: its coroutine sees CancelledError, and `get` reports the call's error."""

from __future__ import annotations

import asyncio
import re
import time

import pytest


@pytest.mark.parametrize("catches", [False, True], ids=["propagates", "caught"])
def test_a_running_async_call_cancelled_is_the_calls_error(ray, names, catches):
    @ray.remote
    class Server:
        def __init__(self):
            self.started = False
            self.saw_cancel = False

        async def serve(self, catch):
            self.started = True
            try:
                await asyncio.sleep(60)
            except asyncio.CancelledError:
                self.saw_cancel = True
                if not catch:
                    raise

        async def state(self):
            return self.started, self.saw_cancel

    server = Server.options(name=names("server")).remote()
    ref = server.serve.remote(catches)
    while not ray.get(server.state.remote())[0]:
        time.sleep(0.05)
    ray.cancel(ref)
    with pytest.raises(ray.exceptions.TaskCancelledError) as info:
        ray.get(ref, timeout=30)
    assert isinstance(info.value, ray.exceptions.RayTaskError)  # Ray 2.60: RayTaskError(TaskCancelledError)
    assert re.sub(r"\x1b\[[0-9;]*m", "", str(info.value)).startswith("ray::Server.serve()")  # (Ray colours it)
    assert ray.get(server.state.remote()) == (True, True)
