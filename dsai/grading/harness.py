"""One grading session: a fresh process that replays a notebook and judges one test.

The grader (`dsai.grading.session`) starts ``python -I`` running `main` here
inside the sandbox, once per test cell, and speaks JSON lines with it:

- in (stdin): the job, ``{"cells": [...], "test": k, "copy_from": ..., "answer_names": [...]}``
  where every test cell carries only its *visible* lines; later, on request, the
  hidden lines of test ``k`` (``{"hidden": "..."}``).
- out (the process's original stdout, kept as a private descriptor): one record
  per cell, ``{"i": 3, "status": "error", "ename": ..., "evalue": ..., "line": 2}``,
  ``{"want_hidden": k}`` before the hidden lines are asked for, and a verdict for
  test ``k``. The student's own prints go to /dev/null: they never reach the grader.

Why a process per test and these steps (instructor/README.md has the full
reasoning): the tests' verdict must not rest on anything the student's code can
replace. So no IPython kernel judges a test: this harness compiles and runs the
test itself with the interpreter's own ``compile``/``exec`` and reads the failing
line from the traceback *object* (a repr that imitates IPython's ``Cell In[...]``
text changes nothing). What student cells change in the libraries (a module's
functions or classes, ``sys.modules``, import hooks, trace hooks, the names the
master's setup bound such as ``check``, ``ray``, ``sim``) is recorded cell by cell
and undone before the test runs. The hidden lines reach the process only after
its visible lines passed, and from then on the grader believes nothing but the
verdict's fixed words, so no student code can smuggle hidden text out.
"""

from __future__ import annotations

import ast
import builtins
import gc
import json
import os
import sys
import threading
import types
import warnings

_compile, _exec, _eval = builtins.compile, builtins.exec, builtins.eval  # before any student code
_TOP_LEVEL_AWAIT = getattr(ast, "PyCF_ALLOW_TOP_LEVEL_AWAIT", 0x2000)
_CO_COROUTINE = 0x80
MAX_TEXT = 2000  # characters of an error message sent to the grader

# Exception names a hidden failure may report: the interpreter's own and check()'s.
_SAFE_NAMES = {n for n, v in vars(builtins).items()
               if isinstance(v, type) and issubclass(v, BaseException)} | {"CheckFailed"}


class _Channel:
    """The private record channel: the original stdout, line-buffered JSON."""

    def __init__(self) -> None:
        self._out = os.fdopen(os.dup(1), "w", encoding="utf-8", errors="backslashreplace",
                              buffering=1)
        self._in = sys.stdin.buffer

    def send(self, **record: object) -> None:
        self._out.write(json.dumps(record) + "\n")
        self._out.flush()

    def receive(self) -> dict:
        line = self._in.readline(1 << 24)
        return json.loads(line) if line else {}


def _silence() -> None:
    # A gigabyte of prints costs nothing: fds 1 and 2 point at /dev/null.
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)
    sys.stdout = sys.stderr = open(os.devnull, "w", encoding="utf-8")


def _guarded(value: object) -> bool:
    # What a monkeypatch replaces: functions, classes, modules, callables.
    return isinstance(value, (types.ModuleType, type)) or callable(value)


