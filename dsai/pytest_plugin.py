"""Deterministic replay for Ray test suites: each test on a fresh simulated cluster whose seed a failure reports.

A test of Ray code on a real cluster is at the mercy of timing: a failure
seen once in CI may never come back. On the simulator one seed fixes every
scheduling and network choice, so a failing test plus its seed is the whole
story. This pytest plugin runs a test session's unchanged `import ray` code
on the simulator (`dsai.dropin`), starts every test without a cluster left
over from the previous one, and prints the seed of each failing test with the
command that replays it.

Opt-in, so it never changes a session that does not ask for it (dsai's own
suite imports `dsai.mockray` directly and runs without it):

    pytest --dsai-sim                      # seed 0 for every cluster (ray.init's default)
    pytest --dsai-sim --dsai-seed=random   # a fresh seed per test, reported on failure
    pytest --dsai-sim --dsai-seed=1234 tests/test_x.py::test_y   # replay that failure

Installed with dsai (entry point `pytest11`), or `pytest -p dsai.pytest_plugin`.
The fixture `ray_cluster` starts a cluster for the test (defaults from
`--dsai-num-cpus` and the seed) and yields the `ray` module; a test or
fixture may also call `ray.init()` itself and gets the same defaults.
"""

from __future__ import annotations

import random
from typing import Any, Iterator

import pytest

__all__ = ["ray_cluster"]

_SEED_KEY = pytest.StashKey[int]()
_failures: list[tuple[str, int]] = []  # (nodeid, seed) of failing tests, for the summary


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("dsai", "run `import ray` tests on the dsai simulator")
    group.addoption("--dsai-sim", action="store_true", default=False,
                    help="`import ray` resolves to the dsai simulator; every test gets a fresh, "
                         "seeded simulated cluster")
    group.addoption("--dsai-seed", default=None, metavar="N|random",
                    help="the seed of every test's cluster (default 0, as ray.init); 'random' draws "
                         "one per test. A failing test prints its seed: pass it here to replay it")
    group.addoption("--dsai-num-cpus", type=int, default=None, metavar="N",
                    help="CPUs of a cluster whose ray.init() does not say (default 8, as the simulator's ray.init)")


def _enabled(config: pytest.Config) -> bool:
    return bool(config.getoption("dsai_sim", default=False))


def _install() -> None:
    from dsai import dropin  # only when asked for: a plain session never imports the simulator

    if not dropin.installed():
        dropin.install()


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser: pytest.Parser,
                                  args: list[str]) -> None:
    # Before any conftest.py is imported: a conftest that does `import ray` gets the simulator.
    if getattr(early_config.known_args_namespace, "dsai_sim", False):
        _install()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "dsai_seed(n): this test's simulated cluster uses seed n")
    seed = config.getoption("dsai_seed", default=None)
    if not _enabled(config):
        if seed is not None or config.getoption("dsai_num_cpus", default=None) is not None:
            raise pytest.UsageError("--dsai-seed and --dsai-num-cpus apply to the simulator: "
                                    "add --dsai-sim")
        return
    if seed is not None and seed != "random":
        try:
            int(seed)
        except ValueError:
            raise pytest.UsageError(f"--dsai-seed={seed!r} is not a seed: pass an integer, "
                                    "or 'random' for a fresh seed per test") from None
    _install()
    num_cpus = config.getoption("dsai_num_cpus")
    if num_cpus is not None:
        _ray().set_init_default("num_cpus", num_cpus)
    _failures.clear()


def pytest_unconfigure(config: pytest.Config) -> None:
    if _enabled(config):
        from dsai import dropin

        _shutdown()
        dropin.uninstall()


def _ray() -> Any:
    from dsai import dropin

    return dropin.current()


def _shutdown() -> None:
    import dsai.mockray

    dsai.mockray.shutdown()


def _seed_for(item: pytest.Item) -> int:
    mark = item.get_closest_marker("dsai_seed")
    if mark is not None:
        return int(mark.args[0])
    option = item.config.getoption("dsai_seed")
    if option == "random":
        return random.SystemRandom().randrange(2**32)
    return 0 if option is None else int(option)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    # Before the item's fixtures: a cluster any of them starts (even module-scoped) gets this seed.
    if not _enabled(item.config):
        return
    seed = _seed_for(item)
    item.stash[_SEED_KEY] = seed
    _ray().set_init_default("seed", seed)


@pytest.fixture(autouse=True)
def _dsai_fresh_cluster(request: pytest.FixtureRequest) -> Iterator[None]:
    """A cluster the test started is shut down after it (one a wider fixture started is left)."""
    if not _enabled(request.config):
        yield
        return
    import dsai.mockray

    up_before = dsai.mockray.is_initialized()
    yield
    if not up_before:
        _shutdown()


@pytest.fixture
def ray_cluster(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh simulated cluster for this test (the session's seed and CPUs); yields the `ray` module."""
    if not _enabled(request.config):
        raise pytest.UsageError("the ray_cluster fixture runs on the dsai simulator: add --dsai-sim")
    ray = _ray()
    _shutdown()
    ray.init()
    yield ray
    _shutdown()


def _cluster_seed(item: pytest.Item) -> int | None:
    """The seed of the cluster the test ran on (a wider fixture's may predate the test's own)."""
    from dsai.mockray import session

    rt = session.runtime_or_none()
    if rt is not None:
        return int(rt.sim.seed)
    return item.stash.get(_SEED_KEY, None)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    if not _enabled(item.config):
        return
    report = outcome.get_result()
    if report.failed:
        seed = _cluster_seed(item)
        if seed is None:
            return
        replay = f"pytest '{item.nodeid}' --dsai-sim --dsai-seed={seed}"
        report.sections.append(("dsai simulator", f"seed {seed}; replay with: {replay}"))
        _failures.append((item.nodeid, seed))


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if not _enabled(config) or not _failures:
        return
    terminalreporter.section("dsai simulator: seeds of failing tests")
    for nodeid, seed in _failures:
        terminalreporter.write_line(f"{nodeid}: --dsai-seed={seed}")
