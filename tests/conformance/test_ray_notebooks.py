"""Ray's own example notebooks, unchanged, run in a Jupyter kernel on both backends and print what Ray prints.

tests/corpus/ray_notebooks/ holds `gentle_walkthrough.ipynb` and
`progress_bar.ipynb` from Ray's documentation (Apache-2.0, see the NOTICE
there). Each runs cell by cell in a fresh kernel through nbclient, as nbval
does. On the simulator the kernel's first cell is `dropin.install(num_cpus=N)`,
so the notebook's own `import ray` resolves to the simulator as under `dsai
run`; on real Ray (DSAI_BACKEND=ray) the kernel joins a local cluster of N
CPUs through RAY_ADDRESS. The one cell left out is `! pip install ray` (it
installs packages; it is no part of what the example shows).

What Ray prints follows from the notebooks' sleeps. gentle_walkthrough's
`retrieve(i)` sleeps i/10 s for i = 0..7: one after another that is 2.8 s;
as Ray tasks on N CPUs each task starts, in submission order, on the first CPU
that is free, so on this 2-core machine (Ray sees 2 CPUs) they end at 0, 0.1,
0.2, 0.4, 0.6, 0.9, 1.2 and 1.6 s (Ray printed 1.63 here: that plus its
overheads) and on 8 CPUs at i/10 s (0.70; the notebook's stored output, from a
laptop, says 0.71). progress_bar's 6 tasks sleep i/2 s: 4.5 s on 2 CPUs.
The simulator must print exactly those virtual figures; real Ray at least
them (its overheads only add). To print exactly, the simulated kernel holds
the real part of the driver's clock still (the driver's `time.time()` is the
real clock plus the virtual seconds it waited; the real part is a few
milliseconds of Python that would make the last digit depend on the machine's
speed).
"""

from __future__ import annotations

import heapq
import os
import re
import warnings
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import pytest

from real_cluster import real_ray_cluster

BACKEND = "ray" if os.environ.get("DSAI_BACKEND", "").strip().lower() == "ray" else "sim"
CORPUS = Path(__file__).resolve().parent.parent / "corpus" / "ray_notebooks"
NOTEBOOKS = ("gentle_walkthrough.ipynb", "progress_bar.ipynb")
# CPUs of the cluster the notebooks run on: this machine's 2 (what ray.init() gives here) on
# both backends, and the simulator's default 8 as well (the shape of the notebook's own output).
CPU_COUNTS = (2, 8) if BACKEND == "sim" else (2,)

_SIM_SETUP = """\
from dsai import dropin
from dsai.sim import clocks
dropin.install(num_cpus={num_cpus})
clocks.real_time = lambda: clocks.EPOCH  # the driver's time.time(): its virtual seconds only
"""

WORDS = ["Learning", "Ray", "Flexible", "Distributed", "Python", "for", "Machine", "Learning"]


def finish_times(durations: list[float], num_cpus: int) -> list[float]:
    """When each task ends if each starts, in submission order, on the first CPU that is free."""
    free = [0.0] * num_cpus
    ends = []
    for d in durations:
        start = heapq.heappop(free)
        heapq.heappush(free, start + d)
        ends.append(start + d)
    return ends


def test_finish_times_follow_the_schedule():
    assert finish_times([i / 10 for i in range(8)], 2) == pytest.approx([0, .1, .2, .4, .6, .9, 1.2, 1.6])
    assert max(finish_times([i / 2 for i in range(6)], 2)) == pytest.approx(4.5)


def test_every_notebook_in_the_corpus_is_run():
    assert {p.name for p in CORPUS.glob("*.ipynb")} == set(NOTEBOOKS)


def run_notebook(name: str, num_cpus: int) -> list[dict[str, Any]]:
    """Execute the notebook; for each code cell: its source, stdout, stderr and errors."""
    import nbformat
    from nbclient import NotebookClient

    with warnings.catch_warnings():  # three of Ray's cells have no id; nbformat adds one and warns
        warnings.simplefilter("ignore")
        nb = nbformat.read(CORPUS / name, as_version=4)
    nb.cells = [c for c in nb.cells if not (c.cell_type == "code" and c.source.lstrip().startswith("!"))]
    env = {k: v for k, v in os.environ.items() if k not in ("DSAI_BACKEND", "RAY_ADDRESS")}
    cluster = real_ray_cluster(num_cpus) if BACKEND == "ray" else nullcontext({})
    with cluster as ray_env:
        if BACKEND == "sim":
            nb.cells.insert(0, nbformat.v4.new_code_cell(_SIM_SETUP.format(num_cpus=num_cpus)))
        else:
            env = ray_env
        NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
                       resources={"metadata": {"path": str(CORPUS)}}).execute(env=env)
    cells = []
    for c in nb.cells:
        if c.cell_type != "code":
            continue
        streams = {"stdout": "", "stderr": ""}
        errors = []
        for o in c.outputs:
            if o.output_type == "stream":
                streams[o.name] += _without_ray_logs(o.text)
            elif o.output_type == "error":
                errors.append(f"{o.ename}: {o.evalue}")
        cells.append({"source": c.source, "errors": errors, **streams})
    return cells


