"""The package modules each pipeline step runs, derived from the code (not kept by hand).

A step is a CLI subcommand, `ridgerenorm <step>`.  Its modules are the import closure of `ridgerenorm.cli`
that the subcommand reaches: every module-level import of every module reached, plus the imports placed
inside the functions that belong to the step (cli.py's `_load_modules`, which every step runs, `cmd_<step>`,
and functions or model methods named after the step, such as `Model.simulate`).  The package keeps step-specific heavy imports inside those
functions (models import the theory package only in their `theory` method), so an edit to a module reruns exactly
the steps that import it.  tests/test_deps.py checks the closure against the modules a real run of each
subcommand has loaded.

    python -m ridgerenorm.deps simulate      # the files the simulate rule depends on
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import sys
from pathlib import Path

__all__ = ["PACKAGE_DIR", "STEPS", "closure", "step_modules", "module_files", "step_files", "kind_stamp",
           "stamp_files"]

PACKAGE = "ridgerenorm"
PACKAGE_DIR = Path(__file__).resolve().parent
# extra function names (beyond cmd_<step> and <step>) whose imports belong to a step
STEP_FUNCTIONS = {"figure": ("render", "draw", "check_figure", "_figure_record"), "spectra-data": ("spectra_data", "check_figure"),
                  "contact-sheet": ("contact_sheet",)}
STEPS = ("spectrum", "simulate", "merge", "theory", "figure", "agreement", "spectra-data", "audit", "cache",
         "contact-sheet")
# Modules that are not code: _version.py is written by setuptools-scm at every (re)install, so as a rule input
# it would rerun the whole pipeline after `pip install -e .` (the version is recorded in each file instead).
NOT_CODE = {f"{PACKAGE}._version"}


def _module_file(name: str) -> Path | None:
    if name.split(".")[0] != PACKAGE:  # a module outside the package (a figure kind registered from outside)
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            return None
        origin = Path(spec.origin) if spec is not None and spec.origin else None
        return origin if origin is not None and origin.suffix == ".py" and origin.is_file() else None
    rel = name.split(".")[1:]
    base = PACKAGE_DIR.joinpath(*rel)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _resolve(module: str, node: ast.ImportFrom | ast.Import) -> list[str]:
    """Package modules an import statement inside `module` loads (parents included)."""
    names = []
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    else:
        if node.level:
            parts = module.split(".")
            is_pkg = _module_file(module) is not None and _module_file(module).name == "__init__.py"
            anchor = parts if is_pkg else parts[:-1]
            anchor = anchor[: len(anchor) - (node.level - 1)]
            base = ".".join(anchor + ([node.module] if node.module else []))
        else:
            base = node.module or ""
        names = [base] + [f"{base}.{a.name}" for a in node.names]
    out = []
    for name in names:
        if name.split(".")[0] != PACKAGE or name in NOT_CODE or _module_file(name) is None:
            continue
        parts = name.split(".")
        out += [".".join(parts[:i]) for i in range(1, len(parts) + 1)]  # importing a.b.c runs a and a.b first
    return out


@functools.lru_cache(maxsize=None)
def _imports(module: str) -> tuple[tuple, dict]:
    """(module-level imports, {function name: imports inside it}) of a package module."""
    tree = ast.parse(_module_file(module).read_text())
    top, inner = [], {}

    def visit(node, owner):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                visit(child, owner or child.name)
            elif isinstance(child, (ast.Import, ast.ImportFrom)):
                found = _resolve(module, child)
                (inner.setdefault(owner, []) if owner else top).extend(found)
            else:
                visit(child, owner)

    visit(tree, None)
    return tuple(top), {k: tuple(v) for k, v in inner.items()}


def closure(roots, functions=()) -> set[str]:
    """Package modules importing `roots` loads, following the imports inside functions named in `functions`."""
    functions = set(functions)
    seen, todo = set(), [PACKAGE, *roots]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        top, inner = _imports(name)
        todo += top
        for fn in functions & set(inner):
            todo += inner[fn]
    return seen


def step_modules(step: str) -> set[str]:
    """Dotted names of the package modules `ridgerenorm <step>` imports."""
    if step not in STEPS:
        raise ValueError(f"unknown step {step!r} (known: {', '.join(STEPS)})")
    functions = {"_load_modules", f"cmd_{step.replace('-', '_')}", step.replace("-", "_"), *STEP_FUNCTIONS.get(step, ())}
    return closure([f"{PACKAGE}.cli"], functions)


def module_files(modules, root: str | Path | None = None) -> list[str]:
    """Source files of the dotted module names, relative to `root` (default: absolute), sorted."""
    files = sorted(_module_file(m) for m in modules)
    if root is None:
        return [str(f) for f in files]
    return [str(f.relative_to(Path(root).resolve())) if f.is_relative_to(Path(root).resolve()) else str(f)
            for f in files]


def step_files(step: str, root: str | Path | None = None) -> list[str]:
    """Source files of step_modules(step)."""
    return module_files(step_modules(step), root)


# Code stamps of a figure kind's own modules, which plotting loads by name ("module:function" in its registry
# entry): `plot_<m>` for its plot module and `data_<m>` for the module of its data builder, <m> relative to
# the package folder named here, or a whole dotted name for a module outside the package.
KIND_STAMPS = {"plot_": f"{PACKAGE}.plotting.", "data_": f"{PACKAGE}."}


def kind_stamp(prefix: str, module: str) -> str:
    """The code stamp name of a figure kind's plot ("plot_") or data ("data_") module."""
    return prefix + module.removeprefix(KIND_STAMPS[prefix])


def stamp_files(name: str, root: str | Path | None = None) -> list[str]:
    """Source files behind the code stamp `name`: a step's (step_files), or, for `plot_<m>` and `data_<m>`
    (kind_stamp), the import closure of a figure kind's plot or data module (workflow code stamps and
    `ridgerenorm status`)."""
    for prefix, folder in KIND_STAMPS.items():
        if name.startswith(prefix):
            module = name.removeprefix(prefix)
            inside = folder + module
            return module_files(closure([inside if _module_file(inside) is not None else module]), root)
    return step_files(name, root)


def main(argv=None) -> int:
    for step in argv or sys.argv[1:] or STEPS:
        print(f"{step}: {' '.join(sorted(m.removeprefix(PACKAGE + '.') for m in step_modules(step)))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
