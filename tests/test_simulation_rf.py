"""Random-feature simulation (two-way grid) against the theory and against itself."""

import numpy as np
import pytest

from ridgerenorm import theory
from ridgerenorm.estimators import two_way_components, two_way_mean_se
from ridgerenorm.features import LinearFeatures, feature_weights
from ridgerenorm.models.random_features import rf_error_statistics, simulate_random_features
from ridgerenorm.streams import STREAM_DATA, seed_sequence
from ridgerenorm.spectra import population


def run(spectrum, teacher, P, lam, widths, sigma_eps=0.0, sigma_xi=0.0, n=16, m=16, name="rf"):
    eta, w = population(spectrum, teacher)
    P = np.asarray(P)
    out = simulate_random_features(eta, w, P, np.full(P.size, lam), widths, sigma_eps, sigma_xi, range(n), m,
                                   experiment=name, seed=7, threads=2)
    stats = rf_error_statistics(out["v_clean"], eta, w, LinearFeatures(eta.size, tuple(widths), name, 7), sigma_xi)
    comp = two_way_components(**stats)
    th = theory.random_features(eta, w, P, widths, lam, sigma_eps=sigma_eps, sigma_xi=sigma_xi)
    return eta, w, out, comp, th


def test_matches_direct_solve_for_one_pair():
    D, N, P = 30, 20, np.array([12, 45])
    eta, w = population({"kind": "power_law", "D": D, "alpha": 1.2}, {"kind": "power_law", "r": 0.6})
    out = simulate_random_features(eta, w, P, np.full(2, 1e-2), [N], 0.2, 0.0, range(3), 3, experiment="d", seed=1)
    i, j = 2, 1
    rng = np.random.default_rng(seed_sequence(1, "d", STREAM_DATA, i))
    X = rng.standard_normal((P[-1], D)) * np.sqrt(eta)
    eps = rng.standard_normal(P[-1]) * 0.2
    F = feature_weights(D, [N], j, experiment="d", seed=1)
    # the feature product is the one float32 step (features.py): the fit sees rounded features, the risk
    # is that of F v with F in float64
    Phi32 = (X.astype(np.float32) @ F.astype(np.float32)).astype(float)
    for jp, p in enumerate(P):
        y = X[:p] @ w + eps[:p]
        eg = {}
        for name, Phi in (("rounded", Phi32[:p]), ("exact", X[:p] @ F)):
            v = np.linalg.solve(Phi.T @ Phi / p + 1e-2 * np.eye(N), Phi.T @ y / p)
            e = np.sqrt(eta) * (F @ v - w)
            eg[name] = e @ e
            if name == "rounded":
                np.testing.assert_allclose(out["etr"][i, j, jp], np.mean((y - Phi @ v) ** 2), rtol=1e-6)
        np.testing.assert_allclose(out["eg"][i, j, jp], eg["rounded"], rtol=1e-7)
        # the rounding moves E_g of a fit by ~1e-6 of itself, far below any standard error
        assert 0 < abs(eg["rounded"] / eg["exact"] - 1) < 2e-5, eg


@pytest.mark.parametrize("case", ["isotropic", "powerlaw_noisy", "deep", "additive"])
def test_simulation_matches_theory(case):
    iso = ({"kind": "isotropic", "D": 200}, {"kind": "flat", "norm": 1.0})
    pl = ({"kind": "power_law", "D": 300, "alpha": 1.5}, {"kind": "power_law", "r": 0.6, "norm": 1.0})
    args = {
        "isotropic": (*iso, [60, 250], 1e-2, [100]),
        "powerlaw_noisy": (*pl, [80, 400], 1e-3, [150]),
        "deep": (*pl, [80, 400], 1e-3, [200, 120]),
        "additive": (*iso, [60, 250], 1e-2, [100]),
    }[case]
    kw = {"powerlaw_noisy": {"sigma_eps": 0.3}, "additive": {"sigma_xi": 0.3, "sigma_eps": 0.2}}.get(case, {})
    eta, w, out, comp, th = run(*args, **kw, name=case)
    eg, _, se = two_way_mean_se(out["eg"])
    z = np.abs(eg - th.eg.values) / se
    assert np.all(z < 3.0) and np.all(np.abs(eg / th.eg.values - 1) < 0.12), (eg / th.eg.values, z)
    # The components add back up to the simulated E_g (up to the noise parts, estimated separately).
    signal = comp["bias"] + comp["var_x"] + comp["var_f"] + comp["var_xf"]
    th_signal = (th.bias + th.var_x + th.var_f + th.var_xf).values
    assert np.all(np.abs(signal / th_signal - 1) < 0.12), signal / th_signal
    np.testing.assert_allclose(out["df1_hat"].mean(axis=(0, 1)), th.df1.values, rtol=0.03)
    np.testing.assert_allclose(out["kappa_hat"].mean(axis=(0, 1)), th.kappa1.values, rtol=0.06)


