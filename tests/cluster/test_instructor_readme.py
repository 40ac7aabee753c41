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