class Guard:
    """Undo what student cells change in the libraries the tests rely on."""

    def __init__(self, trusted_dirs: list[str], user_ns: dict) -> None:
        self.user_ns = user_ns  # the notebook's own namespace is the student's to change
        self.trusted_dirs = [d.rstrip("/") + "/" for d in trusted_dirs if d]
        self.undo: dict[tuple[int, str], tuple[dict, str, object]] = {}
        self.modules_undo: dict[str, object] = {}
        self.class_undo: dict[tuple[int, str], tuple[type, str, object]] = {}
        self._sys = self._sys_state()

    @staticmethod
    def _sys_state() -> dict:
        return {"path": list(sys.path), "meta_path": list(sys.meta_path),
                "path_hooks": list(sys.path_hooks), "excepthook": sys.excepthook,
                "displayhook": sys.displayhook, "unraisablehook": sys.unraisablehook,
                "gc_callbacks": list(gc.callbacks), "filters": list(warnings.filters)}

    @staticmethod
    def _classes() -> dict[int, tuple[type, dict]]:
        out = {}
        for name, mod in list(sys.modules.items()):
            if not name.startswith(("dsai", "IPython", "asyncio")) or mod is None:
                continue
            for v in list(vars(mod).values()):
                if isinstance(v, type) and getattr(v, "__module__", None) == name:
                    out[id(v)] = (v, {k: x for k, x in vars(v).items() if _guarded(x)
                                      or isinstance(x, (property, classmethod, staticmethod))})
        return out

    def before(self) -> tuple:
        """A picture of the guarded state, taken before a student cell."""
        mods = dict(sys.modules)
        dicts = {name: (vars(m), {k: v for k, v in list(vars(m).items()) if _guarded(v)})
                 for name, m in mods.items()
                 if isinstance(m, types.ModuleType) and vars(m) is not self.user_ns}
        return mods, dicts, self._classes()

    def after(self, picture: tuple) -> None:
        """Remember how to undo what the student cell changed since ``picture``."""
        mods, dicts, classes = picture
        for name, m in list(sys.modules.items()):
            if name in mods:
                if m is not mods[name]:
                    self.modules_undo.setdefault(name, mods[name])
            elif not self._trusted_module(m):
                self.modules_undo.setdefault(name, None)  # a module made up by the student
        for name, (d, old) in dicts.items():
            for k, v in list(d.items()):
                if k in old and v is not old[k]:
                    self.undo.setdefault((id(d), k), (d, k, old[k]))
                elif k not in old and _guarded(v):
                    self.undo.setdefault((id(d), k), (d, k, _MISSING))
            for k in old:
                if k not in d:
                    self.undo.setdefault((id(d), k), (d, k, old[k]))
        for cid, (cls, old) in classes.items():
            now = vars(cls)
            for k, v in old.items():
                if now.get(k, _MISSING) is not v:
                    self.class_undo.setdefault((cid, k), (cls, k, v))
            for k, v in list(now.items()):
                if k not in old and (_guarded(v) or isinstance(v, property)):
                    self.class_undo.setdefault((cid, k), (cls, k, _MISSING))

    def _trusted_module(self, m: object) -> bool:
        f = getattr(m, "__file__", None)
        if not isinstance(m, types.ModuleType):
            return False
        if f is None:
            return getattr(m, "__spec__", None) is not None and m.__spec__.origin in (
                "built-in", "frozen")
        return any(os.path.realpath(f).startswith(d) for d in self.trusted_dirs)

    def restore(self) -> None:
        """Put back every recorded change and the interpreter's hooks."""
        sys.settrace(None)
        sys.setprofile(None)
        threading.settrace(None)  # type: ignore[arg-type]
        threading.setprofile(None)  # type: ignore[arg-type]
        for name, m in self.modules_undo.items():
            if m is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = m
        for d, k, v in self.undo.values():
            if v is _MISSING:
                d.pop(k, None)
            else:
                d[k] = v
        for cls, k, v in self.class_undo.values():
            try:
                if v is _MISSING:
                    delattr(cls, k)
                else:
                    setattr(cls, k, v)
            except (AttributeError, TypeError):
                pass
        s = self._sys
        sys.path[:] = s["path"] + [os.getcwd()]
        sys.meta_path[:] = s["meta_path"]
        sys.path_hooks[:] = s["path_hooks"]
        sys.path_importer_cache.clear()
        sys.excepthook, sys.displayhook = s["excepthook"], s["displayhook"]
        sys.unraisablehook = s["unraisablehook"]
        gc.callbacks[:] = s["gc_callbacks"]
        warnings.filters[:] = s["filters"]


_MISSING = object()


def _split_last_expression(tree: ast.Module) -> tuple[ast.Module, ast.Expression | None]:
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = tree.body.pop()
        return tree, ast.Expression(last.value)
    return tree, None


