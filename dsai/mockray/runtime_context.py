"""Who am I? The runtime context tells running code its job, node, task, actor and resources."""

from __future__ import annotations

from typing import Any

from dsai.mockray import session
from dsai.mockray.placement_binding import current_binding
from dsai.sim.process import current_process

__all__ = ["RuntimeContext", "get_runtime_context"]


class RuntimeContext:
    """A snapshot-free view: each call answers for the code calling it now."""

    def _task(self) -> Any:
        proc = current_process()
        return proc.context if proc is not None else None

    def is_canceled(self) -> bool:
        """Has `ray.cancel` been called on the task running this code? (Ray: tasks and sync actors.)"""
        task = self._task()
        if task is None:
            raise RuntimeError("This method is only available when the process is a worker. "
                               "Current mode: 0")
        if task.actor is not None and task.actor.is_async:
            raise RuntimeError("This method is not supported in an async actor.")
        return bool(task.cancel_requested)

    def get_job_id(self) -> str:
        return "01000000"

    def get_node_id(self) -> str:
        rt = session.runtime()
        task = self._task()
        ns = task.node if task is not None and task.node is not None else rt.head
        return ns.node_id

    def get_task_id(self) -> str | None:
        task = self._task()
        return task.task_id_hex if task is not None else None

    def get_task_name(self) -> str | None:
        task = self._task()
        return task.name if task is not None else None

    def get_task_function_name(self) -> str | None:
        task = self._task()
        if task is None:
            return None
        fn = task.fn if task.kind == "task" else None
        return f"{fn.__module__}.{fn.__qualname__}" if fn is not None else task.name

    def get_actor_id(self) -> str | None:
        task = self._task()
        return task.actor.id if task is not None and task.actor is not None else None

    def get_actor_name(self) -> str | None:
        task = self._task()
        return task.actor.name if task is not None and task.actor is not None else None

    def get_worker_id(self) -> str:
        task = self._task()
        if task is None:
            return "%056x" % 0
        ns = task.node or session.runtime().head
        return ns.worker_id(task.worker)

    def get_assigned_resources(self) -> dict[str, float]:
        task = self._task()
        if task is None:
            return {}
        if task.pg is None:
            return dict(task.hold)
        # In a placement group it holds its bundle's resources (CPU_group_0_<id>, ...); Ray
        # reports them by the names the task asked for.
        return {k[:k.rindex("_group_")]: v for k, v in task.hold.items() if not k.startswith("bundle_group_")}

    def get_accelerator_ids(self) -> dict[str, list[str]]:
        n = int(self.get_assigned_resources().get("GPU", 0))
        return {"GPU": [str(i) for i in range(n)]}

    def get_placement_group_id(self) -> str | None:
        b = current_binding(self._task())
        return b.group.id if b is not None else None

    @property
    def namespace(self) -> str:
        return session.runtime().namespace

    def get_namespace(self) -> str:
        return self.namespace

    @property
    def was_current_actor_reconstructed(self) -> bool:
        task = self._task()
        return bool(task is not None and task.actor is not None and task.actor.num_restarts > 0)

    @property
    def current_actor(self) -> Any:
        task = self._task()
        if task is None or task.actor is None:
            raise RuntimeError("This method is only available in an actor.")
        return task.actor.handle

    @property
    def gcs_address(self) -> str:
        return "sim://head"

    def get(self) -> dict[str, Any]:
        return {"job_id": self.get_job_id(), "node_id": self.get_node_id(),
                "namespace": self.namespace, "task_id": self.get_task_id(),
                "actor_id": self.get_actor_id()}

    def __repr__(self) -> str:
        return f"RuntimeContext({self.get()})"


def get_runtime_context() -> RuntimeContext:
    session.runtime()
    return RuntimeContext()
