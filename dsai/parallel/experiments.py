"""`dsai experiments`: the course's parallelism measurements, each figure beside its theory.

    dsai experiments [--json] [--only SECTION ...]
    dsai experiments --backend ray [--json]

Each section is one function, `run(progress) -> Section`, in a module of its
own; it starts the cluster it needs, measures on the simulator, and returns
rows whose measured columns sit beside their theory columns. It is
registered by ONE line in `SECTIONS` below ("name": "module:function"), and
the sections run in that order. `progress("...")` prints a line per
experiment on stderr. Without ``--json`` the command prints one table per
section; with it, one JSON object keyed by section name.

Exit status: 0 done; 2 bad arguments (an unknown section). The measurements
read the simulator's network counters and virtual clock: on real Ray
(``DSAI_BACKEND=ray``) the command says so and exits 2.

``--backend ray`` runs instead a smaller set of the same experiments on real
Ray (the cluster ``RAY_ADDRESS`` names, or a local one) and prints each beside
the simulator's prediction (`dsai.parallel.exp_ray`); exit 1 if a side failed.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from typing import Any

from dsai.parallel.report import Section
from dsai.sim.clocks import real_perf_counter  # "s wall" is what the run cost the machine

__all__ = ["SECTIONS", "run_sections", "main"]

# One line per section: name in the JSON output -> "module:function" returning a Section.
SECTIONS: dict[str, str] = {
    "training": "dsai.parallel.exp_training:run",
    "allreduce": "dsai.parallel.exp_allreduce:run",
    "pipeline": "dsai.parallel.exp_pipeline:run",
    "tensor": "dsai.parallel.exp_tensor:run",
    "memory": "dsai.parallel.exp_memory:run",
    "equivalence": "dsai.parallel.exp_mp_equivalence:run",  # exp_equivalence's + pipeline, tensor
}


def _progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def run_sections(names: list[str] | None = None, progress=_progress) -> list[Section]:
    """Run the named sections (all by default), in registry order."""
    wanted = list(SECTIONS) if not names else names
    unknown = [n for n in wanted if n not in SECTIONS]
    if unknown:
        raise KeyError(f"unknown section {unknown[0]!r}; sections: {', '.join(SECTIONS)}")
    out = []
    for name in SECTIONS:
        if name in wanted:
            module, func = SECTIONS[name].split(":")
            start = real_perf_counter()
            section = getattr(importlib.import_module(module), func)(progress)
            progress(f"[{name}] done in {real_perf_counter() - start:.1f} s wall")
            out.append(section)
    return out


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dsai experiments",
                                description="Measured parallelism experiments, each figure beside its theory.")
    p.add_argument("--json", action="store_true", help="print one JSON object keyed by section")
    p.add_argument("--only", nargs="+", metavar="SECTION",
                   help=f"run only these sections ({', '.join(SECTIONS)})")
    p.add_argument("--backend", choices=("sim", "ray"), default="sim",
                   help="ray: the same experiments on real Ray (RAY_ADDRESS's cluster or a local one) "
                        "beside the simulator's figures")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.backend == "ray":
        return _compare_with_ray(args)
    from dsai.parallel.placement import simulated

    if not simulated():
        print("dsai experiments: these measurements read the simulator's network counters and "
              "virtual clock; run without DSAI_BACKEND=ray", file=sys.stderr)
        return 2
    try:
        sections = run_sections(args.only)
    except KeyError as e:
        print(f"dsai experiments: {e.args[0]}", file=sys.stderr)
        return 2
    finally:
        from dsai import ray

        ray.shutdown()
    if args.json:
        result: dict[str, Any] = {s.name: s.data for s in sections}
        print(json.dumps(result, indent=1))
    else:
        print("\n\n".join(s.table() for s in sections))
    return 0


def _compare_with_ray(args: argparse.Namespace) -> int:
    from dsai.parallel.exp_ray import compare

    if args.only:
        print("dsai experiments: --only selects simulator sections; --backend ray runs its own set",
              file=sys.stderr)
        return 2
    try:
        sections = compare(_progress)
    except RuntimeError as e:
        print(f"dsai experiments: {e}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({s.name: s.data for s in sections}, indent=1))
    else:
        print("\n\n".join(s.table() for s in sections))
    return 0
