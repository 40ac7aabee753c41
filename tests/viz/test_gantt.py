"""dsai.viz.gantt: ray.timeline() events to rows and bars (pure), and the drawn chart."""

import time

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

import dsai.mockray as ray  # noqa: E402
import dsai.sim as sim  # noqa: E402
from dsai.mockray.cluster_utils import Cluster  # noqa: E402
from dsai.viz.gantt import Bar, Row, plot_timeline, timeline_bars  # noqa: E402


@ray.remote(max_retries=1)
def work(seconds):
    time.sleep(seconds)
    return seconds


@ray.remote
def broken():
    time.sleep(0.5)
    raise ValueError("no")


@ray.remote
class Counter:
    def add(self, seconds):
        time.sleep(seconds)
        return seconds


def run_scenario(seed=0):
    """2 nodes x 2 CPUs; node-1 dies at t=1.5 and its running task is retried on the head."""
    ray.shutdown()
    cluster = Cluster()
    cluster.add_node(num_cpus=2)
    worker = cluster.add_node(num_cpus=2)
    ray.init(address=cluster.address)
    refs = [work.remote(s) for s in (1.0, 2.0, 3.0)] + [broken.remote()]
    c = Counter.remote()
    refs.append(c.add.remote(0.75))
    sim.at(1.5, cluster.remove_node, worker)
    ray.wait(refs, num_returns=len(refs))
    events = ray.timeline()
    ray.shutdown()
    cluster.shutdown()
    return events


def test_rows_and_bars_of_a_simulated_run():
    rows, bars = timeline_bars(run_scenario())
    assert all(isinstance(r, Row) for r in rows) and all(isinstance(b, Bar) for b in bars)
    assert [r.label for r in rows] == ["head / worker 1", "head / worker 2",
                                       "node-1 / worker 1", "node-1 / worker 2"]
    assert [r.index for r in rows] == list(range(len(rows)))
    by = {(b.name, b.status, b.attempt): b for b in bars}
    killed = [b for b in bars if b.status == "killed"]
    assert len(killed) == 1 and killed[0].name == "work"
    assert rows[killed[0].row].node == "node-1"
    # (It started once its spec reached node-1: 0.1 ms, the network's latency.)
    assert killed[0].start == pytest.approx(1e-4, abs=1e-6) and killed[0].end == pytest.approx(1.5)
    retry = by[("work", "ok", 1)]
    assert retry.task_id == killed[0].task_id and retry.start == pytest.approx(1.5)
    assert by[("broken", "failed", 0)].duration == pytest.approx(0.5)
    # The actor went to node-1's second worker once `broken` freed its CPU.
    add = by[("Counter.add", "ok", 0)]
    # (0.3 ms later: broken's spec, then the actor's creation spec, then the call's, 0.1 ms each.)
    assert (add.row, add.start, add.duration) == (3, pytest.approx(0.5 + 3e-4, abs=1e-6), pytest.approx(0.75))
    assert retry.row == 0  # the head's first worker was free again at t=1.0
    # Sorted by start; no two bars overlap within a row.
    assert [b.start for b in bars] == sorted(b.start for b in bars)
    for r in rows:
        mine = [b for b in bars if b.row == r.index]
        assert all(a.end <= b.start + 1e-9 for a, b in zip(mine, mine[1:]))


def test_same_seed_same_rows_and_bars():
    assert timeline_bars(run_scenario()) == timeline_bars(run_scenario())


def _real_ray_events():
    """Events in real Ray 2.60's ray.timeline() format (ray/_private/state.py, and events recorded
    in docs/ray_behaviour.md): pid is the node IP, tid "worker:<hex>", ts in epoch
    microseconds, name the qualified function name, a failed attempt has a traceback in args;
    task phases and driver spans are included."""
    t0 = 1_764_300_000_000_000.0
    w1, w2 = "worker:" + "ab" * 28, "worker:" + "0c" * 28
    ev = []

    def task(tid, name, start, dur, failed=False):
        args = {"name": f"__main__.{name}", "task_id": f"{name}-{start}"}
        if failed:
            args.update(type="<class 'ValueError'>", value="no", traceback="Traceback ...")
        ev.append({"cat": f"task::{name}", "name": f"__main__.{name}", "pid": "192.0.2.2", "tid": tid,
                   "ts": t0 + start, "dur": dur, "ph": "X", "cname": "generic_work", "args": args})
        for phase in ("task:deserialize_arguments", "task:execute", "task:store_outputs"):
            ev.append({"cat": phase, "name": phase, "pid": "192.0.2.2", "tid": tid, "ts": t0 + start,
                       "dur": dur / 3, "ph": "X", "cname": "rail_animation", "args": {}})

    task(w2, "g", 100_000, 500_000)
    task(w1, "g", 0, 1_000_000)
    task(w1, "h", 1_000_000, 250_000, failed=True)
    ev.append({"cat": "ray.get", "name": "ray.get", "pid": "192.0.2.2", "tid": "driver:" + "11" * 28,
               "ts": t0, "dur": 2_000_000, "ph": "X", "cname": "good", "args": {}})
    return ev


