"""No import cycles between the package's modules (module-level imports only, read with ``ast``).

An import inside a function runs when the function does, and one under ``if TYPE_CHECKING:`` never
runs, so neither counts. ``from package import name`` is an edge to ``package.name`` when that is a
module, else to ``package``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "lightning_dream"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_modules() -> dict[str, Path]:
    """Every module of lightning_dream by dotted name (the embedded models hold no code)."""
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py")) if "embedded" not in path.parts}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def module_level_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """The imports that run when the module is imported: at the top level or inside top-level
    ``if``/``try``/``with`` blocks, except an ``if TYPE_CHECKING:`` body; never inside a def or class body."""
    found: list[ast.Import | ast.ImportFrom] = []
    pending: list[ast.stmt] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        elif isinstance(node, ast.If):
            pending += node.orelse if _is_type_checking(node.test) else node.body + node.orelse
        elif isinstance(node, ast.Try):
            pending += node.body + node.orelse + node.finalbody + [s for h in node.handlers for s in h.body]
        elif isinstance(node, ast.With):
            pending += node.body
    return found


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """module -> the package modules it imports at module level."""
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        targets: set[str] = set()
        for node in module_level_imports(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets |= {alias.name for alias in node.names}
                continue
            base = node.module or ""
            if node.level:  # relative: from the module's package, one level up per extra dot
                package = name.split(".") if is_package else name.split(".")[:-1]
                package = package[: len(package) - (node.level - 1)]
                base = ".".join([*package, *([base] if base else [])])
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                targets.add(submodule if submodule in modules else base)
        graph[name] = {target for target in targets if target in modules and target != name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as [a, b, ..., a], or None (depth-first search, modules in sorted order)."""
    state: dict[str, str] = {}  # "open" while on the current path, "done" once fully explored
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                return path[path.index(target) :] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        path.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_package_has_no_import_cycle():
    graph = import_graph(package_modules())
    assert graph["lightning_dream.report.views"] >= {"lightning_dream.results", "lightning_dream.report.dream"}
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


@pytest.mark.parametrize(
    ("sources", "cycle"),
    [
        ({"a": "from . import b", "b": "from .c import x", "c": "import pkg.a"}, ["pkg.a", "pkg.b", "pkg.c", "pkg.a"]),
        ({"a": "def f():\n    from pkg import b", "b": "import pkg.a"}, None),
        ({"a": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pkg.b", "b": "import pkg.a"}, None),
        (
            {"a": "try:\n    import pkg.b\nexcept ImportError:\n    pass", "b": "from pkg.a import x"},
            ["pkg.a", "pkg.b", "pkg.a"],
        ),
    ],
    ids=["relative-and-absolute", "inside-a-function", "type-checking", "inside-try"],
)
def test_the_graph_sees_module_level_imports_only(tmp_path, sources, cycle):
    folder = tmp_path / "pkg"
    folder.mkdir()
    (folder / "__init__.py").write_text("")
    modules = {"pkg": folder / "__init__.py"}
    for name, text in sources.items():
        (folder / f"{name}.py").write_text(text + "\n")
        modules[f"pkg.{name}"] = folder / f"{name}.py"
    assert find_cycle(import_graph(modules)) == cycle
