"""The dsai error family: every error dsai raises on its own account.

Errors that Ray has a type for are raised with Ray's type (see
`dsai.mockray.exceptions`); the rest derive from `DsaiError`, and each
message says what went wrong and how to fix it.
"""

__all__ = ["DsaiError", "SimulationError", "HistoryError", "GradingError"]


class DsaiError(Exception):
    """Base class of dsai's own errors."""


class SimulationError(DsaiError):
    """The simulated cluster was used in a way it cannot honour."""


class HistoryError(DsaiError, ValueError):
    """A history (Jepsen's operation model) is malformed."""


class GradingError(DsaiError):
    """A notebook could not be released or graded."""
