"""Placement groups on both backends: gang reservation, strategies, bundles, removal (Ray 2.60 settles every answer).

A local Ray cluster has one node, so the multi-node strategies (SPREAD
across nodes, rescheduling after a node's death) are tested on the
simulator's multi-node `Cluster` in tests/mockray/test_placement_group_nodes.py;
here is what one node allows.
"""

from __future__ import annotations

import importlib
import os
import time
from typing import Any, Callable, Iterator

import pytest

# (the conftest's own test: `from conftest import` is ambiguous when several test folders run)
BACKEND = "ray" if os.environ.get("DSAI_BACKEND", "").strip().lower() == "ray" else "sim"


def _pg_module(ray: Any) -> Any:
    return importlib.import_module(ray.__name__ + ".util.placement_group")


def _strategy(ray: Any) -> Any:
    return importlib.import_module(ray.__name__ + ".util.scheduling_strategies").PlacementGroupSchedulingStrategy


@pytest.fixture
def pgs(ray: Any) -> Iterator[Callable[..., Any]]:
    """`pgs(bundles, **kw)` makes a placement group; all are removed after the test (real Ray
    shares one cluster between tests, so a group left behind would hold its CPUs)."""
    made = []

    def make(bundles: list, **kw: Any) -> Any:
        pg = _pg_module(ray).placement_group(bundles, **kw)
        made.append(pg)
        return pg

    yield make
    for pg in made:
        try:
            _pg_module(ray).remove_placement_group(pg)
        except Exception:  # noqa: BLE001  (already removed)
            pass
    if BACKEND == "ray":
        _settle(lambda: ray.available_resources().get("CPU") == 4.0)


def _settle(ok: Callable[[], bool]) -> None:
    """Real Ray reports resources through its GCS, a moment after they change: look again
    for a while. The simulator's view is exact at once."""
    if BACKEND == "sim":
        return
    deadline = time.monotonic() + 30
    while not ok() and time.monotonic() < deadline:
        time.sleep(0.2)


def test_ray_util_exports_the_placement_group_api(ray):
    m = _pg_module(ray)
    for name in ("placement_group", "remove_placement_group", "get_placement_group",
                 "placement_group_table", "get_current_placement_group"):
        assert getattr(ray.util, name) is getattr(m, name)
    from importlib import import_module
    assert import_module(ray.__name__ + ".util.placement_group").PlacementGroup is m.PlacementGroup
    assert not hasattr(ray.util, "PlacementGroup")  # Ray exports the class from the module only


def test_a_group_is_reserved_and_ready_returns_it(ray, pgs):
    pg = pgs([{"CPU": 1}, {"CPU": 1, "special": 1}], strategy="PACK", name="two")
    assert ray.get(pg.ready(), timeout=60) == pg
    assert pg.wait(10) is True
    assert pg.bundle_specs == [{"CPU": 1.0}, {"CPU": 1.0, "special": 1.0}] and pg.bundle_count == 2
    row = ray.util.placement_group_table(pg)
    assert row["placement_group_id"] == pg.id.hex() and row["name"] == "two"
    assert row["bundles"] == {0: {"CPU": 1.0}, 1: {"CPU": 1.0, "special": 1.0}}
    assert row["strategy"] == "PACK" and row["state"] == "CREATED"
    assert row["stats"]["scheduling_state"] == "FINISHED"
    node = ray.get_runtime_context().get_node_id()
    assert row["bundles_to_node_id"] == {0: node, 1: node}
    assert pg.id.hex() in ray.util.placement_group_table()
    assert ray.util.get_placement_group("two") == pg


def test_reserved_resources_show_under_rays_group_names(ray, pgs):
    pg = pgs([{"CPU": 1}, {"CPU": 1, "GPU": 1}], strategy="STRICT_PACK")
    assert pg.wait(60)
    h = pg.id.hex()
    want = {"CPU": 2.0, "GPU": 0.0, f"CPU_group_{h}": 2.0, f"CPU_group_0_{h}": 1.0,
            f"CPU_group_1_{h}": 1.0, f"GPU_group_{h}": 1.0, f"GPU_group_1_{h}": 1.0,
            f"bundle_group_{h}": 2000.0, f"bundle_group_0_{h}": 1000.0, f"bundle_group_1_{h}": 1000.0}

    def seen() -> dict:
        avail = ray.available_resources()
        return {k: avail.get(k, 0.0) for k in want}

    _settle(lambda: seen() == want)
    assert seen() == want
    total = ray.cluster_resources()
    assert total["CPU"] == 4.0 and total[f"CPU_group_{h}"] == 2.0 and total[f"bundle_group_1_{h}"] == 1000.0


