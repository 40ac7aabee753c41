"""A differential fuzzer for the simulated runtime: seeded random Ray programs, each recorded as one trace.

A refactor of the runtime must not change what a program sees. Each seed
builds one random program (a cluster of 1-4 nodes; tasks with sleeps, small
and large results, arguments passed as refs, retries, errors, nested
get/wait; sync, threaded and async actors with restarts; cancels, kills,
worker and node faults fired from `sim.after`; wait loops over long lists;
big objects put on one node and read on another) and records, after every
driver step, what the step returned or raised, the virtual clock and
`available_resources()`, and at the end the network counters and
`ray.timeline()`. The trace is a JSON string; two versions of the runtime
are the same on a seed when their traces are equal byte for byte.

As a script it records traces into a file and compares later runs with it:

    python tests/mockray/fuzzer.py record /tmp/base.jsonl --seeds 400
    python tests/mockray/fuzzer.py compare /tmp/base.jsonl

`tests/mockray/test_fuzzer.py` runs a few seeds in `make test`.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import random
import sys
import time
from typing import Any, Callable

import numpy as np

import dsai.mockray as ray
import dsai.sim as sim
from dsai.mockray.runtime import runtime

BIG = 25_000  # float64s: 200 KB, above the 100 KB inline limit, so it lives in one node's store


def _payload(i: int, size: int) -> Any:
    return np.full(size, float(i)) if size else i


def _summary(x: Any) -> Any:
    """A JSON-able, exact description of a value a program got back."""
    if isinstance(x, np.ndarray):
        return ["array", list(x.shape), float(x.sum())]
    if isinstance(x, (list, tuple)):
        return [_summary(v) for v in x]
    if isinstance(x, ray.ObjectRef):
        return ["ref", x.hex()]
    if isinstance(x, (int, float, str, bool)) or x is None:
        return x
    return repr(x)


def _error(e: BaseException) -> list:
    """An error's type, cause and message, without traceback lines (they name this file's lines)."""
    cause = getattr(e, "cause", None)
    text = "\n".join(ln for ln in str(e).splitlines() if ln and not ln[0].isspace())
    return ["error", type(e).__name__, type(cause).__name__ if cause is not None else None, text]


def _scalar(x: Any) -> float:
    return float(x.sum()) if isinstance(x, np.ndarray) else float(x)


# -- the remote functions and actors the programs use -------------------------------------
@ray.remote
def leaf(i, dur, size):
    time.sleep(dur)
    return _payload(i, size)


@ray.remote
def combine(*xs):
    time.sleep(0.1)
    total = sum(_scalar(x) for x in xs)
    if any(isinstance(x, np.ndarray) for x in xs):
        return np.full(BIG, total)
    return total


@ray.remote
def flaky(i, dur):
    time.sleep(dur)
    raise ValueError(f"flaky {i}")


@ray.remote
def nested(i, k, dur, size):
    refs = [leaf.remote(i * 10 + j, dur * (j % 3), size if j % 2 else 0) for j in range(k)]
    ready, rest = ray.wait(refs, num_returns=max(1, k // 2))
    total = sum(_scalar(x) for x in ray.get(ready))
    return total + sum(_scalar(x) for x in ray.get(rest))


@ray.remote
def pair(i):
    time.sleep(0.2)
    return i, _payload(i, BIG if i % 2 else 0)


@ray.remote
def holder(refs, dur):
    time.sleep(dur)
    return sum(_scalar(x) for x in ray.get(refs))


@ray.remote
class Counter:
    def __init__(self, start):
        self.n = start

    def inc(self, dur, x=1):
        time.sleep(dur)
        self.n += x
        return self.n

    def fail(self):
        raise ValueError(f"counter at {self.n}")

    def fan(self, k):
        return sum(ray.get([leaf.remote(j, 0.05 * j, 0) for j in range(k)]))

    def big(self, i):
        time.sleep(0.1)
        return np.full(BIG, float(i + self.n))


@ray.remote
class AsyncWorker:
    def __init__(self):
        self.calls = 0

    async def work(self, dur, i):
        self.calls += 1
        await asyncio.sleep(dur)
        return i * 2

    async def follow(self, refs):
        x = await refs[0]
        return _scalar(x) + self.calls

    async def both(self, dur):
        a, b = await asyncio.gather(leaf.remote(1, dur, 0), leaf.remote(2, dur / 2, 0))
        return a + b


# -- one program ------------------------------------------------------------------------------------
class Program:
    """One seeded random program; `run()` returns its trace."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.trace: list[Any] = []
        self.extra: list[str] = []  # names of the nodes besides the head
        self.actors: list[Any] = []

    # recording
    def record(self, label: str, fn: Callable[[], Any]) -> Any:
        try:
            out = _summary(fn())
        except Exception as e:  # (a Ray error: part of the behaviour being compared)
            out = _error(e)
        self.trace.append([label, out, sim.now(), ray.available_resources()])
        return out

    def get_each(self, label: str, refs: list) -> None:
        for k, r in enumerate(refs):
            self.record(f"{label}[{k}]", lambda r=r: ray.get(r))

    def fault_later(self) -> None:
        """Maybe schedule a node fault (never the head: the driver lives there)."""
        rng = self.rng
        if not self.extra or rng.random() < 0.5:
            return
        name = rng.choice(self.extra)
        t = rng.choice([0.0, 0.05, 0.15, 0.3, 0.7])
        sim.after(t, sim.kill_node, name)
        if rng.random() < 0.6:
            sim.after(t + rng.choice([0.1, 0.5, 1.0]), sim.restart_node, name)
        self.trace.append(["fault", name, t])

    def task_options(self) -> dict:
        rng = self.rng
        o: dict[str, Any] = {}
        c = rng.random()
        if c < 0.15:
            o["num_cpus"] = 0.5
        elif c < 0.25:
            o["num_cpus"] = 2
        elif c < 0.3:
            o["num_cpus"] = 0
        if rng.random() < 0.2:
            o["scheduling_strategy"] = "SPREAD"
        if self.extra and rng.random() < 0.1:
            o["resources"] = {f"r{rng.randint(0, len(self.extra))}": 1}
        if rng.random() < 0.2:
            o["max_retries"] = rng.choice([0, 1, 3])
        return o

    # steps
    def step_fanout(self, i: int) -> None:
        rng = self.rng
        f = leaf.options(**self.task_options())
        n = rng.randint(1, 12)
        refs = [f.remote(j, rng.choice([0.0, 0.1, 0.25, 1.0]), rng.choice([0, 0, 0, BIG])) for j in range(n)]
        self.fault_later()
        if rng.random() < 0.5:
            self.record(f"fanout{i}", lambda: ray.get(refs))
        else:
            self.get_each(f"fanout{i}", refs)

    def step_chain(self, i: int) -> None:
        rng = self.rng
        ref = leaf.remote(1, 0.1, rng.choice([0, BIG]))
        for j in range(rng.randint(1, 5)):
            other = leaf.options(**self.task_options()).remote(j, 0.05, rng.choice([0, BIG]))
            ref = combine.options(**self.task_options()).remote(ref, other)
        self.fault_later()
        self.record(f"chain{i}", lambda: ray.get(ref))

    def step_wait_loop(self, i: int) -> None:
        rng = self.rng
        n = rng.choice([5, 20, 40, 70])
        size = rng.choice([0, 0, BIG])
        refs = [leaf.options(**self.task_options()).remote(j, rng.choice([0.0, 0.05, 0.3]), size if j % 3 == 0 else 0)
                for j in range(n)]
        self.fault_later()
        k, timeout = rng.choice([1, 1, 2, 5]), rng.choice([None, None, 0, 0.2])
        fetch_local = rng.random() < 0.8
        pending, rounds, taken = refs, [], 0
        while pending and len(rounds) < 400:
            try:
                ready, pending = ray.wait(pending, num_returns=min(k, len(pending)), timeout=timeout,
                                          fetch_local=fetch_local)
            except Exception as e:
                rounds.append(_error(e))
                break
            rounds.append([len(ready), sim.now()])
            if ready and rng.random() < 0.3:
                try:
                    taken += len(ray.get(ready))
                except Exception as e:
                    rounds.append(_error(e))
            if rng.random() < 0.05 and len(pending) > 2:
                pending = pending[::-1]  # a changed list: the long way again
        self.trace.append([f"waitloop{i}", rounds, taken, sim.now(), ray.available_resources()])

    def step_actor(self, i: int) -> None:
        rng = self.rng
        opts: dict[str, Any] = {"max_restarts": rng.choice([0, 0, 1, 2]),
                                "max_task_retries": rng.choice([0, 0, 1, -1]),
                                "num_cpus": rng.choice([0, 0.5, 1, 1])}
        if rng.random() < 0.3:
            opts["max_concurrency"] = rng.choice([2, 3])
        if rng.random() < 0.3:
            opts["scheduling_strategy"] = "SPREAD"
        a = Counter.options(**opts).remote(rng.randint(0, 5))
        self.actors.append(a)
        refs = []
        for j in range(rng.randint(1, 10)):
            c = rng.random()
            if c < 0.6:
                refs.append(a.inc.remote(rng.choice([0.0, 0.1, 0.3]), j))
            elif c < 0.7:
                refs.append(a.fail.remote())
            elif c < 0.85:
                refs.append(a.fan.remote(rng.randint(1, 4)))
            else:
                refs.append(a.big.remote(j))
        c = rng.random()
        t = rng.choice([0.0, 0.05, 0.2, 0.5])
        if c < 0.15:
            sim.after(t, ray.kill, a)
            self.trace.append(["kill", t])
        elif c < 0.3:
            sim.after(t, lambda: ray.kill(a, no_restart=False))
            self.trace.append(["kill-restart", t])
        elif c < 0.45:
            sim.after(t, sim.kill_worker, a)
            self.trace.append(["kill-worker", t])
        self.fault_later()
        if rng.random() < 0.5:
            self.get_each(f"actor{i}", refs)
        else:
            self.record(f"actor{i}", lambda: ray.get(refs))

    def step_async_actor(self, i: int) -> None:
        rng = self.rng
        opts: dict[str, Any] = {"max_restarts": rng.choice([0, 1])}
        if rng.random() < 0.3:
            opts["max_concurrency"] = rng.choice([1, 2, 4])
        a = AsyncWorker.options(**opts).remote()
        self.actors.append(a)
        refs = []
        for j in range(rng.randint(1, 10)):
            c = rng.random()
            if c < 0.6:
                refs.append(a.work.remote(rng.choice([0.0, 0.1, 0.4]), j))
            elif c < 0.8:
                refs.append(a.follow.remote([leaf.remote(j, 0.2, rng.choice([0, BIG]))]))
            else:
                refs.append(a.both.remote(rng.choice([0.1, 0.3])))
        if rng.random() < 0.2:
            sim.after(rng.choice([0.05, 0.25]), sim.kill_worker, a)
            self.trace.append(["kill-worker-async"])
        self.fault_later()
        self.get_each(f"async{i}", refs)

    def step_flaky(self, i: int) -> None:
        rng = self.rng
        refs = [flaky.options(max_retries=rng.choice([0, 1, 2]), retry_exceptions=rng.random() < 0.6)
                .remote(j, rng.choice([0.0, 0.1])) for j in range(rng.randint(1, 4))]
        refs.append(combine.remote(refs[0], 1))  # a dependency that failed
        self.get_each(f"flaky{i}", refs)

    def step_nested(self, i: int) -> None:
        rng = self.rng
        refs = [nested.options(**self.task_options()).remote(j, rng.randint(1, 5), rng.choice([0.05, 0.2]),
                                                             rng.choice([0, BIG]))
                for j in range(rng.randint(1, 6))]
        self.fault_later()
        self.record(f"nested{i}", lambda: ray.get(refs))

    def step_cancel(self, i: int) -> None:
        rng = self.rng
        refs = [leaf.options(**self.task_options()).remote(j, rng.choice([0.5, 2.0]), 0)
                for j in range(rng.randint(2, 8))]
        force = rng.random() < 0.3
        for r in refs:
            c = rng.random()
            if c < 0.3:
                ray.cancel(r, force=force)
            elif c < 0.6:
                sim.after(rng.choice([0.0, 0.1, 0.6]), lambda r=r: ray.cancel(r, force=force))
        if self.actors and rng.random() < 0.5:
            a = rng.choice(self.actors)
            call = a.inc.remote(0.5) if "inc" in a._methods else a.work.remote(0.5, 1)
            sim.after(rng.choice([0.0, 0.2]), lambda: ray.cancel(call))
            refs.append(call)
        self.get_each(f"cancel{i}", refs)

    def step_put(self, i: int) -> None:
        rng = self.rng
        big = ray.put(np.full(BIG, float(i)))
        small = ray.put(i)
        refs = [holder.options(scheduling_strategy="SPREAD").remote([big, small], rng.choice([0.0, 0.1]))
                for _ in range(rng.randint(1, 5))]
        refs.append(combine.options(scheduling_strategy="SPREAD").remote(big, small))
        self.fault_later()
        self.record(f"put{i}", lambda: ray.get(refs))
        self.record(f"put{i}-again", lambda: ray.get(big))

    def step_timeout(self, i: int) -> None:
        rng = self.rng
        ref = leaf.remote(i, rng.choice([0.5, 3.0]), rng.choice([0, BIG]))
        self.record(f"timeout{i}", lambda: ray.get(ref, timeout=rng.choice([0, 0.3, 1.0])))
        self.record(f"timeout{i}-wait", lambda: len(ray.wait([ref], timeout=0.2)[0]))
        self.record(f"timeout{i}-late", lambda: ray.get(ref))

    def step_returns(self, i: int) -> None:
        rng = self.rng
        refs = [pair.options(num_returns=2, **self.task_options()).remote(j) for j in range(rng.randint(1, 4))]
        flat = [r for two in refs for r in two]
        self.fault_later()
        self.record(f"returns{i}", lambda: ray.get(flat))

    def step_kill_task_worker(self, i: int) -> None:
        rng = self.rng
        refs = [leaf.options(max_retries=rng.choice([0, 1])).remote(j, 0.4, 0) for j in range(rng.randint(1, 4))]

        def kill(r):
            try:
                sim.kill_worker(r)
            except ValueError:
                pass  # finished already

        for r in refs:
            if rng.random() < 0.5:
                sim.after(rng.choice([0.1, 0.3]), kill, r)
        self.get_each(f"killtask{i}", refs)

    STEPS = ["fanout", "chain", "wait_loop", "actor", "async_actor", "flaky", "nested", "cancel",
             "put", "timeout", "returns", "kill_task_worker"]

    def run(self) -> str:
        rng = self.rng
        ray.shutdown()
        network = rng.choice([None, {"jitter": 0.01}, {"bandwidth": 1e7}, {"latency": 0.002}])
        ray.init(num_cpus=rng.choice([1, 2, 4]), resources={"r0": 2}, seed=self.seed, network=network)
        rt = runtime()
        for k in range(rng.choice([0, 1, 1, 2, 3])):
            rt.add_node(rng.choice([1, 2, 4]), resources={f"r{k + 1}": 2})
            self.extra.append(f"node-{k + 1}")
        self.trace.append(["start", sim.now(), ray.available_resources()])
        try:
            for i in range(rng.randint(3, 8)):
                step = rng.choice(self.STEPS)
                try:
                    getattr(self, "step_" + step)(i)
                except Exception as e:  # a step's own driver call raised: recorded, the program goes on
                    self.trace.append([step, i, _error(e), sim.now()])
            for a in self.actors:
                ray.kill(a)
            self.record("end", lambda: len(ray.wait([leaf.remote(0, 0.0, 0)])[0]))
            self.trace.append(["network", sim.network_stats()])
            self.trace.append(["timeline", ray.timeline()])
        finally:
            ray.shutdown()
        return json.dumps(self.trace, sort_keys=True, default=repr)


