"""Ray Core conformance: one suite, two backends (the simulator and real Ray 2.60).

Every test here is written against `from dsai import ray` only, so the same
assertions run on `dsai.mockray` (default) and on real Ray
(`DSAI_BACKEND=ray`). Real Ray is the reference: a test that fails there is a
wrong test. Deliberate, documented differences are marked
`@pytest.mark.sim_only(reason=...)` or `@pytest.mark.ray_only(reason=...)` and
listed in docs/ray_behaviour.md.

Cost model: on real Ray an `init` takes 15-25 s and each actor starts a worker
process (2-3 s) on this 2-core machine, so real Ray shares ONE cluster for the
whole session (tests kill the actors they name), and the few tests that need
their own cluster (marked `own_cluster`) run last. On the simulator every test
gets a fresh cluster, which is cheap.
"""

from __future__ import annotations

import os
import time
from typing import Any, Iterator

import pytest

__all__ = ["BACKEND", "STANDARD_INIT", "now", "unique_name"]

BACKEND = "ray" if os.environ.get("DSAI_BACKEND", "").strip().lower() == "ray" else "sim"

# The one cluster shape the suite is written for: 4 CPUs, 1 GPU, 2 "special".
STANDARD_INIT: dict[str, Any] = {
    "num_cpus": 4,
    "num_gpus": 1,
    "resources": {"special": 2},
    "namespace": "conformance",
}
# Real Ray only: no dashboard (saves seconds), no worker stdout in the test log.
_RAY_EXTRA: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}

if BACKEND == "ray":
    # Quieter logs; must be set before `ray` is imported.
    os.environ.setdefault("RAY_IGNORE_UNHANDLED_ERRORS", "1")
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    # Always start a private local cluster: without this, `ray.init()` (and the
    # auto-init of `ray.put` & co.) joins any cluster whose address another
    # process left in /tmp/ray/ray_current_cluster.
    os.environ["RAY_ADDRESS"] = "local"

from dsai import ray as _ray  # noqa: E402  (after the environment is set)


def now() -> float:
    """Seconds on the backend's clock: virtual on the simulator, monotonic on real Ray."""
    if BACKEND == "sim":
        import dsai.sim

        return dsai.sim.now()
    return time.monotonic()


_counter = [0]


def unique_name(prefix: str) -> str:
    """An actor name no other test uses (real Ray shares one cluster per session)."""
    _counter[0] += 1
    return f"{prefix}-{os.getpid()}-{_counter[0]}"


# --------------------------------------------------------------------------- markers


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sim_only(reason): a deliberate, documented difference: simulator only")
    config.addinivalue_line(
        "markers", "ray_only(reason): a deliberate, documented difference: real Ray only")
    config.addinivalue_line(
        "markers", "own_cluster: starts and stops its own cluster (runs last; costly on Ray)")


def _reason(mark: pytest.Mark) -> str:
    reason = mark.kwargs.get("reason") or (mark.args[0] if mark.args else "")
    if not reason:
        raise pytest.UsageError(f"@pytest.mark.{mark.name} needs reason=...: say why they differ")
    return reason


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        for name, other in (("sim_only", "ray"), ("ray_only", "sim")):
            mark = item.get_closest_marker(name)
            if mark is not None:
                reason = _reason(mark)
                if BACKEND == other:
                    item.add_marker(pytest.mark.skip(reason=f"{name}: {reason}"))
    # Tests that tear the shared cluster down go last, so real Ray inits it once.
    items.sort(key=lambda it: it.get_closest_marker("own_cluster") is not None)


# --------------------------------------------------------------------------- fixtures

_shared = {"up": False}


def _init_standard() -> None:
    kwargs = dict(STANDARD_INIT)
    if BACKEND == "ray":
        kwargs.update(_RAY_EXTRA)
    if BACKEND == "ray":
        try:
            _ray.init(**kwargs)
        except Exception as e:  # noqa: BLE001
            # On a loaded 2-core machine the raylet can miss Ray's fixed 30 s start-up
            # deadline; that is the environment, not Ray's API behaviour: retry once.
            if "timed out during startup" not in str(e):
                raise
            _ray.shutdown()
            _ray.init(**kwargs)
    else:
        _ray.init(**kwargs)
    _shared["up"] = True


@pytest.fixture
def ray() -> Iterator[Any]:
    """The backend module with the standard cluster running.

    Real Ray: one cluster for the session (started on first use, restarted only
    if an `own_cluster` test took it down). Simulator: a fresh cluster per test.
    """
    if BACKEND == "sim":
        _ray.shutdown()
        _init_standard()
        yield _ray
        _ray.shutdown()
        _shared["up"] = False
        return
    if not (_shared["up"] and _ray.is_initialized()):
        _ray.shutdown()
        _init_standard()
    yield _ray


@pytest.fixture
def bare_ray() -> Iterator[Any]:
    """The backend module with NO cluster running; whatever the test starts is stopped after."""
    _ray.shutdown()
    _shared["up"] = False
    yield _ray
    _ray.shutdown()


@pytest.fixture(scope="session", autouse=True)
def _stop_at_end() -> Iterator[None]:
    yield
    _ray.shutdown()


@pytest.fixture(name="now")
def _now_fixture() -> Any:
    """`now()`: the backend's clock (see module `now`)."""
    return now


@pytest.fixture
def backend() -> str:
    """'sim' or 'ray'."""
    return BACKEND


@pytest.fixture
def names(ray: Any) -> Iterator[Any]:
    """`names("counter")` gives a fresh actor name; those actors are killed after the test."""
    made: list[tuple[str, str | None]] = []

    def make(prefix: str, namespace: str | None = None) -> str:
        name = unique_name(prefix)
        made.append((name, namespace))
        return name

    yield make
    for name, namespace in made:
        try:
            ray.kill(ray.get_actor(name, namespace=namespace))
        except ValueError:  # never created, or already dead
            pass
