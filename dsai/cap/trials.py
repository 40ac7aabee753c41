"""Many seeded runs of one store, summed: a claim about a mode or a read rule rests on more than one run.

One run can be lucky: a partition may cut no leader off, a stale replica may
never be asked. Jepsen repeats a test under many schedules; `trials` does the
same over seeds, cluster sizes and kinds of faults, and sums what the
checker and the metrics found:

    t = trials(seeds=range(5), nodes=(3, 5), nemeses=("partition",), mode="cp")
    t.not_linearizable, t.stale_reads, t.majority_availability
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from dsai.cap.cp import ReadRule
from dsai.cap.run import run

__all__ = ["Trials", "trials"]


@dataclass
class Trials:
    """What many runs found: counts summed, availabilities averaged over the runs that had such clients."""

    runs: int
    not_linearizable: list[dict[str, Any]] = field(default_factory=list)  # one row per rejected run
    unknown: int = 0  # runs the checker could not decide in its time budget
    stale_reads: int = 0
    lost_writes: int = 0
    availability: float = 0.0  # mean over runs: answered / all operations
    majority_availability: float | None = None  # mean over runs with clients on a majority side
    minority_availability: float | None = None  # mean over runs with clients on a minority side

    def __repr__(self) -> str:
        def pct(x: float | None) -> str:
            return "-" if x is None else f"{100 * x:.0f}%"

        return (f"<Trials {self.runs} runs: {len(self.not_linearizable)} not linearizable, "
                f"{self.stale_reads} stale reads, {self.lost_writes} lost writes, availability "
                f"{pct(self.availability)} (majority side {pct(self.majority_availability)}, "
                f"minority side {pct(self.minority_availability)})>")

    @property
    def first_violation(self) -> str | None:
        """The first rejected run and the checker's reason, in one line (None if every run passed)."""
        if not self.not_linearizable:
            return None
        v = self.not_linearizable[0]
        return f"nodes={v['nodes']} nemesis={v['nemesis']}: {v['explanation']}"


def _mean(xs: list[float]) -> float | None:
    return round(sum(xs) / len(xs), 4) if xs else None


def trials(seeds: Iterable[int], nodes: Iterable[int] = (5,), nemeses: Iterable[str] = ("partition",),
           mode: str = "cp", ops: int = 100, read_rule: ReadRule | None = None, **settings: Any) -> Trials:
    """Run `mode` once per (nemesis, node count, seed) and sum the checker's verdicts and the metrics."""
    seeds, nodes, nemeses = list(seeds), list(nodes), list(nemeses)
    out = Trials(runs=0)
    avail: list[float] = []
    side: dict[str, list[float]] = {"majority": [], "minority": []}
    for nemesis in nemeses:
        for n in nodes:
            for seed in seeds:
                r = run(mode=mode, nodes=n, seed=seed, nemesis=nemesis, ops=ops, read_rule=read_rule, **settings)
                m = r.metrics
                out.runs += 1
                if r.valid is False:
                    out.not_linearizable.append({"nodes": n, "nemesis": nemesis, "seed": seed,
                                                 "explanation": r.verdict.explanation})
                elif r.valid == "unknown":
                    out.unknown += 1
                out.stale_reads += m["stale_reads"]
                out.lost_writes += m["lost_writes"]
                avail.append(m["availability"])
                for s in side:
                    if m["availability_by_side"][s] is not None:
                        side[s].append(m["availability_by_side"][s])
    out.availability = _mean(avail) or 0.0
    out.majority_availability = _mean(side["majority"])
    out.minority_availability = _mean(side["minority"])
    return out