class Runner:
    """Runs cells in one namespace: the student's through IPython, the master's itself."""

    def __init__(self, channel: _Channel, job: dict) -> None:
        self.channel, self.job = channel, job
        trusted = [os.path.dirname(os.path.dirname(os.path.abspath(__file__))), sys.prefix,
                   sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix]
        from IPython.core.interactiveshell import InteractiveShell
        from traitlets.config import Config

        class Shell(InteractiveShell):
            # Lessons run `%matplotlib inline`; a grader has no screen, so there is no GUI
            # event loop to enable (the base shell raises NotImplementedError here).
            def enable_gui(self, gui=None):
                return None

        cfg = Config()
        cfg.HistoryManager.enabled = False
        cfg.InteractiveShell.colors = "NoColor"
        self.shell = Shell.instance(config=cfg)
        self.ns = self.shell.user_ns
        self.guard = Guard(trusted, self.ns)
        self.ns.setdefault("display", lambda *a, **k: None)
        self.master_names: dict[str, object] = {}
        self.answer_names = set(job.get("answer_names", []))
        import IPython.core.async_helpers as ah
        self._runner = ah._asyncio_runner
        from IPython.core.inputtransformer2 import TransformerManager
        self._transform = TransformerManager().transform_cell

    # -- master cells: compiled and run here, never through the student's shell ----------
    def _compile(self, source: str, mode: str, filename: str) -> types.CodeType:
        return _compile(source, filename, mode, flags=_TOP_LEVEL_AWAIT, dont_inherit=True)

    def _run_code(self, code: types.CodeType) -> object:
        value = _eval(code, self.ns)
        if code.co_flags & _CO_COROUTINE:
            value = self._runner(value)
        return value

    def exec_master(self, source: str, filename: str, first_line: int = 1) -> object:
        """Run master source; return its last expression's value (or None)."""
        source = self._transform(source) if "%" in source or "!" in source else source
        tree = ast.parse("\n" * (first_line - 1) + source, filename, "exec",
                         type_comments=False)
        body, last = _split_last_expression(tree)
        self.ns["__builtins__"] = builtins
        self._run_code(self._compile(body, "exec", filename))
        if last is None:
            return None
        return self._run_code(self._compile(ast.fix_missing_locations(last), "eval",
                                            filename))

    def remember_master_names(self) -> None:
        # Names the master bound to library objects (check, ray, sim, np...): a student
        # cell rebinding them is undone before the test.
        for k, v in list(self.ns.items()):
            if k.startswith("_") or k in self.answer_names:
                continue
            if isinstance(v, types.ModuleType) or (
                    callable(v) and getattr(v, "__module__", "__main__") not in ("__main__",
                                                                                 None)):
                self.master_names[k] = v

    def run_student(self, source: str) -> tuple[str, str, str]:
        picture = self.guard.before()
        try:
            result = self.shell.run_cell(source, store_history=False)
            err = result.error_before_exec or result.error_in_exec
        except BaseException as e:  # e.g. SystemExit raised out of the shell
            err = e
        finally:
            self.guard.after(picture)
        if err is None:
            return "ok", "", ""
        return "error", type(err).__name__, str(err)[:MAX_TEXT]

    def prepare_test(self) -> None:
        self.guard.restore()
        for k, v in self.master_names.items():
            self.ns[k] = v
        self.ns["__builtins__"] = builtins


def _failing_line(exc: BaseException, filename: str) -> int | None:
    tb, line = exc.__traceback__, None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    if line is None and isinstance(exc, SyntaxError) and exc.filename == filename:
        line = exc.lineno
    return line


def _value_text(value: object) -> str | None:
    if value is None:
        return None
    try:
        if isinstance(value, (bool, int, float)):
            return repr(value)
        return repr(value)[:100]
    except BaseException:
        return "<unprintable>"


def _judge(runner: Runner, channel: _Channel, index: int, visible: str, nvisible: int) -> None:
    filename = f"<test cell {index}>"
    runner.prepare_test()
    value = None
    try:
        if visible.strip():
            value = runner.exec_master(visible, filename)
    except BaseException as e:
        line = _failing_line(e, filename)
        if line is not None and line <= nvisible:
            channel.send(i=index, verdict="error", ename=type(e).__name__[:100],
                         evalue=str(e)[:MAX_TEXT], line=line)
        else:
            channel.send(i=index, verdict="error", ename="")
        return
    # The hidden lines arrive only now; the grader stops believing free text here.
    channel.send(want_hidden=index)
    rest = channel.receive().get("hidden", "")
    if rest.strip():
        runner.prepare_test()
        try:
            value = runner.exec_master(rest, filename, first_line=nvisible + 1)
        except BaseException as e:
            name = type(e).__name__
            channel.send(i=index, verdict="error", ename=name if name in _SAFE_NAMES else "")
            return
    channel.send(i=index, verdict="ok", value=_value_text(value))


