"""The shape of the package's imports, read from the source with `ast` (nothing is imported): the modules
form three layers, numeric kernels <- kinds (the registries: models, figure kinds, spectrum kinds) <-
pipeline, and every import, at module level or inside a function, points to the module's own layer or a
lower one; and no import cycle exists, neither among module-level imports nor counting the imports placed
inside functions."""

import ast
from pathlib import Path

import pytest

from ridgerenorm.deps import PACKAGE_DIR

PACKAGE = PACKAGE_DIR.name
# each module's layer, by its first name inside the package (a subpackage's modules share its layer)
LAYERS = {
    0: ("errors", "finite", "strict_yaml", "limits", "progress", "parallel", "streams", "features", "fits", "costs",
        "activations", "theory", "densities", "io", "quantities", "estimators", "notes", "grids"),
    1: ("models", "plotting", "spectra", "spectrum_kinds"),
    2: ("config", "commands", "cli", "cache", "deps", "status", "audit", "captions", "report_tables", "agreement",
        "exponents", "curve", "explore", "inventory", "summary", "verdicts", "worker"),
}
LAYER_NAMES = {0: "numeric kernels", 1: "kinds", 2: "pipeline"}
NOT_CODE = {"_version"}  # written by setuptools-scm at install


def module_name(path: Path, root: Path) -> str:
    rel = path.relative_to(root.parent).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def package_modules(root: Path) -> dict[str, Path]:
    return {module_name(p, root): p for p in sorted(root.rglob("*.py")) if p.stem not in NOT_CODE}


def imported(module: str, path: Path, node, modules) -> set[str]:
    """Package modules an import statement of `module` runs: the modules it names and their parent
    packages, leaving out the packages `module` itself belongs to (already running when it runs)."""
    if isinstance(node, ast.Import):
        targets = [a.name for a in node.names]
    else:
        base = node.module or ""
        if node.level:
            anchor = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
            anchor = anchor[: len(anchor) - (node.level - 1)]
            base = ".".join(anchor + ([node.module] if node.module else []))
        targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
    own = {".".join(module.split(".")[:i]) for i in range(1, module.count(".") + 1)}
    out = set()
    for name in targets:
        parts = name.split(".")
        out |= {".".join(parts[:i]) for i in range(1, len(parts) + 1)}
    return {m for m in out if m in modules and m != module and m not in own}


def import_graph(root: Path) -> tuple[dict, dict]:
    """(module -> modules its module-level imports run, module -> modules imported inside its functions)."""
    modules = package_modules(root)
    top, inner = {m: set() for m in modules}, {m: set() for m in modules}

    def visit(module, path, node, in_function):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                visit(module, path, child, True)
            elif isinstance(child, (ast.Import, ast.ImportFrom)):
                (inner if in_function else top)[module] |= imported(module, path, child, modules)
            else:
                visit(module, path, child, in_function)

    for module, path in modules.items():
        visit(module, path, ast.parse(path.read_text()), False)
    return top, inner


def layer_of(module: str) -> int:
    first = module.split(".")[1] if "." in module else None
    if first is None:
        return 0  # the package's __init__ (its version)
    found = [layer for layer, names in LAYERS.items() if first in names]
    assert found, f"{module}: put it in a layer (tests/test_house.py LAYERS)"
    return found[0]


def cycles(graph: dict) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iteratively)."""
    index, low, on_stack, stack, found, counter = {}, {}, set(), [], [], [0]
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            v, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[v] = min(low[v], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
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
    return found


GRAPH = import_graph(PACKAGE_DIR)


def test_every_module_is_in_a_layer():
    modules = package_modules(PACKAGE_DIR)
    assert len(modules) > 30 and f"{PACKAGE}.config" in modules and f"{PACKAGE}.models.base" in modules
    assert {layer_of(m) for m in modules} == set(LAYERS)


def test_imports_point_to_the_same_layer_or_a_lower_one():
    top, inner = GRAPH
    upward = sorted(f"{m} ({LAYER_NAMES[layer_of(m)]}) imports {t} ({LAYER_NAMES[layer_of(t)]})"
                    + (" inside a function" if t in inner[m] - top[m] else "")
                    for m in top for t in top[m] | inner[m] if layer_of(t) > layer_of(m))
    assert upward == []


@pytest.mark.parametrize("where", ["module level", "module level and inside functions"])
def test_no_import_cycle(where):
    top, inner = GRAPH
    graph = top if where == "module level" else {m: top[m] | inner[m] for m in top}
    assert sum(len(v) for v in graph.values()) > 50  # the graph was read
    assert cycles(graph) == []


def test_the_checks_find_what_they_look_for(tmp_path):
    """A package with a cycle inside functions and an arrow from a kernel up to the pipeline is caught."""
    root = tmp_path / PACKAGE
    (root / "models").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "models" / "__init__.py").write_text("from .base import X\n")
    (root / "models" / "base.py").write_text("X = 1\n\ndef f():\n    from ..config import Y\n")
    (root / "config.py").write_text("from .models import X\nY = 2\n")
    (root / "theory.py").write_text("def g():\n    from . import config\n")
    top, inner = import_graph(root)
    assert top[f"{PACKAGE}.config"] == {f"{PACKAGE}.models"}
    assert cycles(top) == []
    assert cycles({m: top[m] | inner[m] for m in top}) == [
        [f"{PACKAGE}.config", f"{PACKAGE}.models", f"{PACKAGE}.models.base"]]
    assert [t for m in top for t in inner[m] if layer_of(t) > layer_of(m)] == [f"{PACKAGE}.config"] * 2
