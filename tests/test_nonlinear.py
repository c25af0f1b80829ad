"""Nonlinear random features (docs/theory.md §9): the closed-form kernels against Monte Carlo, the
Gaussian-equivalent coefficients against quadrature, the simulation against a direct solve, against the
equivalent theory (which a 30 % error in mu* fails) and against itself across threads and groupings, and the
model through spectrum -> simulate -> merge -> theory -> agreement."""

import csv
import json

import numpy as np
import pytest
import scipy.special
from scipy import integrate

from ridgerenorm import cli, io
from ridgerenorm import config as cfg
from ridgerenorm.estimators import (label_noise_components, two_way_components, two_way_mean_se,
                                   two_way_statistics)
from ridgerenorm.features import feature_weights
from ridgerenorm.models import get_model
from ridgerenorm.activations import ACTIVATIONS, gaussian_equivalent, kernel
from ridgerenorm.models.nonlinear_features import (NonlinearFeatures, nl_error_statistics, simulate_nonlinear_features,
                                                   two_way_statistics_from_blocks)
from ridgerenorm.spectra import population
from ridgerenorm.theory import equivalent_theory
from ridgerenorm.streams import STREAM_DATA, seed_sequence

ACT = {"relu": lambda u: np.maximum(u, 0.0), "erf": scipy.special.erf}


def features(act, X, F, eta):
    """act(X F) - mu0(s), written out independently of NonlinearFeatures.apply."""
    s = eta @ (F * F)
    mu0 = np.sqrt(s / (2 * np.pi)) if act == "relu" else 0.0
    return ACT[act](X @ F) - mu0


# ---------------------------------------------------------------- closed forms


@pytest.mark.parametrize("act", ACTIVATIONS)
def test_kernel_and_stein_vector_match_monte_carlo(act):
    """K = E[phi phi^T], the cross kernel of two feature draws and b = E[phi w^T x] against 2e5 samples, on
    a decaying spectrum where features are strongly correlated.  Plausible wrong formulas (the uncentred
    kernel, the Gaussian-equivalent linear kernel, erf without the factor 2, b without Stein's E[act'])
    all miss by far more than sampling error."""
    rng = np.random.default_rng(0)
    D, N, M = 12, 6, 200_000
    eta = 3.0 / np.arange(1, D + 1)
    w = rng.standard_normal(D)
    fmap = NonlinearFeatures(D, N, "mc", 0, act, eta)
    F, G = fmap.weights(0), fmap.weights(1)
    X = rng.standard_normal((M, D)) * np.sqrt(eta)
    phi_F, phi_G, y = features(act, X, F, eta), features(act, X, G, eta), X @ w

    def zmax(samples, value):
        return float(np.max(np.abs(samples.mean(axis=0) - value) / (samples.std(axis=0) / np.sqrt(M))))

    K, b = fmap.moments(F, w=w)
    KFG = fmap.moments(F, G)
    KK = phi_F[:, :, None] * phi_F[:, None, :]
    assert zmax(KK, K) < 4.5
    assert zmax(phi_F[:, :, None] * phi_G[:, None, :], KFG) < 4.5
    assert zmax(phi_F * y[:, None], b) < 4.5
    assert zmax(phi_F, 0.0) < 4.5  # the centring makes E[phi] = 0

    s, C = fmap.variances(F), (F * eta[:, None]).T @ F
    ge = gaussian_equivalent(act, s)
    wrong = {"GE linear kernel": ge["mu1"][:, None] * C * ge["mu1"][None, :] + np.diag(ge["mu_star"] ** 2)}
    if act == "relu":
        wrong["uncentred"] = K + np.outer(ge["mu0"], ge["mu0"])
    else:
        wrong["no factor 2"] = (2 / np.pi) * np.arcsin(C / np.sqrt(np.outer(1 + 2 * s, 1 + 2 * s)))
    for name, value in wrong.items():
        assert zmax(KK, value) > 8.0, name
    assert zmax(phi_F * y[:, None], (F * eta[:, None]).T @ w) > 8.0  # b without E[act']