_RAY_LOG = re.compile(r"^(\x1b\[[0-9;]*m)*\((raylet|autoscaler|gcs_server|monitor|(\S+ )?pid=\d+)[^)]*\)")


def _without_ray_logs(text: str) -> str:
    """The text without the lines real Ray adds from its daemons and workers (`(raylet) ...`)."""
    return "".join(line for line in text.splitlines(keepends=True) if not _RAY_LOG.match(line))


def _cell(cells: list[dict[str, Any]], marker: str) -> dict[str, Any]:
    (cell,) = [c for c in cells if marker in c["source"]]
    return cell


_RUNTIME = re.compile(r"^Runtime: (\d+\.\d\d) seconds, data:$")


def _runtime_blocks(stdout: str) -> list[tuple[float, list[str]]]:
    """The (figure, data lines) pairs print_runtime printed."""
    blocks: list[tuple[float, list[str]]] = []
    for line in stdout.splitlines():
        m = _RUNTIME.match(line)
        if m:
            blocks.append((float(m.group(1)), []))
        elif blocks:
            blocks[-1][1].append(line)
    return blocks


def _check_figure(printed: float, theory: float) -> None:
    if BACKEND == "sim":
        assert f"{printed:.2f}" == f"{theory:.2f}", f"printed {printed}, the schedule says {theory:.2f}"
    else:
        assert printed >= round(theory, 2) - 0.005, f"printed {printed}, below the schedule's {theory:.2f}"


def _pairs(items: list[int]) -> list[str]:
    return [str((i, WORDS[i])) for i in items]


@pytest.mark.own_cluster
@pytest.mark.parametrize("num_cpus", CPU_COUNTS)
def test_gentle_walkthrough_prints_rays_runtimes(num_cpus: int) -> None:
    cells = run_notebook("gentle_walkthrough.ipynb", num_cpus)
    assert [e for c in cells for e in c["errors"]] == []
    ends = finish_times([i / 10 for i in range(8)], num_cpus)

    # Without Ray: the eight sleeps one after another.
    [(serial, data)] = _runtime_blocks(_cell(cells, "data = [retrieve(item)")["stdout"])
    _check_figure(serial, sum(i / 10 for i in range(8)))
    assert data == _pairs(list(range(8)))

    # As Ray tasks: the slowest CPU's share of them.
    [(parallel, data)] = _runtime_blocks(_cell(cells, "data = ray.get(object_references)\nprint_runtime")["stdout"])
    _check_figure(parallel, max(ends))
    assert data == _pairs(list(range(8)))

    # ray.wait: one result at a time, as each task ends, then all of them.
    blocks = _runtime_blocks(_cell(cells, "ray.wait(")["stdout"])
    *one_by_one, (total, everything) = blocks
    assert [d for _, d in one_by_one] == [_pairs([i]) for i in sorted(range(8), key=lambda i: ends[i])]
    for (figure, _), end in zip(one_by_one, sorted(ends)):
        _check_figure(figure, end)
    _check_figure(total, max(ends))
    assert everything == _pairs(list(range(8)))

    assert _cell(cells, "follow_up_task.remote(ref)")["stdout"].splitlines() == [
        str(((i, WORDS[i]), (i + 1, WORDS[i + 1]))) for i in (0, 2, 4, 6)]
    assert _cell(cells, "tracker = DataTracker.remote()")["stdout"].splitlines() == [
        str([(i, WORDS[i]) for i in range(8)]), "8"]


_BAR = re.compile(r"^100%\|█+\| 6/6 \[(\d\d):(\d\d)<00:00, +(\d+\.\d\d(?:it/s|s/it))\]$")


@pytest.mark.own_cluster
@pytest.mark.parametrize("num_cpus", CPU_COUNTS)
def test_progress_bar_reaches_its_total(num_cpus: int) -> None:
    cells = run_notebook("progress_bar.ipynb", num_cpus)
    assert [e for c in cells for e in c["errors"]] == []
    frames = [f.strip() for f in _cell(cells, "run()")["stderr"].replace("\n", "\r").split("\r")]
    bars = [f for f in frames if "/6 [" in f]
    assert bars, f"no progress bar printed:\n{frames}"
    m = _BAR.match(bars[-1])
    assert m, f"the bar did not reach 6/6: {bars[-1]!r}"
    # Counts only grow, one update per finished task.
    counts = [int(re.search(r"(\d)/6 \[", b).group(1)) for b in bars]
    assert counts == sorted(counts) and counts[0] == 0
    makespan = max(finish_times([i / 2 for i in range(6)], num_cpus))
    elapsed = int(m.group(1)) * 60 + int(m.group(2))
    if BACKEND == "sim":
        # tqdm's elapsed time and rate come from the driver's clock: the virtual seconds.
        assert (elapsed, m.group(3)) == (int(makespan), f"{6 / makespan:.2f}it/s")
    else:
        assert elapsed >= int(makespan)
