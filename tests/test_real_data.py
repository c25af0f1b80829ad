"""Figure R1: ridge and linear random features on scikit-learn's digits (models/real_data.py,
spectrum_kinds/digits.py) against the theory on the digits' own spectrum; scikit-learn is an optional extra
(in the test extra, so CI runs these)."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ridgerenorm import config as rr_config
from ridgerenorm import theory
from ridgerenorm.config import ConfigError
from ridgerenorm.estimators import mean_and_se
from ridgerenorm.models.linear_ridge import simulate_linear_ridge
from ridgerenorm.models.real_data import MIN_TEST_ROWS, simulate_real_data
from ridgerenorm.spectrum_kinds import digits, population

ROOT = Path(__file__).resolve().parents[1]
P_GRID = np.array([6, 11, 18, 30, 49, 135, 371, 1014])
LAM = np.full(P_GRID.size, 1e-3)

datasets = pytest.importorskip("sklearn.datasets")


def _rows(target):
    return digits.rows_of({"target": target})


def _theory_eg(target, P=P_GRID, widths=None):
    r = _rows(target)
    eta, w = population({"kind": "digits"}, {"kind": "digits", "target": target})
    if widths:
        return theory.random_features(eta, w, P, widths, np.full(len(P), 1e-3),
                                      sigma_eps=np.sqrt(r.noise_var))["eg"].values
    return theory.linear_ridge(eta, w, P, np.full(len(P), 1e-3), np.sqrt(r.noise_var))["eg"].values


def test_population_is_the_digits_own_covariance_and_least_squares_fit():
    data = datasets.load_digits()
    X = data.data / 16.0
    Xc = X - X.mean(axis=0)
    Y = np.eye(10)[data.target]
    Yc = Y - Y.mean(axis=0)
    beta = np.linalg.lstsq(Xc, Yc, rcond=None)[0]
    resid = Yc - Xc @ beta
    eta, w = population({"kind": "digits"}, {"kind": "digits", "target": "labels"})
    assert X.shape == (digits.N_ROWS, 64) == (digits.DIGITS.n_rows, digits.DIGITS.dimension({}))
    np.testing.assert_allclose(eta, np.sort(np.linalg.eigvalsh(Xc.T @ Xc / len(X)))[::-1], atol=1e-12)
    assert int(np.sum(eta < 1e-12)) == int(np.sum(X.std(axis=0) == 0)) == 3  # pixels blank in every image
    # w_k^2 = sum_c B_kc^2: the signal power and the residual (label noise) of the least-squares fit
    np.testing.assert_allclose(np.sum(eta * w**2), np.sum((Xc @ beta) ** 2) / len(X), rtol=1e-10)
    np.testing.assert_allclose(_rows("labels").noise_var, np.sum(resid**2) / len(X), rtol=1e-10)
    assert _rows("linear").noise_var == 0.0
    # the rows in the eigenbasis have covariance diag(eta) and the linear target is exactly Z B
    r = _rows("linear")
    np.testing.assert_allclose(r.Z.T @ r.Z / len(X), np.diag(eta), atol=1e-12)
    np.testing.assert_allclose(r.Y, r.Z @ r.B, atol=1e-12)


def test_well_below_the_rank_the_fits_follow_the_theory_and_a_theory_without_the_noise_does_not():
    """Rows drawn with replacement (the theory's sampling): for P up to half the rank (61 for ridge, N = 32 for
    the random features) the excess error of the one-hot labels is within 4 % and 4 SE of the
    Gaussian-equivalent theory; the same theory without the residual as label noise misses by more than 30 %."""
    r = _rows("labels")
    for widths in (None, [32]):
        small = P_GRID <= (widths[0] if widths else 61) / 2  # up to half the rank of the features
        out = simulate_real_data(r.Z, r.Y, r.B, P_GRID, LAM, range(120), widths=widths, sampling="iid",
                                 experiment="test_r1", seed=11)
        m, _, se = mean_and_se(out["eg"])
        th = _theory_eg("labels", widths=widths)
        assert np.all(np.abs(m[small] / th[small] - 1) < 0.04), (widths, m / th)
        assert np.all(np.abs(m[small] - th[small]) < 4 * se[small]), (widths, (m - th) / se)
        eta, w = population({"kind": "digits"}, {"kind": "digits", "target": "labels"})
        noiseless = (theory.random_features(eta, w, P_GRID, widths, LAM) if widths else
                     theory.linear_ridge(eta, w, P_GRID, LAM))["eg"].values
        assert np.max(np.abs(m[small] / noiseless[small] - 1)) > 0.3
        # the held-out test error is the excess plus the label noise (the residual is uncorrelated with x)
        np.testing.assert_allclose(mean_and_se(out["test_error"])[0], m + r.noise_var, rtol=1e-9)


def test_above_the_rank_the_digits_depart_where_gaussian_rows_with_their_covariance_do_not():
    """The departure R1 shows: the noiseless linear teacher, rows drawn with replacement, P = 135-1014.  The
    digits' excess error is 3-25 % above the theory; Gaussian rows with the same covariance and teacher are
    within 3 % (so the departure is not a finite-size effect of D = 64)."""
    r = _rows("linear")
    large = P_GRID >= 135
    th = _theory_eg("linear")
    out = simulate_real_data(r.Z, r.Y, r.B, P_GRID, LAM, range(200), sampling="iid", experiment="test_r1", seed=12)
    m, _, se = mean_and_se(out["eg"])
    ratio = m[large] / th[large]
    assert np.all((ratio > 1.03) & (ratio < 1.25)), ratio
    assert np.all((m[large] - th[large]) / se[large] > 3), (m - th) / se
    eta, w = population({"kind": "digits"}, {"kind": "digits", "target": "linear"})
    gauss = simulate_linear_ridge(eta, w, P_GRID, LAM, 0.0, range(200), experiment="test_r1_gauss", seed=12)
    g, _, gse = mean_and_se(gauss["eg"])
    assert np.all(np.abs(g[large] / th[large] - 1) < 0.03), g / th


def test_held_out_subsets_fall_below_the_theory_as_p_nears_the_population():
    """Without replacement the label-noise part of the error shrinks with the rows left: at P = 1014 of 1797
    the held-out excess error is well below the theory, while rows drawn with replacement are not."""
    r = _rows("labels")
    P, lam = np.array([1014]), np.array([1e-3])
    th = _theory_eg("labels", P)
    held = mean_and_se(simulate_real_data(r.Z, r.Y, r.B, P, lam, range(60), experiment="t", seed=13)["eg"])[0]
    iid = mean_and_se(simulate_real_data(r.Z, r.Y, r.B, P, lam, range(60), sampling="iid", experiment="t",
                                         seed=13)["eg"])[0]
    assert held[0] / th[0] < 0.8 < 0.95 < iid[0] / th[0] < 1.15, (held / th, iid / th)


@pytest.mark.parametrize("widths, sampling", [(None, "held_out"), ([16], "iid")])
def test_one_stream_per_draw_gives_the_same_bits_for_any_block_split(widths, sampling):
    r = _rows("labels")
    kw = dict(widths=widths, sampling=sampling, experiment="r1_blocks", seed=7)
    whole = simulate_real_data(r.Z, r.Y, r.B, P_GRID, LAM, range(0, 7), **kw)
    parts = [simulate_real_data(r.Z, r.Y, r.B, P_GRID, LAM, range(a, b), **kw) for a, b in ((0, 2), (2, 3), (3, 7))]
    for name in ("eg", "test_error", "etr"):
        joined = np.concatenate([p[name] for p in parts])
        assert np.array_equal(whole[name], joined), name
    other = simulate_real_data(r.Z, r.Y, r.B, P_GRID, LAM, range(0, 7), **dict(kw, seed=8))
    assert not np.array_equal(whole["eg"], other["eg"])  # the seed does reach the draws


def _experiment(**over):
    exp = {"model": "real_data", "spectrum": {"kind": "digits"}, "teacher": {"kind": "digits", "target": "labels"},
           "ridge": 1e-3, "samples": {"logspace": [-1.2, 1.2, 20]}, "draws": 4}
    return exp | over


def test_config_refuses_a_grid_that_leaves_too_few_test_rows_and_a_foreign_noise():
    rr_config.check_experiment("r", _experiment())
    with pytest.raises(ConfigError, match=rf"experiments\.r\.samples = .*fewer than {MIN_TEST_ROWS} of the 1797"):
        rr_config.check_experiment("r", _experiment(samples={"logspace": [-1.5, 1.2, 20]}))
    rr_config.check_experiment("r", _experiment(samples={"logspace": [-1.5, 1.2, 20]}, sampling="iid"))
    with pytest.raises(ConfigError, match=r"experiments\.r\.sigma_eps = 0\.1: .*residual"):
        rr_config.check_experiment("r", _experiment(sigma_eps=0.1))
    with pytest.raises(ConfigError, match=r"experiments\.r\.spectrum = \{'kind': 'isotropic'.*holds rows"):
        rr_config.check_experiment("r", _experiment(spectrum={"kind": "isotropic", "D": 10}, teacher={"kind": "flat"}))


def test_without_scikit_learn_the_kind_says_so_in_one_line_and_the_workflow_leaves_r1_out(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    digits._decompose.cache_clear()
    try:
        why = digits.DIGITS.unavailable({"kind": "digits"})
        assert why == ("spectrum.kind = 'digits' needs scikit-learn, an optional extra: "
                       "pip install \"ridgerenorm[data]\"")
        with pytest.raises(digits.MissingExtra, match="^error: spectrum.kind = 'digits' needs scikit-learn") as err:
            population({"kind": "digits"}, {"kind": "digits", "target": "labels"})
        assert "\n" not in str(err.value)
        cfg = rr_config.load_config(ROOT / "config" / "config.yaml")  # validates without the extra
        assert rr_config.unavailable_figures(cfg) == {"R1": f"figure R1 is left out: experiments.r1_ridge.{why}"}
        assert set(rr_config.unavailable_experiments(cfg)) == set(cfg["figures"]["R1"]["experiments"].values())
    finally:
        digits._decompose.cache_clear()


def test_dry_run_without_scikit_learn_plans_every_other_figure(tmp_path):
    shim = tmp_path / "shim" / "sklearn"
    shim.mkdir(parents=True)
    (shim / "__init__.py").write_text("raise ImportError('scikit-learn is not installed (test shim)')\n")
    env = dict(os.environ, PYTHONPATH=f"{shim.parent}{os.pathsep}{ROOT / 'src'}")
    res = subprocess.run(["snakemake", "-n", "--forceall", "--configfile", "config/quick.yaml"], cwd=ROOT, env=env,
                         capture_output=True, text=True)
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-3000:]
    assert "figure R1 is left out: experiments.r1_ridge.spectrum.kind = 'digits' needs scikit-learn" in out
    assert "R1_real-digits" not in out and "results/quick/simulation/r1_" not in out and "exp=r1_" not in out
    assert "results/quick/figures/B2_lr-isotropic.pdf" in out and "results/quick/agreement.csv" in out
