"""`ridgerenorm audit`: the provenance record of each kind of output, and bit-for-bit recomputation."""

import json
import subprocess
import sys

import numpy as np
import pytest

from ridgerenorm import audit, io

from test_pipeline import ROOT, quick  # noqa: F401  (the quick-scale fixture)


@pytest.mark.parametrize("relpath", [
    "spectra/b2_double_descent.nc",
    "theory/c3_variance_limited.nc",
    "simulation/b2_double_descent.nc",  # linear ridge: regenerates its temporary block
    "simulation/d2_transition.nc",  # additive-noise random features: v-storage merge
    "simulation/c7_anisotropic_weights.nc",  # width sweep
    "spectra_data/A1.nc",
])
def test_verify_recomputes_bit_identically(quick, relpath, monkeypatch):  # noqa: F811
    monkeypatch.chdir(ROOT)
    path = f"results/quick/{relpath}"
    text, problems = audit.describe(path)
    assert problems == [] and "made by:     ridgerenorm" in text and "git commit:" in text
    assert audit.recompute_and_compare(path) == {}


def test_changed_input_is_reported(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = {"name": "t", "D": 20, "model": "linear_ridge", "spectrum": {"kind": "isotropic", "D": 20},
            "teacher": {"kind": "flat"}, "ridge": 0.1, "sigma_eps": 0.0, "samples": [0.5, 2.0],
            "theory_samples": {"logspace": [-1, 1, 9]}}
    cli = [sys.executable, "-m", "ridgerenorm.cli"]
    subprocess.run(cli + ["spectrum", "--spec", json.dumps(spec), "--out", "s.nc"], check=True)
    subprocess.run(cli + ["theory", "--spec", json.dumps(spec), "--spectrum", "s.nc", "--out", "t.nc"], check=True)
    assert audit.main("t.nc") == 0
    spec["teacher"] = {"kind": "flat", "norm": 3.0}  # the input changes after t.nc was made
    subprocess.run(cli + ["spectrum", "--spec", json.dumps(spec), "--out", "s.nc"], check=True)
    _, problems = audit.describe("t.nc")
    assert problems == ["s.nc: CHANGED since this file was made"]
    assert audit.main("t.nc", verify=True) == 1
    assert json.loads(io.read_dataset("t.nc").attrs["inputs"])  # the record keeps the original checksum


def test_max_relative_difference_separates_roundoff_from_change():
    a = np.array([1.0, -2.0, 0.0, np.nan])
    assert audit._max_relative_difference(a, a.copy()) == 0.0
    b = a.copy()
    b[1] = np.nextafter(-2.0, 0.0)  # one ulp
    assert 0 < audit._max_relative_difference(a, b) < 3e-16
    b[0] = 1.1
    assert abs(audit._max_relative_difference(a, b) - 0.1 / 1.1) < 1e-12
    b[3] = 0.0  # NaN pattern differs
    assert audit._max_relative_difference(a, b) == float("inf")
    assert audit._max_relative_difference(a, a[:2]) == float("inf")
