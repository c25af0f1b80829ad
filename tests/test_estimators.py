"""Variance-component estimators on synthetic draws with known components (docs/theory.md §7)."""

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


def two_way_stats(e):
    """Sufficient statistics of two_way_components from full vectors e (n, m, D)."""
    R, C = e.sum(axis=1), e.sum(axis=0)
    G = e.sum(axis=(0, 1))
    return dict(a=np.einsum("ijd,ijd->ij", e, e), r=np.einsum("id,id->i", R, R), c=np.einsum("jd,jd->j", C, C),
                g=G @ G, rg=R @ G, cg=C @ G, b=np.einsum("ijd,jd->ij", e, C), h=np.einsum("ijd,id->ij", e, R),
                ge=e @ G, rc=R @ C.T)


def test_two_way_components_are_unbiased_and_se_is_calibrated():
    from ridgerenorm.estimators import two_way_components

    rng = np.random.default_rng(3)
    n, m, D, reps = 6, 5, 4, 3000
    mu = np.array([0.5, -0.2, 0.1, 0.0])
    sa, sb, sc = np.array([0.4, 0.3, 0.2, 0.1]), np.array([0.1, 0.5, 0.2, 0.3]), np.array([0.3, 0.3, 0.3, 0.3])
    truth = {"bias": mu @ mu, "var_x": sa @ sa, "var_f": sb @ sb, "var_xf": sc @ sc}
    est = {k: [] for k in list(truth) + [k + "_se" for k in truth]}
    naive_bias = []
    for _ in range(reps):
        e = (mu + sa * rng.standard_normal((n, 1, D)) + sb * rng.standard_normal((1, m, D))
             + sc * rng.standard_normal((n, m, D)))
        out = two_way_components(**two_way_stats(e))
        for k in est:
            est[k].append(out[k])
        naive_bias.append(np.sum(e.mean(axis=(0, 1)) ** 2))
    for k, v in truth.items():
        x = np.array(est[k])
        assert abs(x.mean() - v) < 4 * x.std() / np.sqrt(reps), (k, x.mean(), v)
        # Jackknife SE tracks the real spread of the estimates (it is known to be somewhat conservative).
        ratio = np.mean(est[k + "_se"]) / x.std()
        assert 0.7 < ratio < 1.8, (k, ratio)
    naive = np.array(naive_bias)
    assert naive.mean() - truth["bias"] > 10 * naive.std() / np.sqrt(reps)
