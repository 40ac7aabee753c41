"""Ray's exception family, as `ray.exceptions` defines it in Ray 2.60.

Errors travel like values: a failed task stores its error in its return
objects, and `ray.get` raises it. A task's own exception arrives as
`RayTaskError(ValueError)`, a class made on the fly that is both a
`RayTaskError` and a `ValueError`, so `except ValueError` works across the
process boundary.
"""

from __future__ import annotations

import os
from typing import Any, Optional

from dsai.errors import SimulationError

__all__ = [
    "RayError", "RayTaskError", "TaskCancelledError", "WorkerCrashedError", "RayActorError",
    "ActorDiedError", "ActorUnavailableError", "RaySystemError", "ObjectStoreFullError",
    "OutOfMemoryError", "NodeDiedError", "ObjectLostError", "OwnerDiedError",
    "ObjectReconstructionFailedError", "ReferenceCountingAssertionError", "GetTimeoutError",
    "AsyncioActorExit",
    "TaskUnschedulableError", "ActorUnschedulableError", "PendingCallsLimitExceeded",
    "ActorAlreadyExistsError", "ActorHandleNotFoundError", "LocalRayletDiedError",
    "SimulationDeadlockError", "TaskPlacementGroupRemoved", "ActorPlacementGroupRemoved",
]


class RayError(Exception):
    """Super class of all ray exception types."""


class CrossLanguageError(RayError):
    pass


class TaskCancelledError(RayError):
    """Raised when this task is cancelled."""

    def __init__(self, task_id: Optional[Any] = None, error_message: Optional[str] = None) -> None:
        self.task_id = task_id
        self.error_message = error_message

    def __str__(self) -> str:
        msg = ""
        if self.task_id:
            msg = "Task: " + str(self.task_id) + " was cancelled. "
        if self.error_message:
            msg += self.error_message
        return msg


class RayTaskError(RayError):
    """Indicates that a task threw an exception during execution."""

    def __init__(self, function_name: str, traceback_str: str, cause: BaseException,
                 proctitle: Optional[str] = None, pid: Optional[int] = None, ip: Optional[str] = None,
                 actor_repr: Optional[str] = None, actor_id: Optional[str] = None) -> None:
        self.proctitle = proctitle or f"ray::{function_name}"
        self.pid = pid or os.getpid()
        self.ip = ip or "127.0.0.1"
        self.function_name = function_name
        self.traceback_str = traceback_str
        self.actor_repr = actor_repr
        self._actor_id = actor_id
        self.cause = cause
        self.args = (function_name, traceback_str, cause, proctitle, pid, ip)

    def as_instanceof_cause(self) -> "RayTaskError":
        """An exception that is an instance of both RayTaskError and the cause's class."""
        cause_cls = self.cause.__class__
        if issubclass(RayTaskError, cause_cls):
            return self
        error_msg = str(self)
        try:
            class cls(RayTaskError, cause_cls):  # type: ignore[misc, valid-type]
                def __init__(self, cause: BaseException) -> None:
                    self.cause = cause
                    self._ray_task_error_args = (cause,)

                @property
                def args(self):  # type: ignore[override]
                    return self._ray_task_error_args

                @args.setter
                def args(self, value):
                    self._ray_task_error_args = value

                def __reduce__(self):
                    return (cls, self._ray_task_error_args)

                def __getattr__(self, name: str) -> Any:
                    return getattr(self.cause, name)

                def __str__(self) -> str:
                    return error_msg

            name = f"RayTaskError({cause_cls.__name__})"
            cls.__name__ = name
            cls.__qualname__ = name
            return cls(self.cause)
        except TypeError:  # the cause's class cannot be subclassed
            return self

    def __str__(self) -> str:
        lines = self.traceback_str.strip().split("\n")
        head = f"{self.proctitle}() (pid={self.pid}, ip={self.ip}"
        if self.actor_repr:
            head += f", actor_id={self._actor_id}, repr={self.actor_repr})"
        else:
            head += ")"
        if not any(line.startswith("Traceback ") for line in lines):
            return "\n".join([head] + lines)  # (an error with no stack, e.g. a call cancelled after it caught that)
        return "\n".join(head if line.startswith("Traceback ") else line for line in lines)


class LocalRayletDiedError(RayError):
    def __str__(self) -> str:
        return "The task's local raylet died. Check raylet.out for more information."


class WorkerCrashedError(RayError):
    """Indicates that the worker died unexpectedly while executing a task."""

    def __str__(self) -> str:
        return ("The worker died unexpectedly while executing this task. "
                "Check python-core-worker-*.log files for more information.")


class RayActorError(RayError):
    """The actor had an outage before finishing a task (dead, or unavailable for now)."""

    BASE_ERROR_MSG = "The actor experienced an error before finishing this task."

    def __init__(self, actor_id: Optional[str] = None, error_msg: str = BASE_ERROR_MSG,
                 actor_init_failed: bool = False, preempted: bool = False) -> None:
        self.actor_id = actor_id
        self.error_msg = error_msg
        self._actor_init_failed = actor_init_failed
        self._preempted = preempted

    def __str__(self) -> str:
        return self.error_msg

    @property
    def preempted(self) -> bool:
        return self._preempted

    @property
    def actor_init_failed(self) -> bool:
        return self._actor_init_failed