@pytest.mark.parametrize("act", ACTIVATIONS)
@pytest.mark.parametrize("s", [1e-4, 0.01, 0.3, 1.0, 4.0])
def test_gaussian_equivalent_coefficients_match_quadrature(act, s):
    ge = {k: float(v) for k, v in gaussian_equivalent(act, s).items()}
    pdf = lambda h: np.exp(-h * h / (2 * s)) / np.sqrt(2 * np.pi * s)  # noqa: E731
    f = {"relu": lambda h: max(h, 0.0), "erf": lambda h: float(scipy.special.erf(h))}[act]
    lim = 12 * np.sqrt(s)

    def E(g):
        return integrate.quad(lambda h: g(h) * pdf(h), -lim, lim, points=[0.0], epsabs=1e-15, epsrel=1e-10, limit=200)[0]

    mu0 = E(f)
    mu1 = E(lambda h: h * f(h)) / s
    mu_star2 = E(lambda h: (f(h) - mu0 - mu1 * h) ** 2)  # no cancellation, unlike E f^2 - mu0^2 - mu1^2 s
    assert ge["mu0"] == pytest.approx(mu0, rel=1e-8, abs=1e-14)
    assert ge["mu1"] == pytest.approx(mu1, rel=1e-8)
    assert ge["mu_star"] ** 2 == pytest.approx(mu_star2, rel=1e-6)
    assert ge["mu1"] == pytest.approx(E(lambda h: {"relu": float(h > 0),
                                                   "erf": 2 / np.sqrt(np.pi) * np.exp(-h * h)}[act]), rel=1e-8)


def test_erf_noise_series_is_continuous():
    """mu*^2 of erf switches to a series for small arguments; both sides agree at the switch."""
    x0 = 0.02
    s = np.array([x0 / (2 * (1 - x0)) * (1 - 1e-12), x0 / (2 * (1 - x0)) * (1 + 1e-12)])
    m = gaussian_equivalent("erf", s)["mu_star"]
    assert m[1] / m[0] == pytest.approx(1.0, abs=1e-9)


def test_kernel_diagonal_is_the_feature_variance():
    s = np.array([0.01, 0.5, 2.0])
    for act in ACTIVATIONS:
        ge = gaussian_equivalent(act, s)
        np.testing.assert_allclose(np.diag(kernel(act, s, s, np.diag(s))), ge["mu1"] ** 2 * s + ge["mu_star"] ** 2,
                                   rtol=1e-12)


# ---------------------------------------------------------------- merge statistics


def test_block_statistics_equal_the_vector_statistics():
    rng = np.random.default_rng(1)
    n, m, nP, d = 4, 5, 3, 7
    e = rng.standard_normal((n, m, nP, d))
    stats = two_way_statistics_from_blocks(lambda j, j2: np.einsum("ipd,kpd->pik", e[:, j], e[:, j2]), n, m, nP)
    expected = two_way_statistics(e)
    for key, value in expected.items():
        np.testing.assert_allclose(stats[key], value, rtol=1e-12, err_msg=key)


# ---------------------------------------------------------------- simulation


def test_one_pair_matches_direct_solve():
    D, N, P, lam, sigma_eps = 30, 20, np.array([12, 45]), 1e-2, 0.2
    eta, w = population({"kind": "power_law", "D": D, "alpha": 1.2}, {"kind": "power_law", "r": 0.6})
    for act in ACTIVATIONS:
        out = simulate_nonlinear_features(eta, w, P, np.full(2, lam), N, act, sigma_eps, range(3), 3,
                                          experiment="d", seed=1)
        i, j = 2, 1
        rng = np.random.default_rng(seed_sequence(1, "d", STREAM_DATA, i))
        X = rng.standard_normal((P[-1], D)) * np.sqrt(eta)
        eps = rng.standard_normal(P[-1]) * sigma_eps
        F = feature_weights(D, [N], j, experiment="d", seed=1)
        K, b = NonlinearFeatures(D, N, "d", 1, act, eta).moments(F, w=w)
        Phi_all = features(act, X, F, eta)
        for jp, p in enumerate(P):
            Phi, yc = Phi_all[:p], X[:p] @ w
            A = Phi.T @ Phi / p + lam * np.eye(N)
            vc, vn = np.linalg.solve(A, Phi.T @ yc / p), np.linalg.solve(A, Phi.T @ eps[:p] / p)
            v = vc + vn
            np.testing.assert_allclose(out["v_clean"][i, j, jp], vc, rtol=1e-7, atol=1e-10)
            np.testing.assert_allclose(out["v_noise"][i, j, jp], vn, rtol=1e-7, atol=1e-10)
            np.testing.assert_allclose(out["eg"][i, j, jp], v @ K @ v - 2 * v @ b + eta @ w**2, rtol=1e-7)
            np.testing.assert_allclose(out["etr"][i, j, jp], np.mean((yc + eps[:p] - Phi @ v) ** 2), rtol=1e-6)


