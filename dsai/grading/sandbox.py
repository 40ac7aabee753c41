"""Isolation of untrusted work: each submission sees only its own copy, as a tenant on a cluster.

On Linux the grader runs every grading session in bubblewrap (``bwrap``), the
sandbox Flatpak uses: a small, audited setuid-free program that builds the
isolation from kernel namespaces and needs no daemon. We chose it over a
hand-written namespace setup (easy to get subtly wrong), over a separate Unix
user alone (still sees the network, /tmp, other users' processes and every
world-readable file, such as the masters) and over containers per submission
(a daemon and an image per grading host). What a session gets:

- the system and the Python environment read-only, and nothing else of the
  host: not the masters, other submissions, the gradebook, the feedback,
  the grader's home, other sessions (they live in other mount namespaces);
- a private, size-capped tmpfs for ``$HOME``, ``/tmp``, ``/dev/shm`` and the
  working folder (a copy of the submission), gone when the session ends;
- no network (a loopback of its own), its own PID namespace (it cannot see or
  signal the grader; when the session ends every process in it dies);
- no capabilities, and a user namespace of its own (uid 1000 inside);
- resource limits on every process: address space, processes, file size.

Where bwrap is missing or cannot create namespaces (some containers), `probe`
says why, and ``dsai grade`` refuses untrusted work unless told ``--trusted``.
"""

from __future__ import annotations

import functools
import os
import resource
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Limits", "probe", "bwrap_command", "preexec", "session_env", "WORK", "FILES",
           "HOME"]

HOME = "/home/student"
WORK = f"{HOME}/work"          # the session's working folder (tmpfs)
FILES = "/run/submission"      # the submission's scratch copy, read-only


@dataclass(frozen=True)
class Limits:
    """Per-session caps. ``memory_mb``: address space per process (None: no cap)."""

    memory_mb: int | None = 2048
    tmpfs_mb: int = 512        # each of $HOME+work, /tmp, /dev/shm
    processes: int = 256       # tasks (threads count) per session, with a cgroup
    file_mb: int = 256         # largest file a session may write

    @property
    def session_memory_mb(self) -> int | None:
        """All of a session's processes and tmpfs together (a cgroup, where one can be made)."""
        return 2 * self.memory_mb if self.memory_mb else None

    def __repr__(self) -> str:
        return (f"Limits(memory={self.memory_mb} MB, tmpfs={self.tmpfs_mb} MB, "
                f"processes={self.processes}, file={self.file_mb} MB)")


def _readable_roots() -> list[str]:
    """Directories a session needs to read: the system and this Python environment."""
    import dsai
    roots = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"]
    roots += [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
              str(Path(dsai.__file__).resolve().parent)]
    roots += [f"/etc/{name}" for name in _ETC]
    seen: list[str] = []
    for r in roots:
        if r and os.path.exists(r) and r not in seen:
            seen.append(r)
    return seen


# Of /etc, only what Python, locales, numpy and matplotlib read: not shadow, not keys.
_ETC = ["passwd", "group", "hosts", "nsswitch.conf", "ld.so.cache", "ld.so.conf",
        "ld.so.conf.d", "localtime", "alternatives", "ssl", "mime.types", "fonts",
        "os-release", "debian_version", "matplotlibrc"]


@functools.lru_cache(maxsize=None)
def _bwrap_features() -> frozenset[str]:
    exe = shutil.which("bwrap")
    if exe is None:
        return frozenset()
    try:
        text = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    return frozenset(f for f in ("--size", "--disable-userns", "--clearenv") if f in text) \
        | {"bwrap"}


