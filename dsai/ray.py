"""Backend switch: `from dsai import ray` is the simulator, or real Ray.

The choice is made once, at first import, from ``DSAI_BACKEND``
(``sim``, the default, or ``ray``). Lesson code written against this module
runs unchanged on a real cluster.
"""

import os
import sys

from dsai.errors import DsaiError

_backend = os.environ.get("DSAI_BACKEND", "sim").strip().lower() or "sim"
if _backend == "ray":
    try:
        import ray as _impl
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise DsaiError(
            "DSAI_BACKEND=ray but the `ray` package is not installed; "
            "install it with: pip install 'dsai[ray]'"
        ) from e
elif _backend == "sim":
    import dsai.mockray as _impl
else:
    raise DsaiError(f"DSAI_BACKEND={_backend!r} is not a backend; use 'sim' or 'ray'")

# Replace this module by the backend, so `dsai.ray` *is* `ray` or `dsai.mockray`.
sys.modules[__name__] = _impl