@pytest.mark.parametrize("act, m", [("relu", 96), ("erf", 200)])
def test_simulation_matches_equivalent_theory_and_rejects_a_wrong_mu_star(act, m):
    """Isotropic data, D = 100, N = 50: E_g agrees with the Gaussian-equivalent theory at every P, and the
    ratio pooled over P >= 4N (where the feature noise matters and the points share their feature-draw
    noise, so it is pooled per pair before the two-way standard error) rejects mu* scaled by 1.3 or 0.7.
    The feature draws dominate the noise there, hence many of them (erf's mu* moves E_g by only 5.5 %)."""
    eta, w = population({"kind": "isotropic", "D": 100}, {"kind": "flat", "norm": 1.0})
    P, N, sigma_eps = np.array([25, 100, 200, 400, 800]), 50, 0.25
    lam = np.full(P.size, 1e-3)
    out = simulate_nonlinear_features(eta, w, P, lam, N, act, sigma_eps, range(4), m, experiment="iso-" + act,
                                      seed=11, threads=2)
    th = equivalent_theory(eta, w, P, N, lam, act, sigma_eps)
    eg, _, se = two_way_mean_se(out["eg"])
    assert np.all(np.abs(eg / th.eg.values - 1) < 0.08), eg / th.eg.values
    assert np.mean(((eg - th.eg.values) / se) ** 2) < 4.0
    big = P >= 4 * N

    def pooled_z(scale):
        ref = equivalent_theory(eta, w, P, N, lam, act, sigma_eps, mu_star_scale=scale).eg.values
        mean, _, err = two_way_mean_se((out["eg"][:, :, big] / ref[big]).mean(axis=2))
        return (mean - 1.0) / err

    assert abs(pooled_z(1.0)) < 3.0
    assert pooled_z(1.3) < -4.0 and pooled_z(0.7) > 4.0
    np.testing.assert_allclose(out["df1_hat"].mean(axis=(0, 1)), th.df1.values, rtol=0.03)
    np.testing.assert_allclose(out["kappa_hat"].mean(axis=(0, 1))[1:], th.kappa1.values[1:], rtol=0.03)


