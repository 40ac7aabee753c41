"""Who am I? The runtime context tells running code its job, node, task, actor and resources."""

from __future__ import annotations

import warnings
from typing import Any

from dsai.mockray import session
from dsai.mockray.ids import ActorID, JobID, NodeID, TaskID
from dsai.mockray.placement_binding import current_binding
from dsai.sim.process import current_process

__all__ = ["RuntimeContext", "get_runtime_context", "RayDeprecationWarning"]


class RayDeprecationWarning(DeprecationWarning):
    """Ray's warning for a deprecated API (ray.util.annotations)."""


def _deprecated(use: str) -> None:
    warnings.warn("This API is deprecated and may be removed in future Ray releases. You could "
                  'suppress this warning by setting env variable PYTHONWARNINGS="ignore::DeprecationWarning"'
                  f"\nUse {use} instead", RayDeprecationWarning, stacklevel=3)


def _in_worker(task: Any) -> None:
    if task is None:  # (Ray asserts it)
        raise AssertionError("This method is only available when the process is a worker. "
                             "Current mode: 0 (the driver)")


class RuntimeContext:
    """A snapshot-free view: each call answers for the code calling it now."""

    def _task(self) -> Any:
        proc = current_process()
        return proc.context if proc is not None else None

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

    # Ray's deprecated properties: ID objects, where the get_*_id() methods give hex.
    @property
    def job_id(self) -> JobID:
        _deprecated("get_job_id()")
        return JobID.from_hex(self.get_job_id())

    @property
    def node_id(self) -> NodeID:
        _deprecated("get_node_id()")
        return NodeID.from_hex(self.get_node_id())

    @property
    def task_id(self) -> TaskID | None:
        _deprecated("get_task_id()")
        _in_worker(self._task())
        hex_id = self.get_task_id()
        return TaskID.from_hex(hex_id) if hex_id is not None else None

    @property
    def actor_id(self) -> ActorID | None:
        _deprecated("get_actor_id()")
        _in_worker(self._task())
        hex_id = self.get_actor_id()
        return ActorID.from_hex(hex_id) if hex_id is not None else None

    def get_resource_ids(self) -> dict[str, list[str]]:
        _deprecated("get_accelerator_ids()")
        return self.get_accelerator_ids()

    def get_session_name(self) -> str:
        """The cluster's session name: deterministic here (Ray's has a date and a pid)."""
        return f"session_sim_seed{session.runtime().sim.seed}"

    def is_canceled(self) -> bool:
        """Whether `ray.cancel` was called on the task running this code."""
        task = self._task()
        if task is None:
            raise RuntimeError("This method is only available when the process is a worker. "
                               "Current mode: 0 (the driver)")
        if task.actor is not None and task.actor.is_async:
            raise RuntimeError("This method is not supported in an async actor.")
        return bool(task.cancel_requested)

    @property
    def namespace(self) -> str:
        return session.runtime().namespace

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
        """Deprecated in Ray: the IDs as objects; task and actor only inside a worker."""
        _deprecated("get_xxx_id() methods to get relevant ids")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RayDeprecationWarning)
            out: dict[str, Any] = {"job_id": self.job_id, "node_id": self.node_id, "namespace": self.namespace}
            if self._task() is not None:
                if self.task_id is not None:
                    out["task_id"] = self.task_id
                if self.actor_id is not None:
                    out["actor_id"] = self.actor_id
        return out

    def __repr__(self) -> str:
        return (f"RuntimeContext(job_id={self.get_job_id()}, node_id={self.get_node_id()}, "
                f"task_id={self.get_task_id()}, actor_id={self.get_actor_id()})")


def get_runtime_context() -> RuntimeContext:
    session.runtime()
    return RuntimeContext()
