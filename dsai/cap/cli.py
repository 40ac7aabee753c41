"""`dsai cap-run`: one seeded run of the replicated store, its metrics and the checker's verdict.

    dsai cap-run --mode cp|cp-local-reads|ap-lww|ap-vv|dynamo --nodes N --seed S
                 --nemesis NAME --ops K [--history FILE] [--json]
                 [--workload cas-register|kv] [--keys K] [--clients C] [--n N --r R --w W]
                 [--check-timeout S]

``--json`` prints one JSON object: at least ``valid``, ``availability``,
``converged``, ``counts`` (op counts by function and outcome), ``lost_writes``
and ``msgs_per_op``. ``--history FILE`` writes the clients' history (JSON
Lines), which ``dsai check-history FILE --model cas-register`` checks again.

Exit status: 0 the run completed (whatever the verdict: a non-linearizable
ap run is the expected result, not an error); 2 bad arguments.
"""

from __future__ import annotations

import argparse
import json
import sys

from dsai.cap.config import MODES, WORKLOADS, CapConfig, CapConfigError
from dsai.cap.nemesis import NEMESES
from dsai.cap.run import run_config

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dsai cap-run",
                                description="One seeded run of the CAP toy store under a nemesis.")
    p.add_argument("--mode", default="cp", help=f"consistency mode: {', '.join(MODES)}")
    p.add_argument("--nodes", type=int, default=5, help="replicas (default 5)")
    p.add_argument("--seed", type=int, default=0, help="seed: same seed, byte-identical history")
    p.add_argument("--nemesis", default="none", help=f"faults: {', '.join(NEMESES)}")
    p.add_argument("--ops", type=int, default=100, help="operations in the run (default 100)")
    p.add_argument("--workload", default="cas-register", help=f"{' or '.join(WORKLOADS)}")
    p.add_argument("--keys", type=int, default=3, help="number of keys (default 3)")
    p.add_argument("--clients", type=int, default=None, help="client processes (default: one per node)")
    p.add_argument("--n", type=int, default=None, help="dynamo: replicas per key (default: nodes)")
    p.add_argument("--r", type=int, default=None, help="dynamo: read quorum (default: majority of n)")
    p.add_argument("--w", type=int, default=None, help="dynamo: write quorum (default: majority of n)")
    p.add_argument("--check-timeout", type=float, default=20.0, metavar="S",
                   help="wall-clock seconds for the linearizability checker (then valid is 'unknown')")
    p.add_argument("--history", metavar="FILE", help="write the history (JSON Lines) to FILE")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    return p


def _text(s: dict) -> str:
    verdict = {True: "linearizable", False: "NOT linearizable", "unknown": "unknown (checker timeout)"}[s["valid"]]
    sides = ", ".join(f"{k} {v:.2f}" for k, v in s["availability_by_side"].items() if v is not None)
    counts = "; ".join(f"{f}: " + " ".join(f"{k}={v}" for k, v in row.items()) for f, row in s["counts"].items())
    conv = f"{s['converge_time']:.3f} s after heal" if s["converged"] else "NOT converged"
    lines = [
        f"{s['mode']} on {s['nodes']} nodes, nemesis {s['nemesis']}, seed {s['seed']}: {verdict}",
        f"  availability {s['availability']:.2f} ({sides})",
        f"  ops {s['ops']} ({counts})",
        f"  stale reads {s['stale_reads']}, lost writes {s['lost_writes']} of {s['acked_writes']} acknowledged, "
        f"sibling reads {s['sibling_reads']}",
        f"  messages/op {s['msgs_per_op']:.1f} ({s['msgs_per_op_no_gossip']:.1f} without anti-entropy), "
        f"latency p50 {1000 * (s['latency']['p50'] or 0):.1f} ms p99 {1000 * (s['latency']['p99'] or 0):.1f} ms",
        f"  converged: {conv}; faults: {len(s['faults'])}",
    ]
    if s["valid"] is not True and s.get("explanation"):
        lines.append(f"  {s['explanation']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # argparse: 2 on bad usage, 0 on --help
        return int(exc.code or 0)
    try:
        cfg = CapConfig(mode=args.mode, nodes=args.nodes, seed=args.seed, nemesis=args.nemesis, ops=args.ops,
                        workload=args.workload, keys=args.keys, clients=args.clients, n=args.n, r=args.r, w=args.w,
                        check_timeout=args.check_timeout)
    except CapConfigError as exc:
        print(f"dsai cap-run: {exc}", file=sys.stderr)
        return 2
    result = run_config(cfg)
    if args.history:
        try:
            result.write_history(args.history)
        except OSError as exc:
            print(f"dsai cap-run: cannot write --history {args.history}: {exc.strerror or exc}", file=sys.stderr)
            return 2
    summary = result.summary()
    print(json.dumps(summary, ensure_ascii=False) if args.json else _text(summary))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
