"""No import cycle in envpool or tools, and each shared job has one implementation (read from the sources with ast).

Imports inside functions count (a lazy import still ties two modules together); imports under
``if TYPE_CHECKING:`` do not, since they never run.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

RUNTIME = "packages/core/src/envpool"


def _modules(repo: Path) -> dict[str, Path]:
    """Module name -> file of every module of envpool (the core's source) and of tools."""
    found: dict[str, Path] = {}
    for base, package in ((repo / "packages" / "core" / "src", "envpool"), (repo, "tools")):
        for path in sorted((base / package).rglob("*.py")):
            parts = list(path.relative_to(base).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _run_time_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node that can run: the bodies of ``if TYPE_CHECKING:`` are left out."""
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        if isinstance(node, ast.If) and _is_type_checking(node):
            todo.extend(node.orelse)
            continue
        todo.extend(ast.iter_child_nodes(node))


def _imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The modules of ``known`` that module ``name`` imports at run time."""
    out: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in _run_time_nodes(ast.parse(path.read_text(), str(path))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        # a module that is not in the source (envpool._version, the extensions) is left out; its
        # package's __init__ runs first, but so it does for every import of a submodule
        out.update(t for t in targets if t in known and t != name)
    return out


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
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


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycle_in_envpool_or_tools(repo_root: Path) -> None:
    known = _modules(repo_root)
    assert {"envpool.resolution", "envpool.families", "tools.common.index"} <= set(known)
    graph = {name: _imports(name, path, known) for name, path in known.items()}
    assert "envpool.store" in graph["envpool.resolution"]  # the graph sees imports (a sanity check)
    assert _cycles(graph) == []


def _uses(path: Path, kind: type[ast.AST], name: str) -> bool:
    """Whether ``path`` imports module ``name`` (ast.Import), names ``name`` (ast.Attribute) or calls it (ast.Call)."""
    for node in _run_time_nodes(ast.parse(path.read_text(), str(path))):
        if kind is ast.Import and isinstance(node, ast.Import):
            found = any(a.name == name for a in node.names)
        elif kind is ast.Import and isinstance(node, ast.ImportFrom):
            found = node.module == name
        elif kind is ast.Attribute and isinstance(node, ast.Attribute):
            found = ast.unparse(node) == name
        elif kind is ast.Call and isinstance(node, ast.Call):
            found = ast.unparse(node.func).split(".")[-1] == name
        else:
            found = False
        if found:
            return True
    return False


#: (what, ast node kind, the name or call, the only files allowed to use it)
ONE_PLACE = [
    ("sha256 hashing", ast.Import, "hashlib", {"tools/common/hashing.py", f"{RUNTIME}/package_index.py"}),
    ("running a command", ast.Attribute, "subprocess.run", {"tools/common/process.py", f"{RUNTIME}/inventory.py"}),
    ("writing a zip member", ast.Attribute, "zipfile.ZipInfo", {"tools/common/distfile.py"}),
    ("TLS for an index", ast.Attribute, "ssl.create_default_context", {f"{RUNTIME}/package_index.py"}),
    ("reading an index page", ast.Import, "html.parser", {f"{RUNTIME}/package_index.py"}),
    ("the version-skew message", ast.Call, "VersionSkewError", {f"{RUNTIME}/resolution.py"}),
]


@pytest.mark.parametrize(("what", "kind", "name", "allowed"), ONE_PLACE, ids=[row[0] for row in ONE_PLACE])
def test_one_implementation_per_job(
    repo_root: Path, what: str, kind: type[ast.AST], name: str, allowed: set[str]
) -> None:
    users = {path.relative_to(repo_root).as_posix() for path in _modules(repo_root).values() if _uses(path, kind, name)}
    assert users == allowed, f"{what} ({name}) belongs in {sorted(allowed)} only; found in {sorted(users)}"