def test_real_ray_format_keeps_only_task_spans_and_starts_at_zero():
    rows, bars = timeline_bars(_real_ray_events())
    assert [(r.node, r.label) for r in rows] == [("192.0.2.2", "192.0.2.2 / worker 1"),
                                                 ("192.0.2.2", "192.0.2.2 / worker 2")]
    assert rows[0].worker == "worker:" + "ab" * 28  # first to start is worker 1
    assert [(b.row, b.start, b.duration, b.name, b.status) for b in bars] == [
        (0, 0.0, 1.0, "g", "ok"), (1, pytest.approx(0.1), 0.5, "g", "ok"),
        (0, 1.0, 0.25, "h", "failed")]
    assert bars[0].task_id == "g-0" and bars[0].attempt is None
    rows, bars = timeline_bars(_real_ray_events(), origin=1_764_300_000.0 - 5)
    assert bars[0].start == pytest.approx(5.0)


def test_metadata_events_name_rows_and_unknown_spans_are_drawn():
    ev = [{"ph": "M", "name": "process_name", "pid": 0, "args": {"name": "Node 10.1.1.1"}},
          {"ph": "M", "name": "thread_name", "pid": 0, "tid": 7, "args": {"name": "worker:ff"}},
          {"ph": "X", "cat": "custom", "name": "step", "pid": 0, "tid": 7, "ts": 2e6, "dur": 1e6}]
    rows, bars = timeline_bars(ev)
    assert rows == [Row(0, "Node 10.1.1.1", "worker:ff", "Node 10.1.1.1 / worker 1")]
    assert bars == [Bar(0, 2.0, 1.0, "step", "ok")]


def test_bad_events_are_explained():
    with pytest.raises(TypeError, match="event #0 is str"):
        timeline_bars(["task"])
    with pytest.raises(ValueError, match="event #1 has no dur"):
        timeline_bars([{"ph": "M", "name": "x"}, {"ph": "X", "pid": 0, "tid": 0, "ts": 0}])
    assert timeline_bars([]) == ([], [])


def test_plot_timeline_draws_one_bar_per_attempt_with_stable_colours():
    events = run_scenario()
    rows, bars = timeline_bars(events)
    ax = plot_timeline(events, title="scenario")
    patches = ax.patches
    assert len(patches) == len(bars)
    assert [t.get_text() for t in ax.get_yticklabels()] == [r.label for r in rows]
    colour = {}
    for b, p in zip(bars, patches):
        assert p.get_x() == pytest.approx(b.start) and p.get_width() == pytest.approx(b.duration)
        colour.setdefault(b.name, p.get_facecolor())
        assert p.get_facecolor() == colour[b.name]  # one colour per task name
        assert (p.get_hatch() is not None) == (b.status in ("failed", "killed"))
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["Counter.__init__", "Counter.add", "broken", "work", "failed", "killed"]
    assert ax.get_title() == "scenario" and ax.get_xlabel() == "virtual time (s)"
    # Colours depend on the names only, not on the order of the events.
    ax2 = plot_timeline(list(reversed(events)))
    assert sorted(p.get_facecolor() for p in ax2.patches) == sorted(p.get_facecolor() for p in patches)
    matplotlib.pyplot.close("all")


def test_plot_timeline_defaults_to_the_running_cluster_and_given_axes():
    ray.shutdown()
    ray.init(num_cpus=2)
    try:
        ray.get([work.remote(1.0), work.remote(0.5)])
        fig, ax = matplotlib.pyplot.subplots()
        assert plot_timeline(ax=ax) is ax
        assert len(ax.patches) == 2
        real = plot_timeline(_real_ray_events())
        assert real.get_xlabel() == "seconds since the first task"
    finally:
        ray.shutdown()
        matplotlib.pyplot.close("all")


def test_labels_write_each_duration_in_its_bar():
    from dsai.viz.gantt import plot_timeline
    from dsai.viz.spacetime import count_gids

    events = [{"ph": "X", "cat": "task::f", "name": "task::f", "pid": "n", "tid": "w1", "ts": 0, "dur": 1.5e6},
              {"ph": "X", "cat": "task::f", "name": "task::f", "pid": "n", "tid": "w2", "ts": 0, "dur": 2e6}]
    ax = plot_timeline(events, labels=True)
    assert count_gids(ax.figure)["bar-label"] == 2
    assert sorted(t.get_text() for t in ax.texts) == ["1.5 s", "2 s"]
    assert not plot_timeline(events).texts
