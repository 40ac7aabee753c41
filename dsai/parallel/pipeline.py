"""Pipeline parallelism: consecutive layers on consecutive devices, micro-batches flowing through them.

A model too big for one device is cut by layers into `p` stages, one stage
actor per device (`num_gpus=1`). Each stage keeps its layers' parameters,
gradients and optimizer state, plus the activations of every micro-batch
it has run forward and not yet backward, in a `DeviceMemory` ledger: too
much raises `DeviceOutOfMemoryError` on that device. Activations travel
forward and their gradients backward between stage actors as Ray objects,
so they cross the (simulated) network and are counted.

The driver submits every stage's steps in the order a schedule
(`dsai.parallel.schedule`) gives; a Ray actor runs one caller's calls in
submission order, each when its inputs arrive, so the order alone decides
the bubble. `run_pipeline` then reads the stages' spans from
`ray.timeline()` and measures the bubble (idle stage-time / (stages x
makespan)), the peak activations each stage stored, and the bytes that
crossed between stages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from dsai import ray
from dsai.errors import ParallelConfigError
from dsai.parallel import schedule as sched
from dsai.parallel.device import DeviceMemory, DeviceSpec, current_spec, nbytes
from dsai.parallel.placement import spread_over_nodes
from dsai.models.layers import Linear, softmax_cross_entropy

__all__ = ["PipelineStage", "PipelineRun", "split_layers", "run_pipeline", "check_fits_one_layer"]


def split_layers(layers: Any, parts: int) -> list[list]:
    """Cut `layers` (a list, or a model's `.layers`) into `parts` consecutive groups with
    as equal a number of Linear layers as possible.

    Each Linear takes the element-wise layers after it along, so a cut never
    separates a linear layer from its activation function.
    """
    blocks: list[list] = []
    for layer in getattr(layers, "layers", layers):
        if isinstance(layer, Linear) or not blocks:
            blocks.append([layer])
        else:
            blocks[-1].append(layer)
    if not isinstance(parts, int) or parts < 1:
        raise ParallelConfigError(f"the number of model stages must be a whole number >= 1, got {parts!r}")
    if parts > len(blocks):
        raise ParallelConfigError(f"cannot cut a model of {len(blocks)} linear layers into {parts} "
                                  f"stages: use at most {len(blocks)} stages x chunks, or a deeper model")
    base, extra = divmod(len(blocks), parts)
    out, i = [], 0
    for k in range(parts):
        n = base + (1 if k < extra else 0)
        out.append([layer for block in blocks[i:i + n] for layer in block])
        i += n
    return out


def check_fits_one_layer(layers: Sequence, spec: DeviceSpec) -> None:
    """A device smaller than one layer's parameters cannot hold any stage: say so before starting."""
    for layer in layers:
        size = nbytes(layer.params)
        if size > spec.memory:
            raise ParallelConfigError(
                f"{layer!r} alone needs {size:,} bytes of parameters, more than a device's "
                f"{spec.memory:,}: no pipeline split can fit it; split the layer itself (tensor "
                "parallelism) or use devices with more memory")


class PipelineStage:
    """One device's share of the model: its chunks' layers, and the memory they occupy.

    Model stage s = chunk x stages + device. `forward` and `backward` run one
    micro-batch through one chunk; the last model stage computes the loss in
    its forward and starts the backward from it.
    """

    def __init__(self, device: int, stages: int, chunks: int, spec: DeviceSpec) -> None:
        self.device, self.stages, self.chunks_per_device = device, stages, chunks
        self.spec = spec
        self.memory = DeviceMemory(f"GPU {device}", spec.memory)
        self.layers: dict[int, list] = {}
        self.grads: dict[int, list[list[np.ndarray]]] = {}
        self.optimizer: dict[int, list[list[np.ndarray]]] = {}
        self.saved: dict[tuple[int, int], list] = {}
        self.inputs: np.ndarray | None = None
        self.labels: np.ndarray | None = None
        self.batch = 0
        self.microbatch = 0

    def _model_stage(self, chunk: int) -> int:
        return chunk * self.stages + self.device

    def _name(self, chunk: int, mb: int | None = None) -> str:
        """How the ledger (and an out-of-memory error) names what it holds."""
        where = f"model stage {self._model_stage(chunk)}"
        return where if mb is None else f"micro-batch {mb} at {where}"

    def load(self, chunks: dict[int, list], optimizer: str, inputs: np.ndarray | None,
             labels: np.ndarray | None, batch: int, microbatches: int) -> str | None:
        """Place the chunks' parameters, zeroed gradients and (Adam) moments on the device."""
        for c, layers in sorted(chunks.items()):
            self.memory.hold("parameters", self._name(c), [l.params for l in layers])
            self.layers[c] = layers
            self.grads[c] = [[np.zeros_like(p) for p in l.params] for l in layers]
            self.memory.hold("gradients", self._name(c), self.grads[c])
            if optimizer == "adam":  # first and second moments, one of each per parameter
                self.optimizer[c] = [[np.zeros_like(p) for p in l.params for _ in (0, 1)] for l in layers]
                self.memory.hold("optimizer", self._name(c), self.optimizer[c])
        # The batch itself is data the input pipeline feeds, not model state: not in the ledger.
        self.inputs, self.labels = inputs, labels
        self.batch, self.microbatch = batch, batch // microbatches
        return ray.get_runtime_context().get_actor_id()

    def forward(self, chunk: int, mb: int, x: np.ndarray | None) -> Any:
        s = self._model_stage(chunk)
        if s == 0:
            x = self.inputs[mb * self.microbatch:(mb + 1) * self.microbatch]
        layers = self.layers[chunk]
        self.spec.compute(sum(l.flops_forward(len(x)) for l in layers))
        saved = []
        for layer in layers:
            x, keep = layer.forward(x)
            saved.append(keep)
        if s == self.stages * self.chunks_per_device - 1:
            labels = self.labels[mb * self.microbatch:(mb + 1) * self.microbatch]
            loss, dlogits = softmax_cross_entropy(x, labels)
            # A micro-batch's share of the batch mean: the micro-batches' gradients add up to the batch's.
            share = len(labels) / self.batch
            loss, dlogits = loss * share, dlogits * share
            saved.append(dlogits)
            self.memory.hold("activations", self._name(chunk, mb), saved)
            self.saved[(mb, chunk)] = saved
            return loss
        self.memory.hold("activations", self._name(chunk, mb), saved)
        self.saved[(mb, chunk)] = saved
        return x

    def backward(self, chunk: int, mb: int, dy: np.ndarray | None) -> np.ndarray | None:
        s = self._model_stage(chunk)
        saved = self.saved.pop((mb, chunk))
        if dy is None:  # the last model stage starts from its loss gradient
            dy = saved.pop()
        layers = self.layers[chunk]
        self.spec.compute(sum(l.flops_backward(len(dy)) for l in layers))
        for i in range(len(layers) - 1, -1, -1):
            dy, grads = layers[i].backward(dy, saved[i])
            for acc, g in zip(self.grads[chunk][i], grads):
                acc += g  # accumulate over micro-batches, in place: no new bytes
        self.memory.drop("activations", self._name(chunk, mb))
        return None if s == 0 else dy

    def gradients(self) -> dict[int, list[list[np.ndarray]]]:
        return self.grads

    def memory_summary(self) -> dict[str, Any]:
        return self.memory.summary()

    def __repr__(self) -> str:
        return f"PipelineStage(device {self.device}, chunks {sorted(self.layers)}, {self.memory!r})"



@dataclass
class PipelineRun:
    """What one pipelined training step measured (figures from the simulator; None on real Ray)."""

    schedule: str
    stages: int
    microbatches: int
    chunks: int
    loss: float
    grad: np.ndarray = field(repr=False)  # flat, in the unsplit model's order (W1, b1, W2, ...)
    memory: list[dict[str, Any]] = field(repr=False)  # per device, DeviceMemory.summary()
    steps: list[sched.Step] | None = field(default=None, repr=False)  # measured spans
    bubble_fraction: float | None = None
    makespan: float | None = None
    bytes_between_stages: int | None = None

    @property
    def theory_bubble_fraction(self) -> float:
        return sched.theory_bubble(self.schedule, self.stages, self.microbatches, self.chunks)

    @property
    def megatron_bubble(self) -> float:
        return sched.megatron_bubble(self.schedule, self.stages, self.microbatches, self.chunks)

    @property
    def peak_activations(self) -> list[int]:
        """Most (micro-batch, chunk) activation sets each device stored at once, measured."""
        return [m["peak_count"]["activations"] for m in self.memory]


def run_pipeline(model: Any, inputs: np.ndarray, labels: np.ndarray, *, stages: int,
                 microbatches: int = 1, schedule: str = "gpipe", chunks: int = 1,
                 spec: DeviceSpec | None = None, optimizer: str = "sgd",
                 num_gpus: float = 1, order: list[list] | None = None) -> PipelineRun:
    """One training step's forward and backward passes of `model` (a `dsai.models.MLP` or
    its list of layers), pipelined over `stages` stage actors.

    Start the devices first (`dsai.parallel.device.start_devices`). Returns the
    loss, the gradient (the flat vector `MLP.loss_and_grad` gives) and what was
    measured. `num_gpus` per stage can be a fraction where fewer GPUs exist.
    `order` replaces the schedule's steps with your own: one list per device of
    ("F" or "B", micro-batch[, chunk]) in the order that device runs them
    (`schedule` still names the formula the run is compared with).
    """
    from dsai import course, ray, sim

    layers = list(getattr(model, "layers", model))
    sched.check_layout(schedule, stages, microbatches, chunks)
    spec = spec or current_spec()  # the spec start_devices gave the cluster
    if optimizer not in ("sgd", "adam"):
        raise ParallelConfigError(f"optimizer must be 'sgd' or 'adam', got {optimizer!r}")
    batch = len(inputs)
    if len(labels) != batch:
        raise ParallelConfigError(f"inputs have {batch} rows but labels {len(labels)}: give one label per row")
    if batch % microbatches:
        raise ParallelConfigError(f"a batch of {batch} cannot be cut into {microbatches} equal "
                                  f"micro-batches: pick microbatches dividing {batch}")
    check_fits_one_layer(layers, spec)
    parts = split_layers(layers, stages * chunks)  # model stage s = chunk * stages + device
    plan = sched.schedule(schedule, stages, microbatches, chunks) if order is None else \
        sched.check_order(order, stages, microbatches, chunks)
    submit = sched.simulate(plan, chunks=chunks)  # a submission order that respects dependencies

    Stage = ray.remote(PipelineStage)
    # One node per stage on a real multi-node cluster (a placement group); a Ray actor that
    # asks for a GPU also reserves a CPU to be placed, so each bundle holds one of each.
    placed, release = spread_over_nodes(stages, {"CPU": 1, "GPU": num_gpus})
    actors = [Stage.options(num_gpus=num_gpus, **placed[d]).remote(d, stages, chunks, spec)
              for d in range(stages)]
    try:
        last = stages - 1
        ids = ray.get([a.load.remote({c: parts[c * stages + d] for c in range(chunks)}, optimizer,
                                     inputs if d == 0 else None, labels if d == last else None,
                                     batch, microbatches)
                       for d, a in enumerate(actors)])
        measure = course.simulated()
        before = sim.network_stats() if measure else None
        t0 = sim.now() if measure else 0.0

        refs: dict[tuple[int, sched.Op], Any] = {}
        losses = []
        for step in submit:
            d, op = step.device, step.op
            s = op.chunk * stages + d
            if op.kind == "F":
                prev = ((s - 1) % stages, sched.Op("F", op.microbatch, (s - 1) // stages))
                x = None if s == 0 else refs[prev]
                refs[(d, op)] = actors[d].forward.remote(op.chunk, op.microbatch, x)
                if s == stages * chunks - 1:
                    losses.append(refs[(d, op)])
            else:
                nxt = ((s + 1) % stages, sched.Op("B", op.microbatch, (s + 1) // stages))
                dy = None if s == stages * chunks - 1 else refs[nxt]
                refs[(d, op)] = actors[d].backward.remote(op.chunk, op.microbatch, dy)
        # Losses first: a forward that failed (out of memory) passes its error down the stages to
        # the loss, while the backward after it would only report the activations it never got.
        loss = float(sum(ray.get(losses)))
        firsts = [refs[(0, sched.Op("B", i, 0))] for i in range(microbatches)]
        ray.get(firsts)  # the pipeline has drained once every micro-batch's backward left stage 0
        after = sim.network_stats() if measure else None
        memory = ray.get([a.memory_summary.remote() for a in actors])
        by_device = ray.get([a.gradients.remote() for a in actors])
        grads = [g for c in range(stages * chunks) for layer in by_device[c % stages][c // stages]
                 for g in layer]
        flat = np.concatenate([g.ravel() for g in grads]) if grads else np.zeros(0)

        run = PipelineRun(schedule, stages, microbatches, chunks, loss, flat, memory)
        if measure:
            run.steps = _measured_steps(ray.timeline(), ids, plan, t0)
            start = min(s.start for s in run.steps)
            run.makespan = max(s.end for s in run.steps) - start
            run.bubble_fraction = sched.bubble_of(run.steps, stages)
            heads = {n for n in before if n == "head"}
            # Object transfers only: the calls' specs and replies are control messages, apart.
            moved = lambda s: s["bytes_received"] - s.get("control_bytes_received", 0)  # noqa: E731
            run.bytes_between_stages = sum(moved(after[n]) - moved(before[n]) for n in after if n not in heads)
    finally:  # a failed step (out of memory) must not leave the devices held
        _stop(actors, simulated=course.simulated())
        release()
    return run


def _stop(actors: list, simulated: bool) -> None:
    """Stop the stage actors. On real Ray each first exits by itself, so its worker reports
    its last steps to `ray.timeline()` (`ray.kill` would drop them), then any left is killed."""
    if not simulated:
        exits = [a.__ray_terminate__.remote() for a in actors]
        ray.wait(exits, num_returns=len(exits), timeout=60)
    for a in actors:
        ray.kill(a)


def _measured_steps(events: list[dict], actor_ids: list[str], plan: list[list[sched.Op]],
                    t0: float) -> list[sched.Step]:
    """The stages' forward/backward spans from `ray.timeline()`, paired with the schedule's ops.

    An actor runs its calls in submission order, so a device's k-th span is
    its k-th scheduled step.
    """
    device_of = {a: d for d, a in enumerate(actor_ids)}
    spans: list[list[tuple[float, float]]] = [[] for _ in plan]
    for e in events:
        d = device_of.get(e.get("args", {}).get("actor_id"))
        if d is None or e["ts"] < t0 * 1e6 - 1e-3:
            continue
        if e["name"].endswith(".forward") or e["name"].endswith(".backward"):
            spans[d].append((e["ts"] / 1e6, (e["ts"] + e["dur"]) / 1e6))
    steps = []
    for d, ops in enumerate(plan):
        if len(spans[d]) != len(ops):
            raise RuntimeError(f"timeline has {len(spans[d])} steps for device {d}, the schedule {len(ops)}")
        steps += [sched.Step(d, op, s, e) for op, (s, e) in zip(ops, sorted(spans[d]))]
    steps.sort(key=lambda s: (s.start, s.device))
    return steps
