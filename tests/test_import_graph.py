"""Layers point down: no module of `dsai` imports, directly or through others, a module that imports it.

The graph is read from the source (`ast`), so it holds every import: at the
top of a module, inside a function (a late import is still a dependency),
and under `if TYPE_CHECKING:` (a type named across layers is one too). An
import of a package's submodule counts as an edge to that submodule; the
implicit import of a package's `__init__` when one of its submodules loads
does not (a package that exports its submodules is not a cycle).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "dsai"


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Module -> the modules of the same tree it imports."""
    paths = {module_name(p, root): p for p in root.rglob("*.py")}

    def known(name: str) -> str | None:  # the module a dotted name lives in
        while name and name not in paths:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {m: set() for m in paths}
    for mod, path in paths.items():
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [known(a.name) for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package
                    for _ in range(node.level - 1):
                        up = up.rpartition(".")[0]
                    base = f"{up}.{base}" if base else up
                # `from pkg import sub` imports the submodule; `from mod import name`, the module
                targets = [known(f"{base}.{a.name}") if f"{base}.{a.name}" in paths else known(base)
                           for a in node.names]
            else:
                continue
            graph[mod].update(t for t in targets if t is not None and t != mod)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles_in_dsai():
    graph = import_graph()
    assert "dsai.mockray.runtime" in graph["dsai.mockray.api"]  # the graph sees imports at all
    found = cycles(graph)
    assert not found, "modules that import each other in a circle: " + "; ".join(
        ", ".join(f"{m} -> {sorted(graph[m] & set(c))}" for m in c) for c in found)


def test_the_check_sees_a_cycle_through_a_late_import(tmp_path):
    pkg = tmp_path / "dsai" / "demo"
    pkg.mkdir(parents=True)
    (tmp_path / "dsai" / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from dsai.demo import b\n")
    (pkg / "b.py").write_text("def f():\n    from dsai.demo.a import x\n")
    (pkg / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import a\n")
    graph = import_graph(tmp_path / "dsai")
    assert cycles(graph) == [["dsai.demo.a", "dsai.demo.b"]]
    assert graph["dsai.demo.c"] == {"dsai.demo.a"}
