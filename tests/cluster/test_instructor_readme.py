"""instructor/README.md's "Running the course on a Ray cluster" is what this suite runs.

The section's `ray start` commands are the ones the fixture started the
session's cluster with (every flag the README gives, the fixture passes, with
the same value where the README's is not a placeholder), and the way it tells
JupyterLab where the cluster is, RAY_ADDRESS with DSAI_BACKEND=ray, is how the
lesson tests run the notebooks.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from local_cluster import RAY_ENV

README = Path(__file__).resolve().parents[2] / "instructor" / "README.md"
SECTION = "## Running the course on a Ray cluster"


def _commands() -> list[list[str]]:
    text = README.read_text()
    assert SECTION in text, f"instructor/README.md has no section {SECTION!r}"
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    return [shlex.split(line) for block in blocks for line in block.splitlines() if line.strip()]


def _flags(args: list[str]) -> dict[str, str]:
    return dict(a.split("=", 1) if "=" in a else (a, "") for a in args if a.startswith("--"))


def test_readme_ray_start_commands_are_the_fixtures(cluster):
    commands = _commands()
    starts = [c for c in commands if "ray" in c and "start" in c]
    head = next(c for c in starts if "--head" in c)
    worker = next(c for c in starts if any(a.startswith("--address=") for a in c))
    for readme, node in ((head, cluster.nodes[0]), (worker, cluster.nodes[1])):
        env = dict(a.split("=", 1) for a in readme if re.match(r"^[A-Z_]+=", a))
        assert env == {"DSAI_BACKEND": "ray", "RAY_AUTH_MODE": "disabled"}, env
        assert all(RAY_ENV[k] == v for k, v in env.items())  # what the fixture's nodes get
        assert "start" in node.args
        ours = _flags(node.args)
        for flag, value in _flags(readme).items():
            assert flag in ours, f"the README passes {flag}, the fixture does not: {node.args}"
            if flag in ("--port", "--address"):  # placeholders (6379, HEAD_IP): ports differ here
                continue
            assert ours[flag] == value, f"{flag}: README {value!r}, fixture {ours[flag]!r}"
    assert "--node-ip-address" in README.read_text().split(SECTION, 1)[1]  # one-machine advice


def test_readme_points_jupyter_at_the_cluster_with_ray_address():
    [lab] = [c for c in _commands() if "jupyter" in c]
    env = dict(a.split("=", 1) for a in lab if re.match(r"^[A-Z_]+=", a))
    assert env["DSAI_BACKEND"] == "ray" and env["RAY_ADDRESS"].startswith("HEAD_IP:")


def _needs_table() -> dict[str, dict[str, str]]:
    """{lesson number: {column: cell}} from the section's lesson table."""
    section = README.read_text().split(SECTION, 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("| ")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    rows = {}
    for line in lines[2:]:
        cells = dict(zip(header, (c.strip() for c in line.strip("|").split("|"))))
        rows[cells["lesson"].split()[0]] = cells
    return rows


def _setup_needs(notebook: Path) -> tuple[int, int]:
    """(CPUs, GPUs) a lesson's code asks for: course.start's, and the most devices it starts."""
    import json

    code = "\n".join("".join(c["source"]) for c in json.loads(notebook.read_text())["cells"]
                     if c["cell_type"] == "code")
    [start] = set(re.findall(r"course\.start\(([^)]*)\)", code)) - {
        s for s in re.findall(r"course\.start\(([^)]*)\)", code) if "seed" in s}
    cpus = int(re.search(r"num_cpus=(\d+)", start).group(1))
    gpus = [int(g) for g in re.findall(r"num_gpus=(\d+)", start)]
    gpus += [int(n) for n in re.findall(r"start_devices\((\d+)", code)]
    return cpus, max(gpus, default=0)


def test_readme_says_what_each_lesson_needs_and_the_fixture_has_it(cluster):
    table = _needs_table()
    lessons = sorted((README.parents[1] / "notebooks").glob("*.ipynb"))
    assert sorted(table) == sorted(p.name[:2] for p in lessons), "one row per lesson"
    nodes = [n for n in cluster.nodes if n.alive()]
    have_cpus = sum(int(_flags(n.args)["--num-cpus"]) for n in nodes)
    have_gpus = sum(int(_flags(n.args)["--num-gpus"]) for n in nodes)
    for notebook in lessons:
        row = table[notebook.name[:2]]
        cpus, gpus = _setup_needs(notebook)
        assert int(row["CPUs"]) == cpus, f"{notebook.name}: README says {row['CPUs']} CPUs, setup asks {cpus}"
        said_gpus = 0 if row["GPUs"] == "-" else int(row["GPUs"].split()[0])
        assert said_gpus == gpus, f"{notebook.name}: README says {row['GPUs']} GPUs, the lesson uses {gpus}"
        assert row["nodes"] == "1 or more"
        # The lesson tests run every lesson on this cluster: it must have what the table says.
        assert have_cpus >= cpus and have_gpus >= gpus, (notebook.name, have_cpus, have_gpus)
