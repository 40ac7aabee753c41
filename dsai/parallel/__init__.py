"""dsai.parallel: collectives over Ray actors (all-reduce four ways, reduce-scatter,
all-gather), measured on the simulated network and compared with the alpha-beta model.

    from dsai.parallel import start_cluster, CollectiveGroup, allreduce
    start_cluster(4)                      # a driver node + 4 worker nodes (simulated)
    group = CollectiveGroup(4)            # one Rank actor per node
    group.load(arrays)                    # one array (or ObjectRef) per rank
    run = allreduce(group, "ring")        # every rank now holds the sum
    run.seconds, run.traffic              # virtual seconds; payload and wire bytes per node
"""

from dsai.parallel.collectives import (ALGORITHMS, AllReduceRun, all_gather, allreduce, measure,
                                       reduce_scatter)
from dsai.parallel.group import CollectiveGroup, Rank, Server, split_bounds
from dsai.parallel.placement import CollectiveError, pin, simulated, start_cluster, worker_nodes
from dsai.parallel.traffic import Ledger, NodeTraffic

__all__ = ["ALGORITHMS", "AllReduceRun", "all_gather", "allreduce", "measure", "reduce_scatter",
           "CollectiveGroup", "Rank", "Server", "split_bounds", "CollectiveError", "pin",
           "simulated", "start_cluster", "worker_nodes", "Ledger", "NodeTraffic"]
