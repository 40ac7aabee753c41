"""dsai.models: a real model on real data for the distributed-training lessons.

A numpy MLP and softmax regression with hand-written backprop, float64, seeded,
their weights one flat vector (what a parameter server stores and shards), and
the handwritten-digits data set shipped in the package. Each model counts its
FLOPs so simulated workers can declare compute with `dsai.sim.compute(flops=...)`.
Needs only numpy.
"""

from dsai.models.digits import Digits, load_digits
from dsai.models.layers import Layer, Linear, ReLU, Tanh, softmax_cross_entropy
from dsai.models.mlp import MLP, ParamRange, SoftmaxRegression

__all__ = ["MLP", "SoftmaxRegression", "ParamRange", "Layer", "Linear", "ReLU", "Tanh",
           "softmax_cross_entropy", "Digits", "load_digits"]
