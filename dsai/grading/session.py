"""A grading session seen from the grader: a fenced process, deadlines, bounded reading.

The grader's side of `dsai.grading.harness`, with the failure detector a
coordinator keeps for a worker it cannot trust: every cell has a deadline,
the whole submission a budget, and the channel a byte cap. A session that
misses a deadline, dies, or floods the channel is killed (with its sandbox:
every process it started ends with it) and reported as such; it can never
block the grader, whose memory per session stays below ``MAX_BYTES`` plus a
line.

Trust: before the test's hidden lines are sent, a record's text may be shown
to the student (it came from a visible line); after they are sent, only the
verdict's fixed words are believed (passed or failed, a builtin exception
name, a number for partial credit), so nothing the student's code writes can
carry hidden text out.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import json
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from dsai.grading import cgroup
from dsai.grading import sandbox as S

__all__ = ["Outcome", "run_session", "MAX_BYTES"]

MAX_BYTES = 4 * 2**20   # what one session may send the grader
MAX_LINE = 2**18        # longest record
GRACE = 10.0            # extra seconds for a cell the session guards itself (a checkpoint)
_SAFE_NAMES = {n for n, v in vars(builtins).items()
               if isinstance(v, type) and issubclass(v, BaseException)} | {"CheckFailed"}


@dataclass
class Outcome:
    """What one session reported.

    ``records``: cell index -> {"status", "ename", "evalue"} for cells that ran;
    ``verdict``: the judged test's {"verdict", "ename", "evalue", "line", "value"};
    ``stopped``: "" (finished), "timeout" (a cell passed its deadline), "budget"
    (the submission's time ran out), "died" (the process ended early) or "flood";
    ``at``: the cell running when it stopped.
    """

    records: dict[int, dict] = field(default_factory=dict)
    verdict: dict | None = None
    stopped: str = ""
    at: int | None = None
    seconds: float = 0.0

    def __repr__(self) -> str:
        how = f"stopped={self.stopped} at {self.at}" if self.stopped else "finished"
        return f"Outcome({len(self.records)} cells, verdict={self.verdict}, {how})"


def _clean_verdict(rec: dict, trusted_text: bool) -> dict:
    verdict = "ok" if rec.get("verdict") == "ok" else "error"
    ename = str(rec.get("ename") or "")[:100]
    out: dict = {"verdict": verdict}
    if verdict == "ok":
        value = rec.get("value")
        out["value"] = value[:100] if isinstance(value, str) else None
        return out
    if trusted_text and isinstance(rec.get("line"), int):
        out.update(ename=ename, evalue=str(rec.get("evalue") or "")[:2000], line=rec["line"])
    else:
        out["ename"] = ename if ename in _SAFE_NAMES else ""
    return out


async def _kill(proc: asyncio.subprocess.Process) -> None:
    # start_new_session: the session is its own process group; in the sandbox, bwrap's
    # --die-with-parent and PID namespace take down everything else it started.
    # (Not proc.kill(): Popen.send_signal polls first, reaping the child behind the
    # back of asyncio's child watcher.)
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
    try:
        await asyncio.wait_for(proc.wait(), 30)
    except asyncio.TimeoutError:  # pragma: no cover - a process SIGKILL cannot end
        pass


async def run_session(job: dict, hidden: str, scratch: Path, *, sandboxed: bool,
                      timeout: float, deadline: float, limits: S.Limits) -> Outcome:
    """Run one harness session on ``job``; ``deadline`` is a time.monotonic() value."""
    out = Outcome()
    start = time.monotonic()
    if sandboxed:
        prefix, fds = S.bwrap_command(scratch, limits)
        env, cwd = S.session_env(S.HOME, "/tmp"), None
        job = dict(job, copy_from=S.FILES)
    else:
        prefix, fds = [], []
        env, cwd = S.session_env(str(scratch / ".home"), str(scratch / ".tmp")), str(scratch)
        (scratch / ".home").mkdir(exist_ok=True)
        (scratch / ".tmp").mkdir(exist_ok=True)
    job = dict(job, timeout=timeout)
    # -c, not -m: the harness must be the module dsai.grading.harness (in sys.modules,
    # guarded like every library), not __main__, which IPython hands to the notebook.
    cmd = prefix + [sys.executable, "-I", "-c", "from dsai.grading.harness import main; main()"]
    fence = cgroup.Fence(limits.session_memory_mb, limits.processes) \
        if cgroup.available() else None
    rlimits = S.preexec(limits)

    def enter() -> None:  # in the child, before exec: everything it starts stays fenced
        if fence is not None:
            fence.enter()
        rlimits()
    try:
        proc = await asyncio.create_subprocess_exec(
            *cmd, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL, cwd=cwd, env=env, pass_fds=fds,
            start_new_session=True, preexec_fn=enter, limit=MAX_LINE)
    except BaseException:
        if fence is not None:
            fence.close()
        raise
    finally:
        for fd in fds:
            os.close(fd)
    assert proc.stdin is not None and proc.stdout is not None
    received, hidden_sent, current, cell_start = 0, False, None, time.monotonic()
    try:
        proc.stdin.write((json.dumps(job) + "\n").encode())
        await proc.stdin.drain()
        while True:
            now = time.monotonic()
            wait = deadline - now
            cell_left = cell_start + timeout - now if current is not None else None
            if cell_left is not None and cell_left < wait:
                wait, why = cell_left, "timeout"
            else:
                why = "budget"
            try:
                line = await asyncio.wait_for(proc.stdout.readline(), max(wait, 0.01))
            except asyncio.TimeoutError:
                out.stopped, out.at = why, current
                break
            except (ValueError, asyncio.LimitOverrunError):
                out.stopped, out.at = "flood", current
                break
            received += len(line)
            if received > MAX_BYTES:
                out.stopped, out.at = "flood", current
                break
            if not line:
                out.stopped, out.at = "died", current
                break
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if not isinstance(rec, dict):
                continue
            if hidden_sent:  # from here on, only the verdict's fixed words count
                if "verdict" in rec:
                    out.verdict = _clean_verdict(rec, trusted_text=False)
                    break
                continue
            if "start" in rec and isinstance(rec["start"], int):
                current, cell_start = rec["start"], time.monotonic()
                # A guarded cell is stopped by the session at `timeout`; this deadline
                # is the backstop, should the checkpoint itself be stopped.
                cell_start += GRACE if rec.get("guarded") else 0.0
            elif "want_hidden" in rec:
                if rec["want_hidden"] == job.get("test"):
                    hidden_sent = True
                    proc.stdin.write((json.dumps({"hidden": hidden}) + "\n").encode())
                    await proc.stdin.drain()
            elif "verdict" in rec:
                if rec.get("i") == job.get("test"):
                    out.verdict = _clean_verdict(rec, trusted_text=True)
                    break
            elif "i" in rec and isinstance(rec["i"], int):
                status = rec.get("status")
                out.records[rec["i"]] = {"status": status if status in ("ok", "timeout", "died")
                                         else "error",
                                         "ename": str(rec.get("ename") or "")[:100],
                                         "evalue": str(rec.get("evalue") or "")[:2000]}
                current = None
            elif rec.get("done"):
                break
    except (BrokenPipeError, ConnectionResetError):
        out.stopped, out.at = "died", current
    finally:
        if fence is not None:
            fence.kill_all()
        await _kill(proc)
        if fence is not None:
            fence.close()
        out.seconds = time.monotonic() - start
    return out