@pytest.mark.parametrize("act", ACTIVATIONS)
def test_merge_statistics_match_predictors_evaluated_on_samples(act):
    """nl_error_statistics against an independent route: every predictor f_ij = v_ij^T phi_j - w^T x (and
    noise predictor v^noise_ij^T phi_j) evaluated on 10^5 fresh x, as a vector whose dot products estimate
    the L2(N(0, Sigma)) inner products; the vector statistics must agree to Monte Carlo accuracy."""
    rng = np.random.default_rng(4)
    D, N, n, m, nP, M = 16, 8, 3, 4, 2, 100_000
    eta = 2.0 / np.arange(1, D + 1)
    w = rng.standard_normal(D) / np.sqrt(D)
    fmap = NonlinearFeatures(D, N, "merge-mc", 9, act, eta)
    X = rng.standard_normal((M, D)) * np.sqrt(eta)
    phis = [features(act, X, fmap.weights(j), eta) for j in range(m)]
    # readouts near the best fit, so the errors are small differences as in a real run
    v_best = [np.linalg.solve(*fmap.moments(fmap.weights(j), w=w)) for j in range(m)]
    v_clean = np.stack([[v_best[j] + 0.3 * rng.standard_normal((nP, N)) * np.linalg.norm(v_best[j]) / np.sqrt(N)
                         for j in range(m)] for _ in range(n)])
    v_noise = 0.2 * rng.standard_normal((n, m, nP, N))
    stats, row_sq, within = nl_error_statistics(v_clean, v_noise, eta, w, fmap)

    y = X @ w
    e = np.stack([[np.stack([phis[j] @ v_clean[i, j, p] - y for p in range(nP)]) for j in range(m)]
                  for i in range(n)]) / np.sqrt(M)  # (n, m, nP, M)
    g = np.stack([[np.stack([phis[j] @ v_noise[i, j, p] for p in range(nP)]) for j in range(m)]
                  for i in range(n)]) / np.sqrt(M)
    expected = two_way_statistics(e)
    for key, value in expected.items():
        np.testing.assert_allclose(stats[key], value, rtol=0.03, err_msg=key)
    gm = g.mean(axis=1)
    exp_row = np.einsum("ipd,ipd->ip", gm, gm)
    exp_within = np.einsum("ijpd,ijpd->ip", g, g) - m * exp_row
    np.testing.assert_allclose(row_sq, exp_row, rtol=0.03)
    np.testing.assert_allclose(within, exp_within, rtol=0.03)


def test_function_space_anova_adds_up_to_the_risk():
    """The two-way components of the clean part plus the label-noise components estimate mean E_g (the
    clean-noise cross term has mean zero); on a grid they agree within a few per cent."""
    eta, w = population({"kind": "isotropic", "D": 60}, {"kind": "flat", "norm": 1.0})
    P = np.array([20, 60, 240])
    out = simulate_nonlinear_features(eta, w, P, np.full(3, 1e-2), 30, "relu", 0.3, range(8), 8,
                                      experiment="anova", seed=5)
    stats, row_sq, within = nl_error_statistics(out["v_clean"], out["v_noise"], eta, w,
                                                NonlinearFeatures(60, 30, "anova", 5, "relu", eta))
    comp = two_way_components(**stats)
    comp.update(label_noise_components(row_sq, within, 8))
    total = sum(comp[k] for k in ("bias", "var_x", "var_f", "var_xf", "var_xeps", "var_xfeps"))
    np.testing.assert_allclose(total, out["eg"].mean(axis=(0, 1)), rtol=0.05)
    # the clean diagonal is the clean risk of each pair (a = |e_ij|^2 >= 0) and exact ANOVA parts are finite
    assert np.all(stats["a"] > 0) and all(np.all(np.isfinite(comp[k])) for k in comp)


@pytest.mark.parametrize("act", ACTIVATIONS)
def test_bit_identical_across_threads_groups_and_draw_blocks(act):
    eta, w = population({"kind": "power_law", "D": 60, "alpha": 1.3}, {"kind": "power_law", "r": 0.5})
    P, lam = np.array([10, 40, 300]), np.full(3, 1e-3)  # 300 rows: more than one 256-row block
    kw = dict(experiment="bits", seed=2)
    a = simulate_nonlinear_features(eta, w, P, lam, 30, act, 0.1, range(4), 3, threads=1, **kw)
    grouped = simulate_nonlinear_features(eta, w, P, lam, 30, act, 0.1, range(4), 3, threads=2,
                                          mem_budget_bytes=1, **kw)
    assert grouped["feature_groups"] == 3 and a["feature_groups"] == 1
    b1 = simulate_nonlinear_features(eta, w, P, lam, 30, act, 0.1, range(0, 1), 3, threads=2, **kw)
    b2 = simulate_nonlinear_features(eta, w, P, lam, 30, act, 0.1, range(1, 4), 3, threads=2, **kw)
    for key in ("eg", "etr", "df1_hat", "kappa_hat", "gcv", "v_clean", "v_noise"):
        assert np.array_equal(a[key], np.concatenate([b1[key], b2[key]]), equal_nan=True), key
        assert np.array_equal(a[key], grouped[key], equal_nan=True), key


# ---------------------------------------------------------------- the model through the CLI