def trace(seed: int) -> str:
    return Program(seed).run()


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("mode", choices=["record", "compare", "show"])
    p.add_argument("file", help="JSON Lines: one {seed, sha256, trace} per line")
    p.add_argument("--seeds", type=int, default=400, help="seeds 0..N-1 (record)")
    p.add_argument("--start", type=int, default=0)
    args = p.parse_args(argv)
    if args.mode == "record":
        t0 = time.perf_counter()
        with open(args.file, "w") as f:
            for seed in range(args.start, args.start + args.seeds):
                text = trace(seed)
                f.write(json.dumps({"seed": seed, "sha256": digest(text), "trace": text}) + "\n")
        print(f"recorded {args.seeds} seeds in {time.perf_counter() - t0:.1f} s to {args.file}")
        return 0
    rows = [json.loads(line) for line in open(args.file)]
    if args.mode == "show":
        for r in rows:
            print(r["seed"], r["sha256"][:16], len(r["trace"]))
        return 0
    bad = []
    t0 = time.perf_counter()
    for r in rows:
        text = trace(r["seed"])
        if text != r["trace"]:
            bad.append(r["seed"])
            old, new = json.loads(r["trace"]), json.loads(text)
            first = next((k for k, (a, b) in enumerate(zip(old, new)) if a != b), min(len(old), len(new)))
            print(f"seed {r['seed']}: differs from entry {first}:\n  was {json.dumps(old[first:first + 1])[:600]}"
                  f"\n  now {json.dumps(new[first:first + 1])[:600]}")
    print(f"{len(rows) - len(bad)} of {len(rows)} seeds byte-identical ({time.perf_counter() - t0:.1f} s)"
          + (f"; differing: {bad}" if bad else ""))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
