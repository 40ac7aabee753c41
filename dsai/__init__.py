"""dsai: Distributed Systems for AI, a course on a deterministic, simulated Ray.

`from dsai import ray` gives Ray Core's API: the in-process simulator
(`dsai.mockray`) by default, or the real `ray` package when the environment
variable ``DSAI_BACKEND=ray`` is set.
"""

__version__ = "0.1.0"