def test_tasks_run_in_their_bundle_and_know_their_group(ray, pgs):
    pg = pgs([{"CPU": 1}, {"CPU": 1}])
    S = _strategy(ray)

    @ray.remote
    def where():
        ctx = ray.get_runtime_context()
        return ctx.get_placement_group_id(), ctx.get_assigned_resources(), ray.util.get_current_placement_group()

    assert ray.get(where.options(scheduling_strategy=S(pg, 1)).remote(), timeout=60) == (
        pg.id.hex(), {"CPU": 1.0}, pg)
    # Ray's older spelling: .options(placement_group=..., placement_group_bundle_index=...)
    legacy = where.options(placement_group=pg, placement_group_bundle_index=0).remote()
    assert ray.get(legacy, timeout=60)[0] == pg.id.hex()
    assert ray.get(where.remote(), timeout=60) == (None, {"CPU": 1.0}, None)
    assert ray.util.get_current_placement_group() is None  # the driver is in no group


def test_child_tasks_join_the_group_only_when_captured(ray, pgs):
    pg = pgs([{"CPU": 1}, {"CPU": 1}])
    S = _strategy(ray)

    @ray.remote
    def child():
        return ray.get_runtime_context().get_placement_group_id()

    @ray.remote
    def parent():
        return ray.get(child.remote())

    captured = parent.options(scheduling_strategy=S(pg, placement_group_capture_child_tasks=True)).remote()
    assert ray.get(captured, timeout=60) == pg.id.hex()
    assert ray.get(parent.options(scheduling_strategy=S(pg)).remote(), timeout=60) is None


def test_an_actor_lives_in_its_bundle(ray, pgs):
    pg = pgs([{"CPU": 1}])
    S = _strategy(ray)

    @ray.remote
    class Stage:
        def group(self):
            return ray.get_runtime_context().get_placement_group_id()

    a = Stage.options(scheduling_strategy=S(pg, 0)).remote()
    assert ray.get(a.group.remote(), timeout=60) == pg.id.hex()
    h = pg.id.hex()
    # Placed by the bundle's CPU, it holds none of it while alive (as outside groups), only
    # its share of the bundle resource.
    _settle(lambda: ray.available_resources().get(f"bundle_group_0_{h}") == 999.999)
    avail = ray.available_resources()
    assert avail[f"CPU_group_0_{h}"] == 1.0 and avail[f"bundle_group_0_{h}"] == 999.999
    ray.kill(a)


def test_requests_that_fit_no_bundle_are_refused_at_submission(ray, pgs):
    pg = pgs([{"CPU": 1}, {"CPU": 1, "special": 1}])
    S = _strategy(ray)

    @ray.remote
    def f():
        return 1

    with pytest.raises(ValueError, match="cannot fit into any bundles for the placement group"):
        f.options(num_cpus=2, scheduling_strategy=S(pg)).remote()
    with pytest.raises(ValueError, match="cannot fit into any bundles"):
        f.options(num_gpus=1, scheduling_strategy=S(pg)).remote()
    with pytest.raises(ValueError, match="placement group bundle index 2 is invalid. Valid placement group indexes: 0-2"):
        f.options(scheduling_strategy=S(pg, 2)).remote()
    S(pg, 5)  # the strategy itself is not checked; the submission is

    gpu_only = pgs([{"GPU": 1}])

    @ray.remote
    class A:
        pass

    with pytest.raises(ValueError, match="the actor requires 1 CPU for creation"):
        A.options(scheduling_strategy=S(gpu_only)).remote()


def test_bad_groups_are_refused_with_rays_messages(ray):
    pg = ray.util.placement_group
    with pytest.raises(ValueError, match="Invalid placement group strategy FOO"):
        pg([{"CPU": 1}], strategy="FOO")
    with pytest.raises(ValueError, match="Got empty list instead"):
        pg([])
    with pytest.raises(ValueError, match="Bundles cannot be an empty dictionary or resources with only 0 values"):
        pg([{"CPU": 0}])
    with pytest.raises(ValueError, match="Placement group bundles must be a list"):
        pg({"CPU": 1})
    with pytest.raises(ValueError, match="`lifetime` argument must be either `None` or 'detached'"):
        pg([{"CPU": 1}], lifetime="forever")
    with pytest.raises(ValueError, match="Failed to look up placement group with name: nobody"):
        ray.util.get_placement_group("nobody")
    with pytest.raises(ValueError, match="Please supply a non-empty value"):
        ray.util.get_placement_group("")


