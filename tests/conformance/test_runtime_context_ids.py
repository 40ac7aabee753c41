"""RuntimeContext as Ray 2.60 has it: the deprecated ID properties, get(), is_canceled, session name.

`get_*_id()` return hex strings; the deprecated properties `job_id`, `node_id`,
`task_id`, `actor_id` return ID objects with `.hex()` (and warn with a
`DeprecationWarning`); `task_id`/`actor_id` exist only inside a worker.
"""

from __future__ import annotations

import asyncio

import pytest


def test_deprecated_id_properties_are_objects_of_the_same_ids(ray):
    ctx = ray.get_runtime_context()
    with pytest.warns(DeprecationWarning):
        node = ctx.node_id
    assert node.hex() == ctx.get_node_id() and not node.is_nil()
    with pytest.warns(DeprecationWarning):
        assert ctx.job_id.hex() == ctx.get_job_id()
    with pytest.raises(AssertionError, match=r"only available when the process is a\s+worker"):
        ctx.task_id

    @ray.remote
    def ids():
        import warnings

        c = ray.get_runtime_context()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return (c.node_id.hex() == c.get_node_id(), c.task_id.hex() == c.get_task_id(),
                    c.actor_id is None)

    assert ray.get(ids.remote()) == (True, True, True)


def test_get_lists_ids_and_task_only_inside_a_worker(ray):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        assert set(ray.get_runtime_context().get()) == {"job_id", "node_id", "namespace"}

    @ray.remote
    class Who:
        def keys(self):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                return sorted(ray.get_runtime_context().get())

    w = Who.remote()
    assert ray.get(w.keys.remote()) == ["actor_id", "job_id", "namespace", "node_id", "task_id"]
    ray.kill(w)


def test_is_canceled_inside_a_task_and_refused_elsewhere(ray):
    with pytest.raises(RuntimeError, match="only available when the process is a worker"):
        ray.get_runtime_context().is_canceled()

    @ray.remote
    def asks():
        return ray.get_runtime_context().is_canceled()

    assert ray.get(asks.remote()) is False

    @ray.remote
    class Async:
        async def asks(self):
            await asyncio.sleep(0)
            try:
                return ray.get_runtime_context().is_canceled()
            except RuntimeError as e:
                return str(e)

    a = Async.remote()
    assert ray.get(a.asks.remote()) == "This method is not supported in an async actor."
    ray.kill(a)


def test_session_name_resource_ids_and_no_get_namespace(ray):
    import warnings

    ctx = ray.get_runtime_context()
    assert ctx.get_session_name().startswith("session_")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        assert ctx.get_resource_ids() == ctx.get_accelerator_ids()
    assert isinstance(ctx.namespace, str)
    assert not hasattr(ctx, "get_namespace")  # Ray 2.60 has only the `namespace` property
