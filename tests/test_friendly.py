"""Messages for the mistakes of a first hour: YAML's 1e-2 (text in YAML 1.1), an overlay checked alone, an
unknown spectrum kind, a covariance matrix where the theory takes its eigenvalues."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ridgerenorm import spectrum_kinds
import yaml

from ridgerenorm import densities, spectra, theory

ROOT = Path(__file__).resolve().parents[1]


def check_config(*files):
    return subprocess.run([sys.executable, "-m", "ridgerenorm.cli", "check-config", *map(str, files)], cwd=ROOT,
                          capture_output=True, text=True)


@pytest.mark.parametrize("text, hint, fixed", [
    ("experiments:\n  b2_isotropic: {ridge: 1e-2}\n", "(YAML reads 1e-2 as text: write 1.0e-2)",
     "experiments:\n  b2_isotropic: {ridge: 1.0e-2}\n"),
    ("experiments:\n  b2_isotropic: {sigma_eps: 2.5e1}\n", "(YAML reads 2.5e1 as text: write 2.5e+1)", None),
    ("figures:\n  A1: {params: {N: 2e3}}\n", "(YAML reads 2e3 as text: write 2000)",
     "figures:\n  A1: {params: {N: 2000}}\n"),
    ("experiments:\n  b2_isotropic: {sigma_eps: '1.0e-2'}\n", "a number in quotes is text: write 1.0e-2 without quotes",
     "experiments:\n  b2_isotropic: {sigma_eps: 1.0e-2}\n"),
])
def test_a_number_yaml_reads_as_text_gets_the_spelling_it_reads_as_a_number(tmp_path, text, hint, fixed):
    overlay = tmp_path / "o.yaml"
    overlay.write_text(text)
    assert isinstance(next(iter(yaml.safe_load(text).values())), dict)
    res = check_config("config/config.yaml", overlay)
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1
    assert hint in res.stderr, res.stderr
    if fixed:  # the spelling the hint gives is read as a number and passes
        overlay.write_text(fixed)
        res = check_config("config/config.yaml", overlay)
        assert res.returncode == 0, res.stderr


def test_an_overlay_checked_alone_says_it_is_one_and_how_to_check_it():
    res = check_config("config/quick.yaml")
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1
    assert res.stderr.startswith("config error: config/quick.yaml is an overlay, not a whole config")
    command = res.stderr.strip().rsplit("give it after the base: ", 1)[1].split()
    assert command == ["config/config.yaml", "config/quick.yaml"]
    res = check_config(*command)
    assert res.returncode == 0 and res.stdout.startswith("config OK: scale 'quick'")
    # a whole config with a missing key is not called an overlay
    res = check_config("config/config.yaml", "config/config.yaml")
    assert res.returncode == 0


def test_population_is_documented_and_names_an_unknown_kind_in_one_line():
    doc = spectra.population.__doc__
    for word in ("isotropic", "power_law", "blocks", "flat", "norm", "ValueError"):
        assert word in doc
    eta, w = spectra.population({"kind": "power_law", "D": 5, "alpha": 2.0}, {"kind": "power_law", "r": 0.5})
    assert np.allclose(eta, np.arange(1, 6) ** -2.0) and np.allclose(w, np.arange(1, 6) ** -0.5)
    for spec in ({"kind": "gaussian", "D": 10}, {"kind": "powerlaw", "n": 3}, {"D": 10}):
        with pytest.raises(ValueError) as err:
            spectra.population(spec, {"kind": "flat"})
        known = ", ".join(sorted(spectrum_kinds.SPECTRUM_KINDS))  # a test may have registered a toy kind
        assert str(err.value) == f"spectrum.kind = {spec.get('kind')!r}: unknown spectrum kind (known: {known})"
    with pytest.raises(ValueError, match=r"^teacher.kind = 'sparse': unknown teacher kind \(known: .*flat.*\)$"):
        spectra.population({"kind": "isotropic", "D": 3}, {"kind": "sparse"})


def test_a_covariance_matrix_where_eigenvalues_go_is_refused_in_one_line():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 4))
    Sigma = X.T @ X / 50
    w = np.ones(4)
    calls = {
        "df1": lambda eta: theory.df1(eta, 0.1),
        "tf1": lambda eta: theory.tf1(eta, w, 0.1),
        "solve_kappa": lambda eta: theory.solve_kappa(eta, 10, 0.1),
        "linear_ridge": lambda eta: theory.linear_ridge(eta, w, [10, 20], 0.1),
        "random_features": lambda eta: theory.random_features(eta, w, [10], widths=[5], lam=0.1),
        "silverstein_density": lambda eta: densities.silverstein_density(np.linspace(0.1, 2, 5), eta, 0.5),
        "wishart_eigenvalues": lambda eta: densities.wishart_eigenvalues(eta, 10, (0, 1)),
    }
    for name, call in calls.items():
        with pytest.raises(ValueError) as err:
            call(Sigma)
        assert str(err.value) == ("eta must be a non-empty 1-D array of eigenvalues, got shape (4, 4): for a "
                                  "covariance matrix Sigma pass its eigenvalues, np.linalg.eigvalsh(Sigma)"), name
        with pytest.raises(ValueError, match=r"got shape \(1, 4\): flatten it \(np\.ravel\)$"):
            call(np.linalg.eigvalsh(Sigma)[None, :])
    # what the message says to do works
    th = theory.linear_ridge(np.linalg.eigvalsh(Sigma), w, [10, 20], 0.1)
    assert np.all(np.isfinite(th.eg.values)) and th.eg.shape == (2,)