def bwrap_command(scratch: Path, limits: Limits) -> tuple[list[str], list[int]]:
    """The bwrap command line isolating one session on ``scratch``, and fds to pass it.

    Folders are handed over as descriptors opened here: a session user of its own
    may lack the right to walk to them (a Python under ``/root/.pyenv``), yet may
    read them once mounted. The caller closes the descriptors after the start.
    """
    feats = _bwrap_features()
    exe = shutil.which("bwrap") or "bwrap"

    def tmpfs(path: str) -> list[str]:
        size = ["--size", str(limits.tmpfs_mb * 2**20)] if "--size" in feats else []
        return size + ["--tmpfs", path]

    cmd = [exe, "--unshare-all", "--unshare-user", "--die-with-parent", "--new-session",
           "--uid", "1000", "--gid", "1000", "--hostname", "grading"]
    if "--disable-userns" in feats:
        cmd += ["--disable-userns"]
    fds: list[int] = []  # none today; kept so callers need not change if binds move to fds

    def bind(src: str, dest: str) -> list[str]:
        return ["--ro-bind", src, dest]
    for root in _readable_roots():
        if os.path.islink(root):
            cmd += ["--symlink", os.readlink(root), root]
        else:
            cmd += bind(root, root)
    cmd += ["--proc", "/proc", "--dev", "/dev"]
    cmd += tmpfs("/tmp") + tmpfs("/dev/shm") + tmpfs("/home")
    cmd += ["--dir", WORK] + bind(str(scratch), FILES) + ["--chdir", WORK]
    return cmd, fds


@functools.lru_cache(maxsize=None)
def probe() -> str | None:
    """None if sessions can be sandboxed here, else the reason, in words."""
    if not sys.platform.startswith("linux"):
        return f"sandboxing needs Linux (this is {sys.platform})"
    if "bwrap" not in _bwrap_features():
        return "bubblewrap ('bwrap') is not installed"
    import tempfile
    with tempfile.TemporaryDirectory(prefix="dsai-probe-") as tmp:
        os.chmod(tmp, 0o755)
        cmd, fds = bwrap_command(Path(tmp), Limits())
        try:
            run = subprocess.run(cmd + [sys.executable, "-I", "-c", "print(6*7)"],
                                 capture_output=True, text=True, timeout=60, pass_fds=fds,
                                 preexec_fn=preexec(Limits()), env=session_env(HOME, "/tmp"))
        except (OSError, subprocess.SubprocessError) as e:
            return f"bubblewrap could not start: {e}"
        finally:
            for fd in fds:
                os.close(fd)
    if run.stdout.strip() != "42":
        why = (run.stderr.strip().splitlines() or ["no output"])[-1]
        return f"bubblewrap cannot create a sandbox here ({why})"
    return None


def preexec(limits: Limits):
    """A function setting the session's per-process limits in the child before exec.

    Totals over all of a session's processes (memory including tmpfs, number of
    processes) need a cgroup: see `dsai.grading.cgroup`. RLIMIT_NPROC is not used:
    it counts every process of the user, the grader's own included.
    """
    def apply() -> None:
        def cap(kind: int, value: int) -> None:
            soft, hard = resource.getrlimit(kind)
            value = value if hard == resource.RLIM_INFINITY else min(value, hard)
            try:
                resource.setrlimit(kind, (value, value))
            except (ValueError, OSError):  # e.g. RLIMIT_AS, which macOS does not enforce
                pass
        if limits.memory_mb:
            cap(resource.RLIMIT_AS, limits.memory_mb * 2**20)
        cap(resource.RLIMIT_FSIZE, limits.file_mb * 2**20)
        cap(resource.RLIMIT_CORE, 0)
    return apply


def session_env(home: str, tmp: str) -> dict[str, str]:
    """A minimal environment: nothing of the grader's own settings leaks in."""
    env = {"HOME": home, "TMPDIR": tmp, "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
           "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "MPLBACKEND": "Agg", "DSAI_GRADING": "1",
           "IPYTHONDIR": f"{tmp}/.ipython", "MPLCONFIGDIR": f"{tmp}/.matplotlib",
           "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0",
           "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    if os.environ.get("DSAI_BACKEND"):
        env["DSAI_BACKEND"] = os.environ["DSAI_BACKEND"]
    return env
