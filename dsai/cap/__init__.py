"""dsai.cap: a replicated key-value store in which the CAP trade-off can be watched and measured.

Cut the network (`nemesis`), and one mode refuses (`cp`), the others keep
answering and diverge (`ap-lww`, `ap-vv`, `dynamo`); the clients' histories go
to `dsai.check`, which says which runs were linearizable.

    from dsai.cap import run
    result = run(mode="cp", nemesis="partition", seed=1, ops=100)
    result.valid, result.metrics
"""

from dsai.cap.client import Client, OpRecord, Workload
from dsai.cap.cluster import REPLICAS, Cluster
from dsai.cap.config import MODES, WORKLOADS, CapConfig, CapConfigError
from dsai.cap.cp import majority_read
from dsai.cap.metrics import compute_metrics
from dsai.cap.nemesis import NEMESES, FaultSpan, Nemesis
from dsai.cap.run import RunResult, run, run_config, run_script
from dsai.cap.trials import Trials, trials
from dsai.cap.versions import Cell

__all__ = [
    "run", "run_config", "run_script", "RunResult", "majority_read", "Cell", "trials", "Trials", "CapConfig", "CapConfigError", "MODES", "WORKLOADS", "NEMESES",
    "Cluster", "REPLICAS", "Client", "OpRecord", "Workload", "Nemesis", "FaultSpan", "compute_metrics",
]
