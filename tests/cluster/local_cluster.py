"""A real multi-node Ray cluster on one machine, started with `ray start` and always stopped.

Each node is its own `ray start ... --block` process (the head: GCS, raylet, object
store; every other node: a raylet and object store that join the head's address),
started in a session of its own so that everything it spawns shares one process
group. Stopping a node sends its `ray start --block` SIGTERM (it stops the node's
processes, as `ray stop` would, but only that node's), then SIGKILLs whatever is
left in the group. `ray stop` is never used: it stops every Ray process of the
user on the machine, other people's clusters included.

The commands are the ones instructor/README.md gives (plus ports and a private
temp dir, so that several clusters can share one machine):

    RAY_AUTH_MODE=disabled ray start --head --node-ip-address=127.0.0.1 --port=P ...
    RAY_AUTH_MODE=disabled ray start --address=127.0.0.1:P --node-ip-address=127.0.0.1 ...

As a script, it starts a cluster, runs a command with RAY_ADDRESS set, and stops:

    python tests/cluster/local_cluster.py --nodes 2 -- dsai experiments --backend ray
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

__all__ = ["LocalRayCluster", "Node", "RAY_ENV"]

# Ray 2.60 turns on token authentication for `ray start --head`; a private test cluster
# turns it off. Its raylet must register within 30 s, which a loaded 2-core machine misses.
# Workers inherit their node's environment, and library code running in them (dsai.ps's
# workers) picks its backend from DSAI_BACKEND: without it they would use the simulator.
RAY_ENV = {"DSAI_BACKEND": "ray", "RAY_AUTH_MODE": "disabled", "RAY_raylet_start_wait_time_s": "300",
           "RAY_agent_register_timeout_ms": "300000",
           "RAY_USAGE_STATS_ENABLED": "0"}
READY_LINE = "This command will now block forever"  # what `ray start --block` prints once up
START_TIMEOUT_S = 300
START_NICE = -10  # the CPU priority a node starts with (see Node)
START_ATTEMPTS = 3  # a node that does not come up is stopped and started again, this many times in all


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _raylet_aborts(temp_dir: Path) -> int:
    """How many raylets of this cluster have aborted so far ("Check failed" in their logs)."""
    return sum(f.read_text(errors="replace").count("Check failed")
               for f in temp_dir.glob("session_2*/logs/raylet*.err"))


def _group_members(pgid: int) -> list[int]:
    """PIDs of the processes in process group `pgid` (from /proc)."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid:  # after "pid (comm)": state, ppid, pgrp
            pids.append(int(stat.parent.name))
    return pids


