"""The house rules of src/storyreel, read from the source: no import cycle, no private name imported from another
module, imports inside functions only where a comment says why, modules of a readable size.

Imports are read with `ast`, at module level and inside functions alike: a cycle hidden in a function is still
a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "storyreel"
MAX_MODULE_LINES = 400


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(SRC.rglob("*.py")):
        parts = path.relative_to(SRC.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


MODULES = _modules()


def _is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def _resolve(module: str, node: ast.ImportFrom) -> str:
    """The absolute name a relative `from ... import` refers to."""
    if not node.level:
        return node.module or ""
    base = module.split(".") if _is_package(module) else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(name: str) -> list[tuple[str, str, ast.AST]]:
    """(imported storyreel module, imported name or "", node) for every import in module `name`."""
    tree = ast.parse(MODULES[name].read_text())
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, "", node) for a in node.names if a.name.startswith("storyreel")]
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(name, node)
            if target.startswith("storyreel"):
                for a in node.names:
                    sub = f"{target}.{a.name}"
                    out.append((sub, "", node) if sub in MODULES else (target, a.name, node))
    return out


def _graph() -> dict[str, set[str]]:
    graph = {}
    for name in MODULES:
        deps = set()
        for target, _, _ in _imports(name):
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != name:
                deps.add(target)
        graph[name] = deps
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def _without_packages(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """Package __init__ modules only re-export their own submodules: an edge into a package goes to the
    submodules it re-exports, so `a.x -> a (__init__) -> a.y -> a.x` is not mistaken for a cycle of a.x and a.y."""
    return {v: {w for w in deps if not (_is_package(w) and v.startswith(w + "."))} for v, deps in graph.items()}


def test_no_import_cycles():
    cycles = _cycles(_without_packages(_graph()))
    assert cycles == [], f"import cycles: {cycles}"


def test_the_layers_point_one_way():
    """The data flow: nothing below the pipeline imports it, the CLI or the studio (a front end beside the CLI);
    the studio never imports the CLI; planning never imports generation."""
    graph = _graph()
    top = ("storyreel.cli", "storyreel.studio", "storyreel.pipeline")
    lower = [m for m in MODULES if not m.startswith(top)]
    for m in lower:
        assert not {d for d in graph[m] if d.startswith(top)}, m
    for m in (m for m in MODULES if m.startswith("storyreel.studio")):
        assert not {d for d in graph[m] if d.startswith("storyreel.cli")}, m
    for m in (m for m in MODULES if m.startswith(("storyreel.plan", "storyreel.storyboard", "storyreel.music"))):
        bad = {d for d in graph[m] if d.startswith(("storyreel.render", "storyreel.edit", "storyreel.output",
                                                     "storyreel.models"))}
        assert not bad, f"{m} imports {bad}"
    assert not {d for d in graph["storyreel.models.builtin.train"] if d.startswith("storyreel.eval")}


def test_no_private_name_is_imported_from_another_module():
    def private(word: str) -> bool:
        return word.startswith("_") and not word.endswith("__")  # __version__ is public

    bad = [(name, target, imported) for name in MODULES for target, imported, _ in _imports(name)
           if private(imported) or private(target.rpartition(".")[2])]
    assert bad == []


def test_imports_inside_functions_say_why():
    """Deferred imports are for start-up time (or optional extras) and say so; the rest sit at the top."""
    silent = []
    for name, path in MODULES.items():
        lines = path.read_text().splitlines()
        tree = ast.parse("\n".join(lines))
        for fn in (n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))):
            imports = [n for n in ast.walk(fn) if isinstance(n, (ast.Import, ast.ImportFrom))]
            if not imports:
                continue
            first = min(i.lineno for i in imports)
            said = any("#" in lines[i.lineno - 1] for i in imports)
            said = said or "deferred" in (ast.get_docstring(fn) or "") or _module_says_why(lines)
            if not said:
                silent.append(f"{path.relative_to(SRC)}:{first} in {fn.name}")
    assert silent == []


def _module_says_why(lines: list[str]) -> bool:
    """A module whose docstring explains, once, why its heavy imports wait inside functions."""
    head = "\n".join(lines[:40]).lower()
    return "imported inside the functions" in head or "imported inside the synthesis functions" in head


@pytest.mark.parametrize("name", sorted(MODULES))
def test_modules_stay_readable(name):
    n = len(MODULES[name].read_text().splitlines())
    assert n <= MAX_MODULE_LINES, f"{MODULES[name].relative_to(SRC)} has {n} lines"
