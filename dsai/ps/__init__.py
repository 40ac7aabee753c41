"""dsai.ps: a parameter server (Li et al., OSDI 2014) written against the Ray API only.

Server actors hold the weights (one, or k shards owning contiguous key ranges
of the flat vector); worker actors each hold a shard of the training data,
pull weights and push gradients. Three consistency models: synchronous (BSP),
asynchronous, and bounded staleness (SSP, Ho et al., NIPS 2013). The same
code runs on the simulator and on real Ray (``DSAI_BACKEND=ray``).

    from dsai import ps
    result = ps.simulate(ps.PSConfig(mode="ssp", staleness=2, workers=4), slowdown={1: 4.0})
    result.test_accuracy, result.staleness_histogram()
"""

from dsai.ps.cluster import simulate, start_cluster
from dsai.ps.config import MODES, PSConfig, PSConfigError
from dsai.ps.result import TrainResult, Update
from dsai.ps.server import ParameterServer, apply_gradients, sgd_step
from dsai.ps.train import DivergenceWarning, shard_bounds, train
from dsai.ps.worker import Worker

__all__ = ["PSConfig", "PSConfigError", "MODES", "train", "simulate", "start_cluster",
           "TrainResult", "Update", "ParameterServer", "Worker", "apply_gradients", "sgd_step", "shard_bounds",
           "DivergenceWarning"]
