"""Variance-component estimators on synthetic draws with known components (THEORY.md §7)."""

import numpy as np

from ridgerenorm.estimators import agreement_rows, mean_and_se, one_way_components, relative_deviation


def synthetic(rng, reps, n, D):
    mu = np.linspace(0.2, -0.1, D)  # Bias^2 = |mu|^2
    scale = np.linspace(0.3, 1.2, D)  # Var_X = sum scale^2
    e = mu + scale * rng.standard_normal((reps, n, D))
    return e, float(mu @ mu), float(scale @ scale)


def test_one_way_components_are_unbiased():
    rng = np.random.default_rng(1)
    n, D, reps = 5, 8, 4000
    e, bias_true, var_true = synthetic(rng, reps, n, D)
    est = one_way_components(np.moveaxis(e, 0, 1))  # draws first, replications as a batch axis
    assert abs(est["bias"].mean() - bias_true) < 4 * est["bias"].std() / np.sqrt(reps)
    assert abs(est["var_x"].mean() - var_true) < 4 * est["var_x"].std() / np.sqrt(reps)
    # The naive plug-in |mean e|^2 overestimates Bias^2 by Var_X/n: far outside the same band.
    naive = np.einsum("rd,rd->r", e.mean(axis=1), e.mean(axis=1))
    assert naive.mean() - bias_true > 10 * est["bias"].std() / np.sqrt(reps)


def test_jackknife_se_matches_spread_of_estimates():
    rng = np.random.default_rng(2)
    n, D, reps = 30, 6, 1500
    e, _, _ = synthetic(rng, reps, n, D)
    est = one_way_components(np.moveaxis(e, 0, 1))
    for name in ("bias", "var_x"):
        ratio = est[name + "_se"].mean() / est[name].std()
        # The jackknife variance is known to be mildly conservative; a wrong SE is off by ~sqrt(n).
        assert 0.8 < ratio < 1.45, (name, ratio)


def test_mean_and_se():
    x = np.array([[1.0, 2.0], [3.0, 2.0], [5.0, 2.0]])
    m, s, se = mean_and_se(x)
    np.testing.assert_allclose(m, [3.0, 2.0])
    np.testing.assert_allclose(s, [2.0, 0.0])
    np.testing.assert_allclose(se, [2.0 / np.sqrt(3), 0.0])


def test_relative_deviation_and_agreement_rows():
    import xarray as xr

    np.testing.assert_allclose(relative_deviation([1.1, 0.5], [1.0, 0.0]), [0.1, np.nan])
    P = np.array([10.0, 20.0, 40.0])
    th = xr.Dataset({"eg": ("P", [1.0, 0.7, 0.5, 0.25])}, coords={"P": [10.0, 15.0, 20.0, 40.0]})
    sim = xr.Dataset({"eg": ("P", [1.1, 0.5, 0.2]), "eg_se": ("P", [0.05, 0.1, 0.05])}, coords={"P": P})
    (row,) = agreement_rows("x", sim, th)
    assert row["n_points"] == 3
    np.testing.assert_allclose(row["median_rel_dev"], 0.1)
    np.testing.assert_allclose(row["max_rel_dev"], 0.2)
    np.testing.assert_allclose(row["median_abs_dev_over_se"], 1.0)