class Node:
    """One `ray start --block` process and the log it writes."""

    def __init__(self, name: str, args: list[str], log: Path, env: dict[str, str]) -> None:
        self.name, self.log, self.args = name, log, args
        # ray.nodes() reports each node's NodeManagerPort, which we chose: how a test finds its node ID.
        self.node_manager_port = int(next(a for a in args if a.startswith("--node-manager-port="))
                                     .split("=")[1])
        self.agent_port = int(next(a for a in args if a.startswith("--dashboard-agent-listen-port="))
                              .split("=")[1])
        # A raylet gives its dashboard agent 15 s to report its ports and aborts otherwise; on a
        # loaded 2-core machine the agent's imports alone take longer. So a node starts with a
        # raised CPU priority (when allowed: root), back to normal once it is up (`wait_ready`),
        # and the agent's port is announced for it (`_announce_agent_port`).
        boost = ["nice", "-n", str(START_NICE)] if os.geteuid() == 0 else []
        with open(log, "w") as out:
            self.proc = subprocess.Popen(boost + args, stdout=out, stderr=subprocess.STDOUT, env=env,
                                         start_new_session=True)
        self.pgid = self.proc.pid  # start_new_session: the process leads its own group
        self._announced = False

    def wait_ready(self, timeout: float = START_TIMEOUT_S) -> None:
        """Until `ray start` says the node is up; fail early if it exited or a raylet aborted
        (a raylet that aborts in start-up leaves `ray start` waiting for it until its deadline)."""
        deadline = time.monotonic() + timeout
        aborted = _raylet_aborts(self.log.parent)
        while time.monotonic() < deadline:
            if READY_LINE in self.log.read_text(errors="replace"):
                try:
                    os.setpriority(os.PRIO_PGRP, self.pgid, 0)  # the node's processes: normal again
                except OSError:
                    pass
                return
            if self.proc.poll() is not None or _raylet_aborts(self.log.parent) > aborted:
                break
            self._announce_agent_port()
            time.sleep(0.2)
        tail = "".join(self.log.read_text(errors="replace").splitlines(True)[-15:])
        raise RuntimeError(f"Ray node {self.name} did not start (exit {self.proc.poll()}):\n{tail}")

    def _announce_agent_port(self) -> None:
        """Write the dashboard agent's port file for the raylet, with the port we gave the agent.

        Ray 2.60's raylet is not told the agent's listen port: it waits at most 15 s for the
        agent to write `dashboard_agent_listen_port_<node id>` into the session dir, and aborts
        otherwise. Under load the agent's imports take longer; the port is fixed (we passed
        --dashboard-agent-listen-port), so we write the same file first: the agent rewrites it.

        This reaches into Ray's session dir, and nothing public replaces it in 2.60 (measured
        on this machine, load average 13-20, nodes started at nice -10, 3 attempts each): without
        it 4 of 5 starts of a third and fourth node aborted with "Timed out waiting for file
        .../dashboard_agent_listen_port_<id>", although RAY_agent_register_timeout_ms was 300000
        and --include-dashboard=false (the raylet starts its agent regardless; the wait is fixed,
        and ray.cluster_utils.Cluster starts the same raylet). If Ray moves the file, this
        writes where nobody reads, and a node that misses the wait is started again (`_start`).
        """
        if self._announced:
            return
        for pid in _group_members(self.pgid):
            try:
                argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if not argv or not argv[0].endswith(b"/raylet"):
                continue
            flags = dict(a.decode().split("=", 1) for a in argv[1:] if a.startswith(b"--") and b"=" in a)
            if "--node_id" in flags and "--session_dir" in flags:
                target = Path(flags["--session_dir"]) / f"dashboard_agent_listen_port_{flags['--node_id']}"
                tmp = target.with_suffix(".tmp")
                tmp.write_text(str(self.agent_port))
                tmp.replace(target)
                self._announced = True
                return

    def stop(self, grace: float = 30.0) -> None:
        """SIGTERM the node's `ray start --block` (it stops its processes), then SIGKILL the rest."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.pgid, signal.SIGKILL)  # anything the node left in its group
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass

    def node_id(self) -> str:
        """This node's Ray node ID (the driver must be connected)."""
        import ray

        [node] = [n for n in ray.nodes() if n.get("NodeManagerPort") == self.node_manager_port]
        return node["NodeID"]

    def alive(self) -> bool:
        return self.proc.poll() is None

    def __repr__(self) -> str:
        return f"Node({self.name!r}, pid {self.proc.pid}, {'running' if self.alive() else 'stopped'})"


