"""The simulator's documented, deliberate differences from real Ray (README table), one test each."""

import asyncio
import time

import pytest

import dsai.mockray as ray
import dsai.sim as sim


@pytest.fixture(autouse=True)
def fresh():
    ray.shutdown()
    yield
    ray.shutdown()


def test_default_cpus_do_not_depend_on_the_machine():
    ray.init()
    assert ray.cluster_resources()["CPU"] == 8


def test_ids_and_addresses_are_deterministic():
    def ids():
        ray.shutdown()
        ray.init(num_cpus=1, seed=11)
        node = ray.get_runtime_context().get_node_id()
        ref = ray.put(1)
        return node, ref.hex(), ray.nodes()[0]["NodeManagerAddress"]

    assert ids() == ids()
    assert ids()[2] == "10.0.0.1"


def test_simulator_only_init_keywords():
    ray.init(num_cpus=1, seed=3, network={"latency": 0.25})
    assert sim.current().seed == 3 and sim.current().network.config.latency == 0.25
    ray.shutdown()
    with pytest.raises(RuntimeError, match="Unknown keyword argument"):
        ray.init(num_cpu=1)  # a typo fails as on real Ray


def test_one_timeline_event_per_attempt():
    ray.init(num_cpus=1)

    @ray.remote(max_retries=1, retry_exceptions=True)
    def flaky(path):
        import os
        if not os.path.exists(path):
            open(path, "w").close()
            raise ValueError("first attempt")
        return "second"

    import tempfile, os
    path = os.path.join(tempfile.mkdtemp(), "marker")
    assert ray.get(flaky.remote(path)) == "second"
    events = [e for e in ray.timeline() if e["name"] == "task::flaky"]
    assert [e["args"]["status"] for e in events] == ["failed", "ok"]
    assert [e["args"]["attempt_number"] for e in events] == [0, 1]


def test_gather_in_an_async_actor_awaits_refs_and_sleeps():
    ray.init(num_cpus=4)

    @ray.remote
    def slow(x):
        time.sleep(1.0)
        return x

    @ray.remote
    class Async:
        async def both(self):
            refs = [slow.remote(1), slow.remote(2)]
            return await asyncio.gather(*refs)

        async def naps(self):
            await asyncio.gather(asyncio.sleep(1.0), asyncio.sleep(1.0))
            return sim.now()

    a = Async.remote()
    t0 = sim.now()
    assert ray.get(a.both.remote()) == [1, 2]
    assert sim.now() - t0 == pytest.approx(1.0)  # the two tasks still overlapped
    assert ray.get(a.naps.remote()) - t0 == pytest.approx(2.0)  # the sleeps overlap too (a real event loop)


def test_unsupported_awaitables_fail_clearly():
    ray.init(num_cpus=1)

    @ray.remote
    class Async:
        async def odd(self):
            fut = asyncio.Future(loop=asyncio.new_event_loop())
            await fut

    with pytest.raises(RuntimeError, match="attached to a different loop"):  # asyncio's own check
        ray.get(Async.remote().odd.remote())


def test_a_tasks_print_reaches_the_driver_as_it_runs_without_a_prefix(capsys):
    ray.init(num_cpus=1)

    @ray.remote
    def echo(a, b, c):
        print(a, b, c)

    ray.get(echo.remote(1, 2, 3))
    print("after")
    assert capsys.readouterr().out == "1 2 3\nafter\n"  # Ray: "(echo pid=...) 1 2 3", some time later
