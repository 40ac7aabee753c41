"""A lazy graph of calls (Ray's `ray.dag`): build it with `.bind()`, submit it with `.execute()`.

Only the classic (interpreted) graph: each `execute()` submits ordinary
tasks and actor calls. Compiled graphs (`experimental_compile`) are not
simulated.
"""

from dsai.mockray.dag.dag_node import ClassMethodNode, ClassNode, DAGNode, FunctionNode
from dsai.mockray.dag.input_node import DAGInputData, InputAttributeNode, InputNode
from dsai.mockray.dag.output_node import MultiOutputNode

__all__ = ["ClassMethodNode", "ClassNode", "DAGInputData", "DAGNode", "FunctionNode", "InputAttributeNode",
           "InputNode", "MultiOutputNode"]