def test_bit_identical_across_threads_and_draw_blocks():
    eta, w = population({"kind": "power_law", "D": 60, "alpha": 1.3}, {"kind": "power_law", "r": 0.5})
    P, lam = np.array([10, 40, 90]), np.full(3, 1e-3)
    kw = dict(experiment="bits", seed=2)
    a = simulate_random_features(eta, w, P, lam, [30], 0.1, 0.1, range(4), 3, threads=1, **kw)
    grouped = simulate_random_features(eta, w, P, lam, [30], 0.1, 0.1, range(4), 3, threads=2, mem_budget_bytes=1, **kw)
    assert grouped["feature_groups"] == 3 and a["feature_groups"] == 1
    b1 = simulate_random_features(eta, w, P, lam, [30], 0.1, 0.1, range(0, 1), 3, threads=2, **kw)
    b2 = simulate_random_features(eta, w, P, lam, [30], 0.1, 0.1, range(1, 4), 3, threads=2, **kw)
    for key in ("eg", "etr", "df1_hat", "kappa_hat", "gcv", "v_clean", "noise_row_sq", "noise_within"):
        assert np.array_equal(a[key], np.concatenate([b1[key], b2[key]]), equal_nan=True), key
        assert np.array_equal(a[key], grouped[key], equal_nan=True), key


def test_float32_flops_are_the_plans():
    """The float32 flops a simulation reports (its feature products X F) are those the plan counts at the
    float32 rate (Model.flops' gemm32) for the same experiment: 3 data draws x 2 feature draws of a
    50 x 30 times 30 x 20 product, 2 * 50 * 30 * 20 flops each."""
    from ridgerenorm.models import get_model

    eta, w = population({"kind": "power_law", "D": 30, "alpha": 1.2}, {"kind": "power_law", "r": 0.6})
    spec = {"D": 30, "samples": [2.5, 0.6], "ridge": 1e-2, "draws": 3, "widths": [20], "feature_draws": 2}
    P = np.array([12, 50])
    out = simulate_random_features(eta, w, P, np.full(2, 1e-2), [20], 0.0, 0.0, range(3), 2, experiment="f", seed=1)
    assert out["flops_features"] == get_model("random_features").flops(spec)["gemm32"] == 6 * 2 * 50 * 30 * 20
    assert out["flops_features"] < out["flops"]


def test_features_are_laid_out_per_feature_draw():
    """LinearFeatures.apply writes X F_j into Phi[j] (contiguous per feature draw) for a group of draws, with X
    longer than one 256-row block and not a multiple of it."""
    from threadpoolctl import threadpool_limits


    rng = np.random.default_rng(0)
    D, N, g, P = 40, 7, 3, 700
    X = rng.standard_normal((P, D))
    Fs = [rng.standard_normal((D, N)) for _ in range(g)]
    Phi = np.full((g, P, N), np.nan)
    with threadpool_limits(limits=1, user_api="blas"):
        LinearFeatures(D, (N,), "layout", 0).apply(X, LinearFeatures.rounded(Fs), Phi, threads=2)
    assert Phi[1].flags.c_contiguous and Phi.dtype == np.float64
    for j in range(g):
        # the float32 product of the rounded operands, stored in float64; within float32 round-off of X F_j
        np.testing.assert_allclose(Phi[j], X.astype(np.float32) @ Fs[j].astype(np.float32), rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(Phi[j], X @ Fs[j], rtol=1e-4, atol=1e-5)
        assert not np.array_equal(Phi[j], X @ Fs[j])
