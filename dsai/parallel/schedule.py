"""Pipeline schedules as data: which forward and backward step each device runs, in what order.

A pipeline of `p` devices splits a batch into `m` micro-batches; a schedule
is, for each device, the ordered list of its steps `Op("F"|"B", microbatch,
chunk)`. The order decides how long devices wait for each other (the
*bubble*) and how many micro-batches' activations a device stores at once:

- naive: one micro-batch goes all the way forward and back before the next.
- gpipe: all forwards, then all backwards (GPipe, Huang et al. 2019); stores m.
- 1f1b: after p - d - 1 warm-up forwards, device d alternates one forward and
  one backward (PipeDream-Flush, Narayanan et al. 2021); stores at most p - d.
- interleaved: each device holds v model chunks (device d has stages d,
  d + p, ...), and runs 1F1B over them (Megatron-LM, Narayanan et al. 2021),
  shrinking the bubble v times at the cost of v times more messages.

`simulate(ops, ...)` runs a schedule on paper (steps of fixed length, no
network) and `theory_bubble` / `megatron_bubble` give the formulas; the
measured bubble comes from `dsai.parallel.pipeline`, which runs the schedule
on actors.
"""

from __future__ import annotations

from typing import NamedTuple

from dsai.errors import ParallelConfigError

__all__ = ["Op", "SCHEDULES", "schedule", "check_layout", "check_order", "dependencies", "simulate", "Step",
           "bubble_of", "theory_bubble", "megatron_bubble", "theory_peak_activations"]

SCHEDULES = ("naive", "gpipe", "1f1b", "interleaved")


class Op(NamedTuple):
    """One step of one device: forward or backward of `microbatch` through model chunk `chunk`."""

    kind: str  # "F" or "B"
    microbatch: int
    chunk: int = 0

    def __repr__(self) -> str:
        return f"{self.kind}{self.microbatch}" + (f".{self.chunk}" if self.chunk else "")


def check_layout(name: str, stages: int, microbatches: int, chunks: int = 1) -> None:
    """Raise ParallelConfigError naming the bad value and the fix, if the layout cannot run."""
    if name not in SCHEDULES:
        raise ParallelConfigError(f"unknown schedule {name!r}; choose one of {', '.join(SCHEDULES)}")
    for what, value in (("stages", stages), ("microbatches", microbatches), ("chunks", chunks)):
        if not isinstance(value, int) or value < 1:
            raise ParallelConfigError(f"{what} must be a whole number >= 1, got {value!r}")
    if name == "interleaved":
        if chunks < 2:
            raise ParallelConfigError(f"interleaved 1F1B needs chunks >= 2 model chunks per device, "
                                      f"got chunks={chunks}; use schedule '1f1b' for one chunk")
        if microbatches % stages:
            raise ParallelConfigError(f"interleaved 1F1B sends micro-batches in groups of the {stages} "
                                      f"stages: microbatches={microbatches} is not a multiple of "
                                      f"{stages}; use {stages * max(1, microbatches // stages)}")
    elif chunks != 1:
        raise ParallelConfigError(f"schedule {name!r} runs one model chunk per device, got "
                                  f"chunks={chunks}; use schedule 'interleaved' for several")