class Checkpoints:
    """A fork before each cell, so a cell that hangs or dies costs only itself.

    The process about to run cell ``i`` forks: the child runs it and goes on; the
    parent keeps the state from before the cell and waits. If the child reports
    the cell done, the parent exits; if the cell passes the timeout, or the child
    dies in it (``os._exit``, the memory cap), the parent kills it and goes on
    from the next cell itself. No earlier cell is ever run again, so a session's
    cost stays linear in its cells. The session's first process only reaps
    (a subreaper), so the sandbox lives while any of them does.

    Forking is only safe without threads (the simulator runs on greenlets): with
    other threads alive, or on real Ray, cells run unguarded and a hang costs
    the session (the grader then skips that cell in a new one).
    """

    def __init__(self, channel: _Channel, timeout: float) -> None:
        self.channel, self.timeout = channel, timeout
        self.done_fd: int | None = None
        self.enabled = (sys.platform.startswith("linux") and timeout > 0
                        and os.environ.get("DSAI_BACKEND") != "ray" and self._subreaper())
        if self.enabled and os.fork() != 0:
            while True:  # the supervisor: reap every descendant, then end
                try:
                    os.wait()
                except ChildProcessError:
                    os._exit(0)
                except InterruptedError:
                    continue

    @staticmethod
    def _subreaper() -> bool:
        try:
            import ctypes
            libc = ctypes.CDLL(None, use_errno=True)
            return libc.prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
        except (OSError, AttributeError):
            return False

    def guard(self, i: int) -> bool | None:
        """Before cell ``i``: True to run it (in a fresh child), False if it was stopped
        (this process goes on after it), None if the cell runs unguarded."""
        if not self.enabled or threading.active_count() > 1:
            return None
        import select
        import signal
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            self.done_fd = w
            return True
        os.close(w)
        ready = select.select([r], [], [], self.timeout)[0]
        if ready and os.read(r, 1) == b"1":
            os._exit(0)  # the cell finished; the child carries on from here
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
        os.close(r)
        self.channel.send(i=i, status="died" if ready else "timeout")
        return False

    def cell_done(self) -> None:
        if self.done_fd is not None:
            try:
                os.write(self.done_fd, b"1")
            except OSError:  # the checkpoint was killed (by the cell, say): go on without it
                pass
            os.close(self.done_fd)
            self.done_fd = None


def main() -> None:
    channel = _Channel()
    _silence()
    job = channel.receive()
    if job.get("copy_from"):
        import shutil
        shutil.copytree(job["copy_from"], os.getcwd(), dirs_exist_ok=True)
    for name in job.get("preload", []):  # trusted imports, before any student code
        try:
            __import__(name)
        except Exception:
            pass
    runner = Runner(channel, job)
    sys.path.append(os.getcwd())  # the student's own helper modules, after the real ones
    target = job.get("test")
    checkpoints = Checkpoints(channel, float(job.get("timeout", 0)))
    for i, cell in enumerate(job["cells"]):
        if cell.get("skip"):
            continue
        kind, source = cell["kind"], cell["source"]
        if kind == "test" and i == target:
            channel.send(start=i)
            _judge(runner, channel, i, source, cell["visible_lines"])
            break
        guarded = checkpoints.guard(i)
        if guarded is False:
            continue
        channel.send(start=i, guarded=bool(guarded))
        if kind in ("setup", "test"):
            try:
                runner.exec_master(source, f"<cell {i}>")
                channel.send(i=i, status="ok")
            except BaseException as e:
                channel.send(i=i, status="error", ename=type(e).__name__[:100],
                             evalue=str(e)[:MAX_TEXT])
            runner.remember_master_names()
        else:
            status, ename, evalue = runner.run_student(source)
            channel.send(i=i, status=status, ename=ename[:100], evalue=evalue)
        checkpoints.cell_done()
    channel.send(done=True)
    os._exit(0)


if __name__ == "__main__":
    main()