def nl_config(activation="relu"):
    return {
        "scale": "toy",
        "seed": 3,
        "experiments": {
            "nl": {
                "model": "nonlinear_random_features",
                "spectrum": {"kind": "isotropic", "D": 60},
                "teacher": {"kind": "flat", "norm": 1.0},
                "widths": [30],
                "activation": activation,
                "ridge": 1e-2,
                "sigma_eps": 0.2,
                "samples": {"logspace": [0.5, -0.7, 5]},
                "draws": 8,
                "feature_draws": 8,
                "block": 4,
            }
        },
        "figures": {},
    }


def run(*argv):
    assert cli.main([str(a) for a in argv]) == 0


def test_model_runs_spectrum_simulate_merge_theory_agreement(tmp_path):
    config = nl_config("erf")
    cfg.validate_config(config)
    spec = {step: json.dumps(cfg.step_spec(config, "nl", step)) for step in ("spectrum", "simulate", "theory")}
    assert json.loads(spec["theory"])["activation"] == "erf" and "feature_draws" not in json.loads(spec["theory"])
    pop, sim, th = tmp_path / "pop.nc", tmp_path / "sim.nc", tmp_path / "theory.nc"
    run("spectrum", "--spec", spec["spectrum"], "--out", pop)
    blocks = []
    for a, b in cfg.draw_blocks(cfg.experiment_spec(config, "nl")):
        blocks.append(tmp_path / f"block_{a}.nc")
        run("simulate", "--spec", spec["simulate"], "--spectrum", pop, "--draws", f"{a}:{b}", "--threads", 2,
            "--out", blocks[-1])
    assert len(blocks) == 2
    run("merge", "--spec", spec["simulate"], "--spectrum", pop, "--out", sim, *blocks)
    run("theory", "--spec", spec["theory"], "--spectrum", pop, "--out", th)
    run("agreement", "--pair", f"nl={sim},{th}", "--out", tmp_path / "agreement.csv")
    with open(tmp_path / "agreement.csv") as f:
        rows = {r["quantity"]: r for r in csv.DictReader(f)}
    assert {"eg", "etr", "bias", "var_x", "var_f", "var_xf", "df1_hat", "kappa_hat", "gcv"} <= set(rows)
    assert rows["kappa_hat"]["theory_quantity"] == "kappa1"
    assert float(rows["eg"]["median_rel_dev"]) < 0.08, rows["eg"]
    assert float(rows["eg"]["chi2_per_point"]) < 4.0, rows["eg"]
    assert float(rows["df1_hat"]["median_rel_dev"]) < 0.03
    theory_ds = io.read_dataset(th)
    assert theory_ds.attrs["activation"] == "erf"
    assert theory_ds.attrs["sigma_xi_equivalent"] == pytest.approx(
        float(gaussian_equivalent("erf", 1.0)["mu_star"] / gaussian_equivalent("erf", 1.0)["mu1"]))
    merged = io.read_dataset(sim)
    assert merged.bias.dims == ("P",) and np.all(np.isfinite(merged.var_xf.values))
    full = cfg.experiment_spec(config, "nl")
    model = get_model("nonlinear_random_features")
    assert model.memory_mb(full, 4, 16e9, 2) > 300 and min(model.flops(full).values()) > 0
    assert any("σ_ξ = μ*/μ₁ = 0.3076" in line for line in model.equations(full))


def test_config_checks():
    config = nl_config()
    config["experiments"]["nl"]["widths"] = [30, 30]
    with pytest.raises(cfg.ConfigError, match="one layer"):
        cfg.validate_config(config)
    config = nl_config("tanh")
    with pytest.raises(cfg.ConfigError, match="activation"):
        cfg.validate_config(config)
    config = nl_config()
    del config["experiments"]["nl"]["activation"]
    with pytest.raises(cfg.ConfigError, match="activation = None: required"):
        cfg.validate_config(config)
    config = nl_config()
    config["experiments"]["nl"]["sigma_xi"] = 0.1
    with pytest.raises(cfg.ConfigError, match="not a parameter of model 'nonlinear_random_features'"):
        cfg.validate_config(config)