def test_strict_spread_on_one_node_stays_pending_until_removed(ray, pgs):
    pg = pgs([{"CPU": 1}, {"CPU": 1}], strategy="STRICT_SPREAD")
    assert pg.wait(1) is False
    row = ray.util.placement_group_table(pg)
    assert row["state"] == "PENDING" and row["bundles_to_node_id"] == {0: "", 1: ""}
    assert row["stats"]["scheduling_state"] == "INFEASIBLE"

    @ray.remote
    def f():
        return 1

    ready = pg.ready()
    queued = f.options(scheduling_strategy=_strategy(ray)(pg)).remote()
    assert ray.wait([ready, queued], num_returns=2, timeout=1) == ([], [ready, queued])
    ray.util.remove_placement_group(pg)
    with pytest.raises(ray.exceptions.TaskPlacementGroupRemoved,
                       match="The placement group corresponding to this task has been removed"):
        ray.get(ready, timeout=30)
    with pytest.raises(ray.exceptions.GetTimeoutError):  # its tasks wait for good, as in Ray
        ray.get(queued, timeout=1)
    assert ray.util.placement_group_table(pg)["state"] == "REMOVED"
    ray.util.remove_placement_group(pg)  # removing twice is fine


def test_a_group_waits_for_resources_held_by_tasks(ray, pgs):
    @ray.remote(num_cpus=4)
    def hog(s):
        time.sleep(s)
        return s

    h = hog.remote(3)
    _settle(lambda: ray.available_resources().get("CPU", 0.0) == 0.0)
    pg = pgs([{"CPU": 2}])
    assert ray.util.placement_group_table(pg)["state"] == "PENDING"
    assert ray.get(pg.ready(), timeout=60) == pg
    assert ray.get(h) == 3


def test_removing_a_group_kills_its_actors_and_its_tasks_workers(ray, pgs, tmp_path):
    pg = pgs([{"CPU": 1}, {"CPU": 1}])
    assert pg.wait(60)
    S = _strategy(ray)

    @ray.remote
    class Stage:
        def nap(self, s):
            time.sleep(s)
            return s

    @ray.remote(max_retries=0)
    def long(s, started):
        open(started, "w").close()
        time.sleep(s)
        return s

    a = Stage.options(scheduling_strategy=S(pg, 0)).remote()
    assert ray.get(a.nap.remote(0), timeout=60) == 0
    started = tmp_path / "started"
    t = long.options(scheduling_strategy=S(pg, 1)).remote(30, str(started))
    call = a.nap.remote(30)
    ray.wait([t, call], timeout=2)  # (both running by now)
    # On Ray the task may still wait for a worker process after 2 s (a loaded machine); one not
    # yet running when its group goes has no worker to crash (a queued one waits for good, as
    # in the STRICT_SPREAD test above): wait until it really runs.
    for _ in range(600):
        if started.exists():
            break
        ray.wait([t], timeout=0.1)
    ray.util.remove_placement_group(pg)
    with pytest.raises(ray.exceptions.ActorDiedError, match="placement group was removed"):
        ray.get(call, timeout=60)
    with pytest.raises(ray.exceptions.ActorDiedError):
        ray.get(a.nap.remote(0), timeout=60)
    with pytest.raises(ray.exceptions.WorkerCrashedError):
        ray.get(t, timeout=60)
    _settle(lambda: ray.available_resources().get("CPU") == 4.0)
    avail = ray.available_resources()
    assert avail["CPU"] == 4.0 and not any(k.endswith(pg.id.hex()) for k in avail)


def test_a_group_handle_travels_into_tasks(ray, pgs):
    pg = pgs([{"CPU": 1}])

    @ray.remote
    def table_of(p):
        return ray.util.placement_group_table(p)["state"], p.bundle_count

    assert pg.wait(60)
    assert ray.get(table_of.remote(pg), timeout=60) == ("CREATED", 1)


def test_a_gpu_bundle_gives_its_task_the_gpu(ray, pgs):
    pg = pgs([{"CPU": 1, "GPU": 1}])

    @ray.remote(num_gpus=1)
    def gpus():
        return ray.get_gpu_ids(), ray.get_runtime_context().get_assigned_resources()

    ids, assigned = ray.get(gpus.options(scheduling_strategy=_strategy(ray)(pg, 0)).remote(), timeout=60)
    assert len(ids) == 1 and assigned == {"CPU": 1.0, "GPU": 1.0}


def test_an_actors_calls_and_children_follow_its_group(ray, pgs):
    pg = pgs([{"CPU": 1}, {"CPU": 1}])
    S = _strategy(ray)

    @ray.remote
    def child():
        return ray.get_runtime_context().get_placement_group_id()

    @ray.remote
    class Stage:
        def group(self):
            return ray.util.get_current_placement_group()

        def childs_group(self):
            return ray.get(child.remote())

    a = Stage.options(scheduling_strategy=S(pg, 0, placement_group_capture_child_tasks=True)).remote()
    assert ray.get(a.group.remote(), timeout=60) == pg
    assert ray.get(a.childs_group.remote(), timeout=60) == pg.id.hex()
    ray.kill(a)


def test_waiting_on_a_removed_group_says_it_does_not_exist(ray, pgs):
    pg = pgs([{"CPU": 1}])
    assert pg.wait(60)
    ray.util.remove_placement_group(pg)
    with pytest.raises(Exception, match="does not exist"):  # Ray raises a bare Exception
        pg.wait(1)
