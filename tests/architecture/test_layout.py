"""The layout stays as the README describes it: every package of the app is
in the README's layout table, and no module imports one that imports it
back, however indirectly (imports inside functions and for type checking
count: they are the same dependency, only later)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APP = "secrets_app"


def _modules() -> dict[str, Path]:
    found = {}
    for path in (ROOT / APP).rglob("*.py"):
        if "migrations" in path.parts:
            continue
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _imported(module: str, path: Path, known: set[str]) -> set[str]:
    """The app's modules that ``module`` imports (``from package import
    submodule`` counts as importing the submodule)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name in known}
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
            target = (
                ".".join([*base, *([node.module] if node.module else [])])
                if node.level
                else node.module
            )
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                if sub in known:
                    found.add(sub)
                elif target in known:
                    found.add(target)
    found.discard(module)
    return found


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                component.append(other)
                if other == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_one_that_imports_it_back():
    modules = _modules()
    graph = {m: _imported(m, p, set(modules)) for m, p in modules.items()}
    assert _cycles(graph) == []


def test_the_readme_layout_table_names_every_package():
    readme = (ROOT / "README.md").read_text()
    layout = readme.split("## Layout", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(rf"`{APP}/([\w/]+)/`", layout))
    packages = {
        str(p.parent.relative_to(ROOT / APP))
        for p in (ROOT / APP).rglob("__init__.py")
        if p.parent != ROOT / APP and "migrations" not in p.parts
    }
    missing = {p for p in packages if p not in named and p.split("/")[0] not in named}
    assert missing == set()


def test_nothing_is_left_loose_at_the_top_of_the_app():
    # Django's own entry points stay where Django looks for them.
    loose = {p.name for p in (ROOT / APP).glob("*.py")}
    assert loose == {"__init__.py", "admin.py", "apps.py"}
