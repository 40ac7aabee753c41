"""Who ran what, where, and when: a Gantt chart of `ray.timeline()` (one row per worker, one bar per task).

A timeline makes scheduling visible: idle workers, stragglers, a
bottleneck actor, retried attempts after a fault. `timeline_bars(events)`
turns Chrome-trace events into rows and bars (a pure function, no drawing);
`plot_timeline(events)` draws them with matplotlib. Both read the
simulator's timeline and real Ray's: `pid` is the node's IP, `tid` the
worker ("worker:<id>"), a task attempt is a span with `cat` "task::<name>"
(real Ray's phases `task:execute`, ... and driver spans are skipped), and
the simulator adds each attempt's `status` ("ok", "failed", "killed"); real
Ray marks a failed attempt with a `traceback` in `args`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable

__all__ = ["Row", "Bar", "timeline_bars", "plot_timeline", "WALL_CLOCK_US"]

# A `ts` this large (in microseconds) is a wall-clock epoch time (real Ray), not
# virtual time since the start: such timelines are drawn from their first event.
WALL_CLOCK_US = 1e12

_FAILED_STATUSES = ("failed", "killed")
_TASK_PREFIX = "task::"  # one attempt of a task or actor call: cat "task::f" (simulator and Ray)


@dataclass(frozen=True)
class Row:
    """One worker of one node (`node` and `worker` as the timeline names them)."""

    index: int
    node: str
    worker: str
    label: str  # what the y-axis shows, e.g. "head / worker 2"


@dataclass(frozen=True)
class Bar:
    """One attempt of one task: `start` and `duration` in seconds."""

    row: int
    start: float
    duration: float
    name: str  # the task's name: "f", "Counter.add"
    status: str  # "ok", "failed" or "killed"
    task_id: str | None = None
    attempt: int | None = None

    @property
    def end(self) -> float:
        return self.start + self.duration


def _natural_key(value: Any) -> tuple:
    """Sort "worker 2" before "worker 10", and ints by value, deterministically."""
    if isinstance(value, (int, float)):
        return (0, value, "")
    parts = re.split(r"(\d+)", str(value))
    return (1, 0, tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts))


def _task_spans(spans: list[dict]) -> list[dict]:
    """The spans that are whole task attempts ("task::f"); real Ray also records their
    phases ("task:execute", ...) and driver calls ("ray.get", ...), which are skipped."""
    tasks = [e for e in spans if str(e.get("cat", "")).startswith(_TASK_PREFIX)]
    if not tasks:
        tasks = [e for e in spans if e.get("cat") == "task"]  # older Ray: cat "task"
    return tasks if tasks else spans  # an unknown producer: draw every span


def timeline_bars(events: Iterable[dict], origin: float | None = None) -> tuple[list[Row], list[Bar]]:
    """Rows (one per node and worker, sorted) and bars (one per task attempt, by start time).

    `origin` is subtracted from every start (seconds). By default it is 0 for
    virtual time and the first start for wall-clock timelines (real Ray's `ts`
    are epoch microseconds), so the x-axis always reads "seconds since ...".
    """
    events = list(events)
    process_names: dict[Any, str] = {}
    thread_names: dict[tuple[Any, Any], str] = {}
    spans = []
    for i, e in enumerate(events):
        if not isinstance(e, dict):
            raise TypeError(f"timeline event #{i} is {type(e).__name__}, not a dict: {e!r}; pass "
                            "the list ray.timeline() returns (or json.load of its file)")
        ph = e.get("ph")
        if ph == "M":
            name = (e.get("args") or {}).get("name")
            if e.get("name") == "process_name" and name is not None:
                process_names[e.get("pid")] = str(name)
            elif e.get("name") == "thread_name" and name is not None:
                thread_names[(e.get("pid"), e.get("tid"))] = str(name)
        elif ph == "X":
            missing = [k for k in ("pid", "tid", "ts", "dur") if k not in e]
            if missing:
                raise ValueError(f"timeline event #{i} has no {', '.join(missing)}: {e!r}; "
                                 "Chrome-trace complete events ('ph': 'X') need pid, tid, ts and dur")
            spans.append(e)
    tasks = _task_spans(spans)
    if origin is None:
        first = min((float(e["ts"]) for e in tasks), default=0.0)
        origin = first / 1e6 if first >= WALL_CLOCK_US else 0.0

    # Nodes in natural order of their names; a node's workers in the order they
    # first ran something (then by id), numbered from 1: deterministic and short.
    node_name: dict[Any, str] = {}
    first_start: dict[tuple[Any, Any], float] = {}
    for e in tasks:
        pid = e["pid"]
        name = (e.get("args") or {}).get("node")  # the simulator names its nodes
        node_name.setdefault(pid, str(name) if name is not None else process_names.get(pid, str(pid)))
        key = (pid, e["tid"])
        first_start[key] = min(first_start.get(key, float("inf")), float(e["ts"]))
    pids = sorted(node_name, key=lambda p: (_natural_key(node_name[p]), _natural_key(p)))
    rows: list[Row] = []
    index_of: dict[tuple[Any, Any], int] = {}
    for pid in pids:
        workers = sorted((k for k in first_start if k[0] == pid),
                         key=lambda k: (first_start[k], _natural_key(k[1])))
        for n, key in enumerate(workers, start=1):
            worker = thread_names.get(key, str(key[1]))
            index_of[key] = len(rows)
            rows.append(Row(len(rows), node_name[pid], worker, f"{node_name[pid]} / worker {n}"))

    bars = []
    for e in tasks:
        args = e.get("args") or {}
        status = str(args.get("status") or ("failed" if "traceback" in args else "ok"))
        cat = str(e.get("cat", ""))
        # Real Ray names a span by its qualified name ("__main__.f") and the simulator
        # "task::f"; both have cat "task::f", so "f" is the name on either backend.
        name = cat[len(_TASK_PREFIX):] if cat.startswith(_TASK_PREFIX) else str(e.get("name", cat))
        attempt = args.get("attempt_number", args.get("attempt"))
        bars.append(Bar(row=index_of[(e["pid"], e["tid"])], start=float(e["ts"]) / 1e6 - origin,
                        duration=float(e["dur"]) / 1e6, name=name,
                        status=status, task_id=args.get("task_id"),
                        attempt=int(attempt) if attempt is not None else None))
    bars.sort(key=lambda b: (b.start, b.row, b.name))
    return rows, bars


def _colors(names: list[str]) -> dict[str, Any]:
    """One colour per task name, by sorted name: the same name gets the same colour in every run."""
    import matplotlib

    cmap = matplotlib.colormaps["tab20" if len(names) > 10 else "tab10"]
    return {name: cmap(i % cmap.N) for i, name in enumerate(sorted(names))}


def plot_timeline(events: Iterable[dict] | None = None, ax: Any = None, *, title: str | None = None,
                  origin: float | None = None, legend: bool = True, labels: bool = False) -> Any:
    """Draw a timeline as a Gantt chart and return the matplotlib Axes.

    `events` defaults to `ray.timeline()` of the running backend (`from dsai
    import ray`). Failed attempts are hatched with a red edge, killed ones
    hatched with a black edge; the legend names every task and the markings.
    `labels=True` writes each bar's duration inside it (a schedule read bar by bar).
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    if events is None:
        from dsai import ray

        events = ray.timeline()
    events = list(events)
    rows, bars = timeline_bars(events, origin=origin)
    if ax is None:
        height = min(0.4 * max(len(rows), 1) + 1.5, 12.0)
        _, ax = plt.subplots(figsize=(10, height))
    colors = _colors(sorted({b.name for b in bars}))
    for b in bars:
        failed = b.status in _FAILED_STATUSES
        ax.barh(b.row, b.duration, left=b.start, height=0.8, color=colors[b.name],
                edgecolor=("red" if b.status == "failed" else "black") if failed else "white",
                linewidth=1.5 if failed else 0.5, hatch="xx" if failed else None)
        if labels:
            ax.text(b.start + b.duration / 2, b.row, f"{b.duration:g} s", ha="center", va="center",
                    fontsize="small", color="white", gid="bar-label")
    ax.set_yticks([r.index for r in rows], [r.label for r in rows])
    ax.set_ylim(len(rows) - 0.5, -0.5)  # first row on top
    wall = origin is None and any(float(e.get("ts", 0)) >= WALL_CLOCK_US for e in events)
    ax.set_xlabel("seconds since the first task" if wall else "virtual time (s)")
    ax.set_ylabel("node / worker")
    if title is not None:
        ax.set_title(title)
    ax.grid(axis="x", alpha=0.3)
    if legend and bars:
        handles = [Patch(facecolor=c, label=n) for n, c in colors.items()]
        statuses = sorted({b.status for b in bars if b.status in _FAILED_STATUSES})
        for s in statuses:
            handles.append(Patch(facecolor="white", hatch="xx", label=s,
                                 edgecolor="red" if s == "failed" else "black"))
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small",
                  title="task", frameon=False)
    return ax
