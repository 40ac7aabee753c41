"""A multi-node cluster built node by node: add machines, remove them (a crash), and connect a driver.

Ray's `ray.cluster_utils.Cluster` starts real nodes on one machine, for tests
of multi-node behaviour; here the nodes are simulated. The first
`add_node` is the head; the cluster's `address` ("10.0.0.1:6379", like a
GCS address) is what `ray.init(address=...)` joins. Nodes added before
`ray.init` are created when the driver connects; nodes added later join the
running cluster at once, and queued tasks flow to them. `remove_node` kills
the node (`dsai.sim.kill_node`), with Ray's fault semantics: its tasks are
retried elsewhere, its actors restart or die, its objects are lost.

Deliberate differences from Ray: nodes start instantly (no `wait`),
`list_all_nodes` is in the order nodes were added (Ray keeps worker nodes in
a set), and `shutdown_at_exit` has nothing to clean up.
"""

from __future__ import annotations

import random
from typing import Any

from dsai.mockray import api, session
from dsai.mockray.runtime import Runtime

__all__ = ["Cluster", "ClusterNode", "lookup"]

_GCS_PORT = 6379  # Ray's default GCS port; a second live cluster gets 6380, ...
_HEAD_IP = "10.0.0.1"
_OBJECT_STORE_MEMORY = 150 * 1024 * 1024  # Cluster.add_node's default in Ray (150 MiB)

# Every keyword Ray's add_node accepts (ray._private.parameter.RayParams). Only
# the resource ones mean something here; the others are accepted and ignored,
# and anything else is a TypeError, as in Ray.
_RESOURCE_ARGS = {"num_cpus", "num_gpus", "resources", "memory", "object_store_memory"}
_IGNORED_ARGS = {
    "redis_address", "gcs_address", "labels", "redis_port", "redis_shard_ports",
    "object_manager_port", "node_manager_port", "gcs_server_port", "node_ip_address", "node_name",
    "min_worker_port", "max_worker_port", "worker_port_list", "ray_client_server_port",
    "redirect_output", "log_to_stderr", "external_addresses", "num_redis_shards",
    "redis_max_clients", "redis_username", "redis_password", "plasma_directory",
    "object_spilling_directory", "worker_path", "setup_worker_path", "huge_pages",
    "include_dashboard", "dashboard_host", "dashboard_port", "dashboard_agent_listen_port",
    "runtime_env_agent_port", "plasma_store_socket_name", "raylet_socket_name", "temp_dir",
    "runtime_env_dir_name", "include_log_monitor", "autoscaling_config", "ray_debugger_external",
    "_system_config", "enable_object_reconstruction", "metrics_agent_port", "metrics_export_port",
    "tracing_startup_hook", "no_monitor", "env_vars", "session_name", "webui", "cluster_id",
    "node_id", "resource_isolation_config", "proxy_server_url",
}

_clusters = session.clusters  # address -> cluster, in creation order (session.lookup finds them)
lookup = session.lookup


class ClusterNode:
    """One node of a `Cluster`, as `Cluster.add_node` returns it (Ray's `ray._private.node.Node`)."""

    def __init__(self, cluster: "Cluster", index: int, node_id: str, head: bool, num_cpus: float,
                 num_gpus: float, resources: dict[str, float], memory: float,
                 object_store_memory: float) -> None:
        self._cluster = cluster
        self._index = index  # the simulation's node number; its IP is 10.0.0.<index+1>
        self._node_id = node_id
        self.head = head
        self.num_cpus = num_cpus
        self.num_gpus = num_gpus
        self.resources = dict(resources)
        self.memory = memory
        self.object_store_memory = object_store_memory
        self.removed = False

    @property
    def node_id(self) -> str:
        """The node's ID in hex (as in ray.nodes() and NodeAffinitySchedulingStrategy)."""
        return self._node_id

    @property
    def node_ip_address(self) -> str:
        return f"10.0.0.{self._index + 1}"

    @property
    def address(self) -> str:
        """The cluster's address (the GCS address), what ray.init(address=...) takes."""
        return self._cluster._address

    gcs_address = address

    @property
    def plasma_store_socket_name(self) -> str:
        return f"/tmp/ray/sim/sockets/plasma_store.{self._index}"

    @property
    def raylet_socket_name(self) -> str:
        return f"/tmp/ray/sim/sockets/raylet.{self._index}"

    @property
    def unique_id(self) -> str:
        return f"{self.node_ip_address}:{self.plasma_store_socket_name}"

    def is_head(self) -> bool:
        return self.head

    @property
    def alive(self) -> bool:
        """Whether the node is up (False once removed, or killed by a dsai.sim fault)."""
        ns = self._cluster._node_state(self)
        return ns.alive if ns is not None else not self.removed

    def kill_raylet(self, check_alive: bool = True) -> None:
        """Crash the node without telling the cluster (Ray's fault-injection hook in tests)."""
        rt = self._cluster._live_runtime()
        if rt is None:
            raise RuntimeError(f"{self!r} is not running: connect a driver (ray.init(address="
                               f"{self.address!r})) before injecting faults")
        from dsai.sim import kill_node

        kill_node(rt.nodes[self._index].node, sim=rt.sim)

    def __repr__(self) -> str:
        role = "head" if self.head else "worker"
        state = "alive" if self.alive else "dead"
        res = {"CPU": self.num_cpus, **({"GPU": self.num_gpus} if self.num_gpus else {}), **self.resources}
        return f"ClusterNode({role}, {self.node_ip_address}, {self.node_id[:8]}, {res}, {state})"


