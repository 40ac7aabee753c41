"""The dsai error family: every error dsai raises on its own account.

Errors that Ray has a type for are raised with Ray's type (see
`dsai.mockray.exceptions`); the rest derive from `DsaiError`, and each
message says what went wrong and how to fix it.
"""

__all__ = ["DsaiError", "SimulationError", "HistoryError", "GradingError", "ParallelConfigError",
           "DeviceOutOfMemoryError"]


class DsaiError(Exception):
    """Base class of dsai's own errors."""


class SimulationError(DsaiError):
    """The simulated cluster was used in a way it cannot honour."""


class HistoryError(DsaiError, ValueError):
    """A history (Jepsen's operation model) is malformed."""


class GradingError(DsaiError):
    """A notebook could not be released or graded."""


class ParallelConfigError(DsaiError, ValueError):
    """A model-parallel layout (stages, micro-batches, tensor degree, device size) cannot work."""


class DeviceOutOfMemoryError(DsaiError, MemoryError):
    """A simulated accelerator was asked to hold more bytes than it has free."""

    def __init__(self, device: str, requested: int, free: int, capacity: int, what: str) -> None:
        # All fields in args, so the error pickles across Ray's task boundary intact.
        super().__init__(device, requested, free, capacity, what)
        self.device, self.requested, self.free, self.capacity, self.what = (
            device, requested, free, capacity, what)

    def __str__(self) -> str:
        return (f"device {self.device} is out of memory: {self.what} asked for "
                f"{self.requested:,} bytes but only {self.free:,} of {self.capacity:,} bytes are free. "
                "Try more pipeline stages (fewer layers per device), more micro-batches (smaller "
                "activations per step), or ZeRO (shard optimizer state, gradients, parameters).")
