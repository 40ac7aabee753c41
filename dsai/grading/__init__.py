"""Grading: release student versions, give inline feedback, grade a class.

The masters use nbgrader's format, and everything here runs on what Jupyter
already ships (nbformat, nbclient). Students only ever import `check`; the
instructor's tools are the `dsai release`, `dsai validate` and `dsai grade`
commands (modules `release`, `validate`, `grader`).
"""

from dsai.grading.checks import CheckFailed, check

__all__ = ["check", "CheckFailed"]
