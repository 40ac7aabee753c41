"""What Ray's documentation programs (tests/corpus/ray_docs) rely on, checked on both backends.

Each test pins one behaviour a corpus program needed and the simulator
lacked or got wrong: Ray's DAG API (ray-dag.py), where `.bind()` records a
call and `.execute()` submits the graph as ordinary tasks and actor calls;
and the error an ObjectRef gives for an attribute it lacks
(anti_pattern_ray_get_ray_wait_async.py).
"""

from __future__ import annotations

import importlib
import warnings
from typing import Any

import pytest


def _dag_nodes(ray: Any) -> tuple[type, type]:
    """`ray.dag`'s InputNode and MultiOutputNode of the backend under test (the fixture's module)."""
    return (importlib.import_module(f"{ray.__name__}.dag.input_node").InputNode,
            importlib.import_module(f"{ray.__name__}.dag.output_node").MultiOutputNode)


@pytest.fixture(autouse=True)
def _quiet_deprecation():
    # Ray 2.60 deprecates DAGNode.execute() (it warns on every call); the API still works.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        yield


def test_a_bound_task_runs_only_when_executed_and_feeds_its_value_on(ray):
    @ray.remote
    class Counter:
        def __init__(self):
            self.n = 0

        def tick(self):
            self.n += 1

        def count(self):
            return self.n

    @ray.remote
    def add(counter, src, inc=1):
        ray.get(counter.tick.remote())
        return src + inc

    counter = Counter.remote()
    a = add.bind(counter, 1, inc=2)
    b = add.bind(counter, a, inc=3)
    c = add.bind(counter, b, inc=a)  # `a` used twice: one task per execute
    assert ray.get(counter.count.remote()) == 0  # binding submits nothing
    assert ray.get(c.execute()) == 9
    assert ray.get(counter.count.remote()) == 3
    assert ray.get(c.execute()) == 9  # each execute submits the graph again
    assert ray.get(counter.count.remote()) == 6


def test_a_node_nested_in_a_list_arrives_as_an_object_ref(ray):
    @ray.remote
    def one():
        return 1

    @ray.remote
    def kinds(top, nested):
        return type(top).__name__, isinstance(nested[0], ray.ObjectRef), ray.get(nested[0])

    node = one.bind()
    assert ray.get(kinds.bind(node, [node]).execute()) == ("int", True, 1)


def test_calls_bound_on_a_class_node_run_in_bind_order_on_a_fresh_actor_per_execute(ray):
    @ray.remote
    class Acc:
        def __init__(self, v):
            self.v = v

        def inc(self, x):
            self.v += x

        def times(self, k):
            self.v *= k

        def get(self):
            return self.v

    acc = Acc.bind(10)
    first = acc.get.bind()
    assert ray.get(first.execute()) == 10
    acc.inc.bind(2)
    acc.times.bind(3)  # order matters: (10 + 2) * 3, not 10 * 3 + 2
    last = acc.get.bind()
    assert ray.get(last.execute()) == 36
    assert ray.get(last.execute()) == 36  # a new actor, not 36 * 3 + ...
    assert ray.get(first.execute()) == 10  # the calls bound later are not part of `first`


def test_input_node_is_the_execute_argument_or_its_parts(ray):
    InputNode, MultiOutputNode = _dag_nodes(ray)

    @ray.remote
    def double(x):
        return x * 2

    @ray.remote
    def add(x, y):
        return x + y

    with InputNode() as inp:
        dag = add.bind(double.bind(inp), inp)
    assert ray.get(dag.execute(2)) == 6
    assert ray.get(dag.execute(5)) == 15

    with InputNode() as inp:
        parts = MultiOutputNode([double.bind(inp[0]), double.bind(inp[1]), double.bind(inp.z)])
    refs = parts.execute(1, 2, z=3)
    assert isinstance(refs, list) and all(isinstance(r, ray.ObjectRef) for r in refs)
    assert ray.get(refs) == [2, 4, 6]

    with InputNode() as inp:
        by_key = MultiOutputNode([double.bind(inp["x"]), double.bind(inp["y"])])
    assert ray.get(by_key.execute({"x": 1, "y": 2})) == [2, 4]


def test_a_method_bound_on_a_live_handle_reuses_that_actor(ray):
    InputNode, MultiOutputNode = _dag_nodes(ray)

    @ray.remote
    class Worker:
        def __init__(self):
            self.forwarded = 0

        def forward(self, x):
            self.forwarded += 1
            return x + 1

        def num_forwarded(self):
            return self.forwarded

    worker = Worker.remote()
    with InputNode() as inp:
        dag = MultiOutputNode([worker.forward.bind(inp)])
    assert [ray.get(dag.execute(i)) for i in (1, 2, 3)] == [[2], [3], [4]]
    assert ray.get(worker.num_forwarded.remote()) == 3


def test_a_bound_node_cannot_be_bound_again_or_called_remotely(ray):
    @ray.remote
    def f(x):
        return x

    node = f.bind(1)
    with pytest.raises(AttributeError, match="cannot be used"):
        node.remote()
    with pytest.raises(AttributeError, match="cannot be used again"):
        node.bind()
    assert ray.get(f.options(num_cpus=0.5).bind(7).execute()) == 7


def test_an_object_ref_is_not_an_asyncio_future_and_says_so_as_ray_does(ray):
    """anti_pattern_ray_get_ray_wait_async.py ends in `asyncio.wait([ref])`: Ray's ObjectRef
    is awaitable but not a Future, and its error names it 'ray.ObjectRef'."""
    import asyncio

    @ray.remote
    def f(x):
        return x

    ref = f.remote(3)
    message = "'ray.ObjectRef' object has no attribute 'add_done_callback'"
    with pytest.raises(AttributeError, match=message):
        ref.add_done_callback(print)

    async def main():
        assert await ref == 3
        await asyncio.wait([ref], return_when=asyncio.FIRST_COMPLETED)

    with pytest.raises(AttributeError, match=message):
        asyncio.run(main())
    assert not hasattr(ref, "no_such_attribute") and ray.get(ref) == 3
