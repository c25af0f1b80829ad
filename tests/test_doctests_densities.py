"""The `Examples` of the random-matrix densities, the population spectra and the sample grids run as doctests:
every module below has examples, and each of them gives the output its docstring shows."""

import doctest
import importlib

import pytest

MODULES = ["ridgerenorm.densities", "ridgerenorm.spectra", "ridgerenorm.spectrum_kinds", "ridgerenorm.grids"]


@pytest.mark.parametrize("name", MODULES)
def test_examples_run_and_give_their_output(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0, f"{name}: {result.failed} of {result.attempted} examples failed"