class ActorDiedError(RayActorError):
    """The actor died before finishing a task, or a task was sent to a dead actor."""

    BASE_ERROR_MSG = "The actor died unexpectedly before finishing this task."

    def __init__(self, cause: Optional[Any] = None, *, actor_id: Optional[str] = None,
                 detail: Optional[str] = None) -> None:
        if isinstance(cause, RayTaskError):
            super().__init__(cause._actor_id or actor_id,
                             "The actor died because of an error raised in its creation task, "
                             f"{cause.__str__()}", actor_init_failed=True)
            return
        msg = ActorDiedError.BASE_ERROR_MSG
        if detail:
            msg += "\n" + detail
        super().__init__(actor_id, msg)

    @staticmethod
    def from_task_error(task_error: RayTaskError) -> "ActorDiedError":
        return ActorDiedError(task_error)


class ActorUnavailableError(RayActorError):
    def __init__(self, error_message: str, actor_id: Optional[str]) -> None:
        super().__init__(actor_id, f"The actor {actor_id} is unavailable: {error_message}. "
                                   "The task may or may not have been executed on the actor.")


class RaySystemError(RayError):
    def __init__(self, client_exc: Any, traceback_str: Optional[str] = None) -> None:
        self.client_exc = client_exc
        self.traceback_str = traceback_str

    def __str__(self) -> str:
        msg = f"System error: {self.client_exc}"
        if self.traceback_str:
            msg += f"\ntraceback: {self.traceback_str}"
        return msg


class ObjectStoreFullError(RayError):
    pass


class OutOfMemoryError(RayError):
    def __init__(self, message: str) -> None:
        self.message = message

    def __str__(self) -> str:
        return self.message


class NodeDiedError(RayError):
    """Indicates that the node is either dead or unreachable."""

    def __init__(self, message: str) -> None:
        self.message = message

    def __str__(self) -> str:
        return self.message


class ObjectLostError(RayError):
    """The object is lost from distributed memory, due to node failure or system error."""

    def __init__(self, object_ref_hex: str, owner_address: Optional[bytes] = None, call_site: str = "") -> None:
        self.object_ref_hex = object_ref_hex
        self.owner_address = owner_address
        self.call_site = call_site

    def _base_str(self) -> str:
        msg = f"Failed to retrieve object {self.object_ref_hex}. "
        if self.call_site:
            msg += f"The ObjectRef was created at: {self.call_site}"
        return msg

    def __str__(self) -> str:
        return (self._base_str() + "\n\n" + f"All copies of {self.object_ref_hex} have been lost due to "
                "node failure. Check cluster logs (`/tmp/ray/session_latest/logs`) for more "
                "information about the failure.")


class OwnerDiedError(ObjectLostError):
    def __str__(self) -> str:
        return (self._base_str() + "\n\n" + "The object's owner has exited. This is the Python worker "
                "that first created the ObjectRef via `.remote()` or `ray.put()`.")


class ObjectReconstructionFailedError(ObjectLostError):
    def __str__(self) -> str:
        return (self._base_str() + "\n\n" + "The object cannot be reconstructed because the maximum "
                "number of task retries has been exceeded.")


class ReferenceCountingAssertionError(ObjectLostError, AssertionError):
    def __str__(self) -> str:
        return (self._base_str() + "\n\n" + "The object has already been deleted by the reference "
                "counting protocol: nothing referred to it when this ref was unpickled (or it "
                "belonged to a cluster since shut down). A ref pickled outside Ray (pickle, "
                "cloudpickle, copy) does not keep its object alive; keep the original ref until the "
                "copy is used (real Ray would hang here).")


class GetTimeoutError(RayError, TimeoutError):
    """Indicates that a call to the worker timed out."""


class AsyncioActorExit(RayError):
    """Raised when an asyncio actor intentionally exits via exit_actor()."""


class TaskUnschedulableError(RayError):
    """The task cannot be scheduled (in the simulator: no node can ever fit it)."""

    def __init__(self, error_message: str) -> None:
        self.error_message = error_message

    def __str__(self) -> str:
        return f"The task is not schedulable: {self.error_message}"


class ActorUnschedulableError(RayError):
    """The actor cannot be scheduled (in the simulator: no node can ever fit it)."""

    def __init__(self, error_message: str) -> None:
        self.error_message = error_message

    def __str__(self) -> str:
        return f"The actor is not schedulable: {self.error_message}"


class PendingCallsLimitExceeded(RayError):
    pass


class TaskPlacementGroupRemoved(RayError):
    """Raised when the corresponding placement group was removed."""

    def __str__(self) -> str:
        return "The placement group corresponding to this task has been removed."


class ActorPlacementGroupRemoved(RayError):
    """Raised when the corresponding placement group was removed."""

    def __str__(self) -> str:
        return "The placement group corresponding to this Actor has been removed."


class ActorAlreadyExistsError(ValueError, RayError):
    """A named actor with this name already exists (also a ValueError)."""

    def __init__(self, error_message: str) -> None:
        super().__init__(error_message)
        self.error_message = error_message

    def __str__(self) -> str:
        return self.error_message


class ActorHandleNotFoundError(ValueError, RayError):
    def __init__(self, error_message: str) -> None:
        super().__init__(error_message)
        self.error_message = error_message

    def __str__(self) -> str:
        return self.error_message


class SimulationDeadlockError(RayError, SimulationError):
    """The simulator's own error: what is awaited can never become ready.

    Real Ray would hang here; the simulator sees that no event is left that
    could make progress and says what everything is waiting for.
    """