def schedule(name: str, stages: int, microbatches: int, chunks: int = 1) -> list[list[Op]]:
    """Each device's steps in the order it runs them (device 0 first)."""
    check_layout(name, stages, microbatches, chunks)
    p, m, v = stages, microbatches, chunks
    out: list[list[Op]] = []
    for d in range(p):
        if name == "naive":
            ops = [op for i in range(m) for op in (Op("F", i), Op("B", i))]
        elif name == "gpipe":
            ops = [Op("F", i) for i in range(m)] + [Op("B", i) for i in range(m)]
        elif name == "1f1b":
            ops = _one_f_one_b(m, warmup=min(p - d - 1, m),
                               fwd=lambda k: Op("F", k), bwd=lambda k: Op("B", k))
        else:
            # Megatron's order: micro-batches go round in groups of p, chunk by chunk
            # forward (0, 1, ..., v-1) and in reverse backward.
            def mb(k: int) -> int:
                return (k // (p * v)) * p + k % p

            ops = _one_f_one_b(m * v, warmup=min((p - d - 1) * 2 + (v - 1) * p, m * v),
                               fwd=lambda k: Op("F", mb(k), (k // p) % v),
                               bwd=lambda k: Op("B", mb(k), v - 1 - (k // p) % v))
        out.append(ops)
    return out


def _one_f_one_b(n: int, warmup: int, fwd, bwd) -> list[Op]:
    ops = [fwd(k) for k in range(warmup)]
    for k in range(n - warmup):  # steady state: one forward, one backward
        ops += [fwd(warmup + k), bwd(k)]
    ops += [bwd(k) for k in range(n - warmup, n)]  # cool-down
    return ops


def check_order(order: list[list], stages: int, microbatches: int, chunks: int = 1) -> list[list[Op]]:
    """A hand-written schedule as `Op`s, if every device runs each of its steps exactly once."""
    if len(order) != stages:
        raise ParallelConfigError(f"the order lists {len(order)} devices, the pipeline has {stages}: "
                                  "give one list of steps per device")
    want = sorted(Op(k, i, c) for k in "FB" for i in range(microbatches) for c in range(chunks))
    out = []
    for d, steps in enumerate(order):
        ops = []
        for step in steps:
            kind, mb, *rest = tuple(step)
            ops.append(Op(str(kind).upper(), int(mb), int(rest[0]) if rest else 0))
        if sorted(ops) != want:
            missing = sorted(set(want) - set(ops))
            extra = sorted(op for op in set(ops) if ops.count(op) > 1 or op not in want)
            raise ParallelConfigError(
                f"device {d} must run each forward and each backward of micro-batches 0..{microbatches - 1} "
                f"exactly once; missing {missing[:4]}, repeated or unknown {extra[:4]}")
        out.append(ops)
    return out


def dependencies(op: Op, device: int, stages: int, chunks: int) -> list[tuple[int, Op]]:
    """The (device, op) steps that must finish before `op` on `device` can start.

    Model stage s = chunk * stages + device: a forward needs the previous
    stage's forward, a backward the next stage's backward (the last stage's
    backward starts from its own forward's loss).
    """
    s = op.chunk * stages + device
    last = stages * chunks - 1
    if op.kind == "F":
        if s == 0:
            return []
        prev = s - 1
        return [(prev % stages, Op("F", op.microbatch, prev // stages))]
    deps = [(device, Op("F", op.microbatch, op.chunk))]
    if s < last:
        nxt = s + 1
        deps.append((nxt % stages, Op("B", op.microbatch, nxt // stages)))
    return deps


class Step(NamedTuple):
    device: int
    op: Op
    start: float
    end: float


def simulate(ops: list[list[Op]], forward_time: float = 1.0, backward_time: float = 2.0,
             chunks: int = 1) -> list[Step]:
    """Run a schedule on paper: each device runs its steps in order, each as soon as its inputs exist.

    A chunk's steps take `forward_time / chunks` and `backward_time / chunks`
    (a device's layers are shared among its chunks). Returns every step with
    its start and end, sorted by start (a valid order to submit them in).
    """
    p = len(ops)
    done: dict[tuple[int, Op], float] = {}
    free = [0.0] * p
    nxt = [0] * p
    steps: list[Step] = []
    remaining = sum(len(o) for o in ops)
    while remaining:
        progressed = False
        for d in range(p):
            while nxt[d] < len(ops[d]):
                op = ops[d][nxt[d]]
                deps = dependencies(op, d, p, chunks)
                if any(dep not in done for dep in deps):
                    break
                start = max([free[d]] + [done[dep] for dep in deps])
                end = start + (forward_time if op.kind == "F" else backward_time) / chunks
                done[(d, op)] = free[d] = end
                steps.append(Step(d, op, start, end))
                nxt[d] += 1
                remaining -= 1
                progressed = True
        if not progressed:
            stuck = {d: ops[d][nxt[d]] for d in range(p) if nxt[d] < len(ops[d])}
            raise ParallelConfigError(f"this schedule deadlocks: every device waits for another "
                                      f"(next steps {stuck}); a backward must come after its forward, "
                                      "and each device's order must respect the other devices'")
    steps.sort(key=lambda s: (s.start, s.device))
    return steps


def bubble_of(steps: list[Step], devices: int) -> float:
    """Idle device-time over devices x makespan, for steps with start/end times."""
    start = min(s.start for s in steps)
    makespan = max(s.end for s in steps) - start
    busy = sum(s.end - s.start for s in steps)
    return 1.0 - busy / (devices * makespan)


def theory_bubble(name: str, stages: int, microbatches: int, chunks: int = 1) -> float:
    """Idle fraction of devices x makespan for balanced stages (GPipe's normalisation).

    (p - 1) / (m + p - 1) for GPipe and 1F1B; (p - 1) / p for naive (each
    micro-batch alone); ((p - 1)/v) / (m + (p - 1)/v) interleaved.
    """
    check_layout(name, stages, microbatches, chunks)
    p, m, v = stages, microbatches, chunks
    if name == "naive":
        return (p - 1) / p
    fill = (p - 1) / v
    return fill / (m + fill)


def megatron_bubble(name: str, stages: int, microbatches: int, chunks: int = 1) -> float:
    """Bubble time over ideal time (Megatron-LM 2021's normalisation): (p-1)/m, (1/v)(p-1)/m."""
    check_layout(name, stages, microbatches, chunks)
    p, m, v = stages, microbatches, chunks
    if name == "naive":
        return float(p - 1)
    return (p - 1) / (v * m)


def theory_peak_activations(name: str, stages: int, microbatches: int, chunks: int = 1) -> list[int]:
    """Most micro-batch x chunk activation sets each device stores at once, by the schedule's rule."""
    check_layout(name, stages, microbatches, chunks)
    p, m, v = stages, microbatches, chunks
    if name == "naive":
        return [1] * p
    if name == "gpipe":
        return [m] * p
    if name == "1f1b":
        return [min(p - d, m) for d in range(p)]
    return [min((p - d - 1) * 2 + (v - 1) * p + 1, m * v) for d in range(p)]

