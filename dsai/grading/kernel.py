"""A fenced kernel: each cell gets a deadline, the process a memory cap.

Fault isolation for untrusted code, the way a cluster scheduler isolates a
task: a fresh Jupyter kernel per submission, started in a scratch folder,
with ``RLIMIT_AS`` set on its process (Linux ``prlimit``) so an allocation
without bound fails with ``MemoryError`` instead of taking the machine.
Each cell has a timeout (nbclient); on expiry the kernel is interrupted, and
if it does not answer within a grace period (code that swallows
``KeyboardInterrupt``) it is killed, restarted, and the cells that had
finished are replayed, so a hang costs one cell, never the batch. A kernel
that dies (``os._exit``, a crash at the memory cap) is handled the same way.

This is not a security boundary: the kernel runs with the grader's user and
permissions (see instructor/README.md for a container or a separate user).
"""

from __future__ import annotations

import math
import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_notebook

__all__ = ["CellRun", "Kernel"]

GRACE_SECONDS = 5  # how long an interrupted kernel gets to answer before it is killed


@dataclass
class CellRun:
    """What running one cell did. ``status``: ok, error, timeout or died."""

    status: str
    outputs: list = field(default_factory=list)
    ename: str = ""
    evalue: str = ""
    traceback: list = field(default_factory=list)
    seconds: float = 0.0

    def __repr__(self) -> str:
        what = f" {self.ename}: {self.evalue[:40]!r}" if self.ename else ""
        return f"CellRun({self.status}{what}, {self.seconds:.2f}s)"


class Kernel:
    """A fresh kernel in ``cwd`` with a per-cell ``timeout`` (s) and ``memory_mb`` cap.

    Use as ``async with Kernel(...) as k: run = await k.run(source)``.
    """

    def __init__(self, cwd: Path | str, *, timeout: float = 30.0, memory_mb: int | None = 2048,
                 kernel_name: str = "python3", env: dict[str, str] | None = None) -> None:
        self.cwd = str(cwd)
        self.timeout = float(timeout)
        self.memory_mb = memory_mb
        self.kernel_name = kernel_name
        self.env = dict(os.environ if env is None else env)
        self.env.setdefault("DSAI_GRADING", "1")
        self.env.setdefault("MPLBACKEND", "Agg")
        self.env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
        self.restarts = 0
        self._finished: list[str] = []  # sources that completed, replayed after a restart
        self._client: NotebookClient | None = None
        self._reply: dict | None = None

    def __repr__(self) -> str:
        state = "running" if self._client else "stopped"
        return (f"Kernel({state}, cwd={self.cwd!r}, timeout={self.timeout:g}s, "
                f"memory={self.memory_mb} MB, restarts={self.restarts})")

    async def __aenter__(self) -> "Kernel":
        await self._start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stop()

    async def _start(self) -> None:
        nb = new_notebook(cells=[new_code_cell("")])
        client = NotebookClient(
            nb, kernel_name=self.kernel_name, timeout=max(1, math.ceil(self.timeout)),
            allow_errors=True,
            interrupt_on_timeout=False, shutdown_kernel="immediate", record_timing=False,
            startup_timeout=60, iopub_timeout=4, resources={"metadata": {"path": self.cwd}},
            on_cell_executed=self._on_executed)
        client.km = client.create_kernel_manager()
        self._client = client  # from here on, _stop() cleans up whatever started
        # The kernel's own stdout/stderr (not the cells') would only add noise to the
        # grader's terminal: cell output travels over IOPub.
        try:
            await client.async_start_new_kernel(cwd=self.cwd, env=self.env,
                                                stdout=subprocess.DEVNULL,
                                                stderr=subprocess.DEVNULL)
            self._limit_memory(client)
            await client.async_start_new_kernel_client()
        except BaseException:
            await self._stop()
            raise

    def _limit_memory(self, client: NotebookClient) -> None:
        if not self.memory_mb or not sys.platform.startswith("linux"):
            return
        pid = getattr(client.km.provisioner, "pid", None)
        if pid is None:  # pragma: no cover - every local provisioner has a pid
            raise RuntimeError("cannot find the kernel's process to limit its memory")
        cap = int(self.memory_mb) * 2**20
        resource.prlimit(pid, resource.RLIMIT_AS, (cap, cap))

    async def _stop(self) -> None:
        client, self._client = self._client, None
        if client is not None and client.km is not None:
            try:
                await client._async_cleanup_kernel()
            except Exception:  # the kernel may already be gone; nothing left to free
                pass

    async def _on_executed(self, cell: NotebookNode, cell_index: int, execute_reply: dict) -> None:
        self._reply = execute_reply

    async def _execute(self, source: str, timeout: float) -> CellRun:
        assert self._client is not None, "kernel is not running; use 'async with Kernel(...)'"
        self._client.timeout = max(1, math.ceil(timeout))  # nbclient wants whole seconds
        self._reply = None
        cell = new_code_cell(source)
        self._client.nb.cells[0] = cell
        start = time.monotonic()
        cell = await self._client.async_execute_cell(cell, 0)
        seconds = time.monotonic() - start
        content = (self._reply or {}).get("content", {})
        errors = [o for o in cell.outputs if o.get("output_type") == "error"]
        failed = content.get("status") == "error" or bool(errors)
        err = errors[0] if errors else content
        return CellRun("error" if failed else "ok", list(cell.outputs),
                       str(err.get("ename", "") or ("Error" if failed else "")),
                       str(err.get("evalue", "") or ""), list(err.get("traceback", []) or []),
                       seconds)

    async def run(self, source: str) -> CellRun:
        """Run one cell; a hang or a dead kernel becomes a CellRun, never an exception."""
        start = time.monotonic()
        try:
            run = await self._execute(source, self.timeout)
        except CellTimeoutError:
            await self._recover_from_hang()
            return CellRun("timeout", ename="TimeoutError",
                           evalue=f"the cell ran longer than {self.timeout:g} s and was stopped",
                           seconds=time.monotonic() - start)
        except DeadKernelError:
            await self._restart()
            return CellRun("died", ename="DeadKernelError",
                           evalue="the kernel died while running this cell (memory limit "
                                  f"{self.memory_mb} MB, os._exit or a crash)",
                           seconds=time.monotonic() - start)
        self._finished.append(source)
        return run

    async def _recover_from_hang(self) -> None:
        client = self._client
        assert client is not None and client.km is not None
        try:
            await client.km.interrupt_kernel()
            # The cancelled poll of the hung cell may swallow one IOPub message of
            # the probe; don't wait the full iopub_timeout for it.
            client.iopub_timeout = 1
            try:
                probe = await self._execute("pass", GRACE_SECONDS)
            finally:
                client.iopub_timeout = 4
            if probe.status == "ok":
                return
        except (CellTimeoutError, DeadKernelError, RuntimeError):
            pass
        await self._restart()  # it ignored the interrupt: kill it and rebuild its state

    async def _restart(self) -> None:
        self.restarts += 1
        await self._stop()
        await self._start()
        for source in self._finished:
            try:
                await self._execute(source, self.timeout)
            except (CellTimeoutError, DeadKernelError):
                await self._stop()  # replay failed: later cells run in a fresh kernel
                await self._start()
                break