class Cluster:
    """A simulated multi-node Ray cluster (Ray's `ray.cluster_utils.Cluster`).

    >>> cluster = Cluster()                                        # doctest: +SKIP
    >>> head = cluster.add_node(num_cpus=2)                        # doctest: +SKIP
    >>> worker = cluster.add_node(num_cpus=4, resources={"x": 1})  # doctest: +SKIP
    >>> ray.init(address=cluster.address)                          # doctest: +SKIP
    >>> cluster.remove_node(worker)    # the node crashes          # doctest: +SKIP
    """

    def __init__(self, initialize_head: bool = False, connect: bool = False,
                 head_node_args: dict | None = None, shutdown_at_exit: bool = True) -> None:
        self.head_node: ClusterNode | None = None
        self.worker_nodes: list[ClusterNode] = []
        self.connected = False
        self._shutdown_at_exit = shutdown_at_exit  # nothing to clean up: the nodes are simulated
        self._nodes: list[ClusterNode] = []  # every node ever added, in order
        self._address: str | None = None
        self._runtime: Any = None
        self._ids = random.Random("dsai.cluster_utils:node-ids")  # node IDs exist before any driver
        if not initialize_head and connect:
            raise RuntimeError("Cannot connect to uninitialized cluster.")
        if initialize_head:
            self.add_node(**(head_node_args or {}))
            if connect:
                self.connect()

    # -- addresses ----------------------------------------------------------------------------
    @property
    def gcs_address(self) -> str | None:
        return self._address if self.head_node is not None else None

    @property
    def address(self) -> str | None:
        """The address to pass to ray.init(address=...), like "10.0.0.1:6379" (None before a head)."""
        return self.gcs_address

    def connect(self, namespace: str | None = None) -> None:
        """Connect the driver to the cluster (ray.init(address=self.address))."""
        assert self.address is not None
        assert not self.connected
        api.init(address=self.address, namespace=namespace, ignore_reinit_error=True)
        self.connected = True

    # -- nodes ----------------------------------------------------------------------------------
    def add_node(self, wait: bool = True, **node_args: Any) -> ClusterNode:
        """Add a node (the first one is the head); defaults as in Ray: num_cpus=1, num_gpus=0,
        object_store_memory=150 MiB. Returns the node (`.node_id`, `.node_ip_address`)."""
        unknown = sorted(k for k in node_args if k not in _RESOURCE_ARGS and k not in _IGNORED_ARGS)
        if unknown:
            raise TypeError(f"RayParams.__init__() got an unexpected keyword argument '{unknown[0]}'")
        num_cpus = node_args.get("num_cpus")
        num_gpus = node_args.get("num_gpus")
        num_cpus = 1 if num_cpus is None else num_cpus
        num_gpus = 0 if num_gpus is None else num_gpus
        for name, value in (("num_cpus", num_cpus), ("num_gpus", num_gpus)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"add_node: {name} must be a non-negative number, got {value!r}")
        resources = dict(node_args.get("resources") or {})
        if "CPU" in resources or "GPU" in resources:
            raise ValueError("Use the 'num_cpus' and 'num_gpus' keyword instead of 'CPU' and 'GPU' "
                             "in 'resources' keyword")
        for k, v in resources.items():
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
                raise ValueError(f"add_node: resource {k!r} must be a non-negative number, got {v!r}")
        memory = node_args.get("memory") or 8 * 1024**3
        object_store_memory = node_args.get("object_store_memory") or _OBJECT_STORE_MEMORY
        head = self.head_node is None
        if head:
            self._start_fresh()
        node = ClusterNode(self, len(self._nodes), "%056x" % self._ids.getrandbits(224), head,
                           num_cpus, num_gpus, resources, memory, object_store_memory)
        self._nodes.append(node)
        if head:
            self.head_node = node
        else:
            self.worker_nodes.append(node)
        rt = self._live_runtime()
        if rt is not None:
            self._create(rt, node)
        return node

    def _start_fresh(self) -> None:
        """A new head: a new cluster at a free address (the lowest port from 6379)."""
        if self._address is not None:
            _clusters.pop(self._address, None)
        self._nodes, self.worker_nodes, self._runtime = [], [], None
        port = _GCS_PORT
        while f"{_HEAD_IP}:{port}" in _clusters:
            port += 1
        self._address = f"{_HEAD_IP}:{port}"
        _clusters[self._address] = self

    def remove_node(self, node: ClusterNode, allow_graceful: bool = True) -> None:
        """Take a node out of the cluster: in the simulation it dies (dsai.sim.kill_node)."""
        if not isinstance(node, ClusterNode) or node._cluster is not self or node.removed:
            raise ValueError(f"remove_node: {node!r} is not a node of this cluster (or was already "
                             "removed); pass a node that add_node returned")
        rt = self._live_runtime()
        if rt is not None and node is self.head_node:
            # The driver runs on the head node, as in Ray's local clusters.
            api.shutdown()
            raise ValueError("Removing a node that is connected to this Ray client is not allowed "
                             "because it will break the driver. You can use the get_other_node "
                             "utility to avoid removing a node that the Ray client is connected.")
        node.removed = True
        if node is self.head_node:
            self.head_node = None
            if self._address is not None:
                _clusters.pop(self._address, None)
        else:
            self.worker_nodes.remove(node)
        if rt is not None:
            from dsai.sim import kill_node

            kill_node(rt.nodes[node._index].node, sim=rt.sim)

    def wait_for_nodes(self, timeout: float = 30) -> None:
        """Return once every node added (and not removed) is alive; TimeoutError after `timeout`
        virtual seconds otherwise (a node killed by a fault, not by remove_node)."""
        rt = self._live_runtime()
        if rt is None:
            return  # simulated nodes are up the moment they are added
        expected = len(self.list_all_nodes())

        def all_up() -> bool:
            return sum(1 for ns in rt.nodes if ns.alive) == expected

        deadline = rt.sim.now() + timeout
        if rt.sim.loop.run_until(all_up, deadline):
            return
        rt.sim.loop.clock.advance_to(deadline)
        raise TimeoutError("Timed out while waiting for nodes to join.")

    def list_all_nodes(self) -> list[ClusterNode]:
        """All nodes, head first, then workers in the order they were added."""
        nodes = list(self.worker_nodes)
        if self.head_node:
            nodes = [self.head_node] + nodes
        return nodes

    def remaining_processes_alive(self) -> bool:
        return all(n.alive for n in self.list_all_nodes())

    def shutdown(self) -> None:
        """Remove every node (workers first, then the head)."""
        for node in list(self.worker_nodes):
            self.remove_node(node)
        if self.head_node is not None:
            self.remove_node(self.head_node)
        if self._address is not None:
            _clusters.pop(self._address, None)

    # -- the driver side (called by ray.init(address=...)) ---------------------------------------------
    def start_runtime(self, namespace: str | None = None, seed: int = 0, network: Any = None) -> Any:
        """Build the simulated runtime holding this cluster's nodes and make it current."""
        if self.head_node is None:
            raise ConnectionError("This cluster has no head node: call cluster.add_node() first")
        rt = Runtime(seed=seed, namespace=namespace, network=network)
        session.connect(rt)
        for node in self._nodes:
            self._create(rt, node)
        self._runtime = rt
        return rt

    def _create(self, rt: Any, node: ClusterNode) -> None:
        ns = rt.add_node(node.num_cpus, node.num_gpus, node.resources, memory=node.memory,
                         object_store_memory=node.object_store_memory)
        # The cluster, not the driver, names its nodes: IDs are fixed when added.
        ns.node_id = node.node_id
        assert ns.ip == node.node_ip_address and ns.node.id == node._index, (ns, node)
        if node.removed:  # removed before this driver connected: Ray lists it as dead
            from dsai.sim import kill_node

            kill_node(ns.node, sim=rt.sim)

    def _live_runtime(self) -> Any:
        """The runtime this cluster is running in, if a driver is connected right now."""
        rt = self._runtime
        if rt is not None and session.runtime_or_none() is rt:
            return rt
        self._runtime = None
        return None

    def _node_state(self, node: ClusterNode) -> Any:
        rt = self._live_runtime()
        return rt.nodes[node._index] if rt is not None else None

    def __repr__(self) -> str:
        alive = sum(1 for n in self.list_all_nodes() if n.alive)
        state = "connected" if self._live_runtime() is not None else "not connected"
        return f"Cluster(address={self.address!r}, nodes={alive}, {state})"