class LocalRayCluster:
    """A head and worker nodes, each its own raylet and object store, on this machine.

    Use as a context manager, or call `stop()` in a `finally`: every node it started
    is stopped, even when a test failed.
    """

    def __init__(self, ray_bin: str | None = None, object_store_mib: int = 150) -> None:
        self.ray_bin = ray_bin or str(Path(sys.executable).with_name("ray"))
        # Short: Ray's socket paths live under it and Unix sockets allow ~107 characters.
        self.temp_dir = Path(tempfile.mkdtemp(prefix="dsaic-", dir="/tmp"))
        self.object_store = object_store_mib * 2**20
        self.env = {**os.environ, **RAY_ENV}
        self.env.pop("RAY_ADDRESS", None)
        self.nodes: list[Node] = []
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"

    def _node_args(self, cpus: int, gpus: int, resources: dict[str, float] | None) -> list[str]:
        # Fixed ports: with port 0 a raylet waits for its agents to write theirs to a file, and
        # on a loaded machine that wait times out and the raylet aborts ("Timed out waiting for
        # file .../metrics_agent_port_..."). Distinct ones let several nodes share the machine.
        ports = {flag: free_port() for flag in (
            "--dashboard-agent-listen-port", "--dashboard-agent-grpc-port", "--metrics-export-port",
            "--runtime-env-agent-port", "--node-manager-port", "--object-manager-port")}
        args = [f"--num-cpus={cpus}", f"--num-gpus={gpus}", f"--object-store-memory={self.object_store}",
                *(f"{flag}={port}" for flag, port in ports.items()), "--disable-usage-stats", "--block"]
        if resources:
            import json

            args.append(f"--resources={json.dumps(resources)}")
        return args

    def start_head(self, cpus: int = 2, gpus: int = 0, resources: dict[str, float] | None = None) -> Node:
        args = [self.ray_bin, "start", "--head", "--node-ip-address=127.0.0.1", f"--port={self.port}",
                "--include-dashboard=false", f"--dashboard-port={free_port()}", f"--temp-dir={self.temp_dir}",
                *self._node_args(cpus, gpus, resources)]
        return self._start("head", args)

    def add_node(self, cpus: int = 2, gpus: int = 0, resources: dict[str, float] | None = None) -> Node:
        if not self.nodes:
            raise RuntimeError("start the head first: a node joins the head's address")
        name = f"node{len(self.nodes)}"
        args = [self.ray_bin, "start", f"--address={self.address}", "--node-ip-address=127.0.0.1",
                *self._node_args(cpus, gpus, resources)]
        return self._start(name, args)

    def _start(self, name: str, args: list[str], attempts: int = START_ATTEMPTS) -> Node:
        """Start a node; once more if it did not come up (a busy machine misses Ray's deadlines)."""
        for attempt in range(attempts):
            node = Node(name, args, self.temp_dir / f"{name}-{attempt}.log", self.env)
            self.nodes.append(node)
            try:
                node.wait_ready()
                return node
            except RuntimeError:
                node.stop()
                self.nodes.remove(node)
                if attempt == attempts - 1:
                    raise
                print(f"Ray node {name} did not start; trying once more", file=sys.stderr)
        raise AssertionError("unreachable")

    def kill_node(self, node: Node) -> None:
        """Stop one worker node abruptly for the cluster (its raylet and workers go)."""
        if node is self.nodes[0]:
            raise ValueError("killing the head stops the cluster; kill a worker node")
        node.stop(grace=10.0)

    def stop(self) -> None:
        """Stop every node, workers first, the head last; then remove the temp dir."""
        for node in reversed(self.nodes):
            node.stop()
        import shutil

        shutil.rmtree(self.temp_dir, ignore_errors=True)

    def __enter__(self) -> "LocalRayCluster":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"LocalRayCluster({self.address}, {len(self.nodes)} nodes: {self.nodes})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=2, help="nodes in all, the head included")
    parser.add_argument("--cpus", type=int, default=2, help="CPUs per node")
    parser.add_argument("--gpus", type=int, default=2, help="logical GPUs per node")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND ARGS...")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    # A SIGTERM (a CI timeout, `kill`) must stop the nodes too: make it unwind through finally.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    cluster = LocalRayCluster()
    try:
        cluster.start_head(args.cpus, args.gpus)
        for _ in range(args.nodes - 1):
            cluster.add_node(args.cpus, args.gpus)
        print(f"started {cluster}", file=sys.stderr)
        env = {**os.environ, **RAY_ENV, "RAY_ADDRESS": cluster.address, "DSAI_BACKEND": "ray"}
        return subprocess.call(command, env=env) if command else 0
    finally:
        cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
