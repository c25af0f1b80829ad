"""The examples in the docstrings run and print what they show: doctest over the theory's modules, the
activations' closed forms, the spectrum kinds' registry and the curve command's library.  Each module must hold examples (attempted > 0),
so a test that finds none fails rather than passes, and every public function of the theory has one."""

import doctest
import importlib
import inspect

import pytest

from ridgerenorm import theory

MODULES = ["ridgerenorm.theory.solver", "ridgerenorm.theory.lr", "ridgerenorm.theory.rf",
           "ridgerenorm.theory.nonlinear", "ridgerenorm.theory.phase", "ridgerenorm.activations",
           "ridgerenorm.spectrum_kinds", "ridgerenorm.curve"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    # import_module, not `import a.b as m`: the package's attribute may name a function of the same name
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE, report=True)
    assert result.attempted > 0, f"{name} has no docstring examples"
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples in {name} failed (printed above)"


def test_every_public_theory_function_has_an_example():
    functions = [getattr(theory, n) for n in theory.__all__ if inspect.isfunction(getattr(theory, n))]
    assert len(functions) >= 11
    missing = [f.__name__ for f in functions if "\n    Examples\n    --------\n" not in f.__doc__ or ">>> " not in f.__doc__]
    assert missing == []
