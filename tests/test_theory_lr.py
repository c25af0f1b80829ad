"""Linear ridge theory (docs/theory.md §1, §3) against closed forms, limits and identities."""

import numpy as np
import pytest

from ridgerenorm import theory


def isotropic_kappa(q, lam):
    # For eta = 1: lam = kappa (1 - q/(1+kappa))  <=>  kappa^2 + (1 - q - lam) kappa - lam = 0.
    b = 1.0 - q - lam
    return (-b + np.sqrt(b * b + 4 * lam)) / 2


@pytest.mark.parametrize("lam", [1e-6, 1e-3, 0.1, 3.0])
def test_kappa_isotropic_closed_form(lam):
    D = 300
    q = np.logspace(-2, 2, 41)
    kappa = theory.solve_kappa(np.ones(D), D / q, lam)
    np.testing.assert_allclose(kappa, isotropic_kappa(q, lam), rtol=1e-10)


def test_kappa_ridgeless_limits():
    D = 300
    q = np.array([0.25, 0.5, 0.9, 1.5, 4.0, 20.0])
    kappa = theory.solve_kappa(np.ones(D), D / q, 0.0)
    # lam = 0: kappa = 0 when P >= D, else q df1 = 1, i.e. kappa = q - 1 for a flat spectrum.
    np.testing.assert_allclose(kappa, np.where(q < 1, 0.0, q - 1.0), atol=1e-12)
    # and lam -> 0 approaches it continuously
    np.testing.assert_allclose(theory.solve_kappa(np.ones(D), D / q, 1e-9), kappa, atol=1e-6)


def test_kappa_large_P_tends_to_lambda():
    eta = np.arange(1, 2001) ** -1.5
    kappa = theory.solve_kappa(eta, [1e7, 1e9], 1e-2)
    np.testing.assert_allclose(kappa, 1e-2, rtol=1e-4)


def test_powerlaw_kappa_scaling():
    # kappa ~ P^-alpha in the ridgeless power-law regime (docs/theory.md §6).
    alpha = 2.0
    eta = np.arange(1, 200001) ** -alpha
    P = np.array([100.0, 1000.0])
    kappa = theory.solve_kappa(eta, P, 0.0)
    slope = np.diff(np.log(kappa)) / np.diff(np.log(P))
    assert abs(slope[0] + alpha) < 0.05


def test_spectral_identities():
    rng = np.random.default_rng(0)
    eta = np.sort(rng.pareto(2.0, 500) + 0.01)[::-1]
    w = rng.standard_normal(500)
    kappa = np.logspace(-4, 1, 30)
    lhs = kappa * theory.tf1_prime(eta, w, kappa) + theory.tf2(eta, w, kappa)
    np.testing.assert_allclose(lhs, theory.tf1(eta, w, kappa), rtol=1e-12)
    h = 1e-6 * kappa
    deriv = (theory.df1(eta, kappa + h) - theory.df1(eta, kappa - h)) / (2 * h)
    np.testing.assert_allclose(kappa * deriv, -(theory.df1(eta, kappa) - theory.df2(eta, kappa)), rtol=1e-6)


def test_ols_and_interpolation_limits():
    D, sigma = 200, 0.7
    eta, w = np.ones(D), np.ones(D) / np.sqrt(D)
    q = np.array([0.1, 0.5])  # P > D, lam = 0: ordinary least squares
    th = theory.linear_ridge(eta, w, D / q, 0.0, sigma)
    np.testing.assert_allclose(th.eg, sigma**2 * q / (1 - q), rtol=1e-12)
    np.testing.assert_allclose(th.etr, sigma**2 * (1 - q), rtol=1e-12)
    np.testing.assert_allclose(th.bias, 0.0, atol=1e-15)
    # P < D, lam = 0: min-norm interpolation, zero training error.  Isotropic, |w| = 1:
    # Bias^2 = (1 - 1/q)^2, signal error Bias^2 + Var_X = 1 - 1/q, noise error sigma^2/(q - 1).
    q = np.array([2.0, 5.0])
    th = theory.linear_ridge(eta, w, D / q, 0.0, sigma)
    np.testing.assert_allclose(th.etr, 0.0, atol=1e-15)
    np.testing.assert_allclose(th.bias, (1 - 1 / q) ** 2, rtol=1e-10)
    np.testing.assert_allclose(th.bias + th.var_x, 1 - 1 / q, rtol=1e-10)
    np.testing.assert_allclose(th.var_xeps, sigma**2 / (q - 1), rtol=1e-10)


def test_error_decomposition_and_gap():
    eta = np.arange(1, 1001) ** -1.3
    w = np.arange(1, 1001) ** -0.9
    P = np.logspace(0.5, 3.5, 25)
    th = theory.linear_ridge(eta, w, P, 1e-3, 0.3)
    np.testing.assert_allclose(th.eg, th.bias + th.var_x + th.var_xeps, rtol=1e-12)
    np.testing.assert_allclose(th.etr, (th.lam / th.kappa) ** 2 * (th.eg + 0.09), rtol=1e-10)
    np.testing.assert_allclose(th.S, th.kappa / th.lam, rtol=1e-10)
    assert np.all(th.gamma < 1) and np.all(th.eg > 0)


def test_broadcast_and_scalar():
    eta, w = np.ones(50), np.ones(50)
    th = theory.linear_ridge(eta, w, [10, 20, 30], [1e-3, 1e-2, 1e-1])
    assert th.kappa.shape == (3,)
    scalar = theory.linear_ridge(eta, w, 20, 1e-2)
    assert scalar.kappa.shape == ()
    np.testing.assert_allclose(scalar.kappa, th.kappa[1])


@pytest.mark.parametrize("P,lam", [(-5, 1e-3), (10, -1e-3), (np.nan, 1e-3)])
def test_bad_arguments_raise(P, lam):
    with pytest.raises(ValueError):
        theory.linear_ridge(np.ones(10), np.ones(10), P, lam)


def test_nonconvergence_is_an_error():
    with pytest.raises(theory.ConvergenceError):
        theory.solve_kappa(np.arange(1, 101) ** -2.0, [5.0], 1e-3, max_iter=1)


def test_ridgeless_near_double_root_converges():
    # lam = 0 with a non-integer P just below rank(eta): the root is nearly double and Newton reaches
    # round-off before the step tolerance; it must still return the root (residual-checked).
    eta = np.arange(1, 262) ** -1.0
    kappa = theory.solve_kappa(eta, [260.94, 260.5, 200.0], 0.0)
    q_df1 = 261 / np.array([260.94, 260.5, 200.0]) * theory.df1(eta, kappa)
    np.testing.assert_allclose(q_df1, 1.0, rtol=1e-8)
    assert np.all(kappa > 0)
