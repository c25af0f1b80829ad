"""Theory of linear ridge regression (docs/theory.md §3): linear_ridge, the learning curve and its error
components at the renormalized ridge kappa of solver.solve_kappa.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from .checks import _check_grid, _check_number, _check_spectrum, _check_teacher
from .solver import _df1, _df2, _grid_dataset, _solve_kappa, _tf1_prime

__all__ = ["linear_ridge"]


def linear_ridge(eta, w, P, lam, sigma_eps: float = 0.0) -> xr.Dataset:
    """Theory of ridge regression with population spectrum eta and teacher w (eigenbasis).

    Parameters
    ----------
    eta : array_like
        Population eigenvalues (length D), finite and >= 0.
    w : array_like
        Teacher in the eigenbasis of eta (length D), finite.
    P : float or array_like
        Sample sizes, finite and > 0.
    lam : float or array_like
        Ridges, finite and >= 0 (0 is the minimum-norm limit).  P and lam are scalars or equal-length
        1-D arrays (they broadcast).
    sigma_eps : float, optional
        Standard deviation of the label noise, >= 0.

    Returns
    -------
    xarray.Dataset
        Over dimension ``point`` (squeezed for scalar P and lam): kappa, df1, df2, gamma, bias (Bias^2),
        var_x, var_xeps, eg and etr, plus the inputs P and lam and the S-transform S = kappa/lam
        (= 1/(1 - q df1)); attributes model, D and sigma_eps.

    Notes
    -----
    Exact limits instead of 0/0 or inf - inf: at lam = 0 with P >= rank(eta), kappa = 0,
    df1 = df2 = rank/D, gamma = rank/P, Bias^2 = Var_X = 0; at the interpolation threshold P = rank
    gamma = 1, Var_Xeps = E_g = +inf for sigma_eps > 0 (0 without label noise) and E_tr = 0.  For
    lam -> infinity, kappa ~ lam and Bias^2 -> sum_k eta_k w_k^2 (computed without overflowing
    kappa^2).  At points whose kappa came from the bisection fallback (see solve_kappa), 1 - gamma
    and lam/kappa are evaluated in cancellation-free form.

    Examples
    --------
    Ridgeless regression on isotropic data (eta_k = 1, D = 100) with sum_k w_k^2 = 1 and label noise
    sigma_eps = 0.5 has E_g = (1 - P/D) + sigma_eps^2 P/(D - P) below the interpolation threshold
    and sigma_eps^2 D/(P - D) above it: 0.75 at P = 50 and 0.25 at P = 200.

    >>> import numpy as np
    >>> from ridgerenorm import theory
    >>> D = 100
    >>> eta, w = np.ones(D), np.full(D, D**-0.5)
    >>> print(theory.linear_ridge(eta, w, [50, 200], 0.0, sigma_eps=0.5).eg.values)
    [0.75 0.25]

    A ridge lowers the error below the threshold; kappa is solve_kappa's:

    >>> th = theory.linear_ridge(eta, w, [50, 200], 0.1, sigma_eps=0.5)
    >>> print(th.kappa.values.round(4), th.eg.values.round(4))
    [1.1844 0.1742] [0.6865 0.1768]
    """
    eta = _check_spectrum(eta)
    w = _check_teacher(w, eta)
    _check_number(sigma_eps, "sigma_eps")
    P_arr, lam_arr, shape = _check_grid(P, lam)
    D = eta.size
    rank = np.count_nonzero(eta)
    q = D / P_arr
    kappa, refined = _solve_kappa(eta, P_arr, lam_arr, 1e-12, 500)
    d1, d2 = _df1(eta, kappa), _df2(eta, kappa)
    # kappa = 0 (lam = 0, P >= rank): gamma = q df2 = rank/P exactly (= q when eta has no zeros).
    ridgeless0 = kappa == 0
    gamma = np.where(ridgeless0, rank / P_arr, q * d2)
    with np.errstate(over="ignore", invalid="ignore"):
        bias = kappa**2 * _tf1_prime(eta, w, kappa)
    # At kappa = 0 (ridgeless, P >= rank) kappa^2 tf1' is 0 exactly; guard 0 * inf for zero eigenvalues.
    bias = np.where(kappa == 0, 0.0, bias)
    overflow = ~np.isfinite(bias)
    if overflow.any():  # kappa^2 overflowed (lam -> infinity): the same sum as sum eta w^2 (kappa/(eta+kappa))^2
        c = kappa[overflow, None] / (eta[None, :] + kappa[overflow, None])
        bias[overflow] = (c * c) @ (eta * w**2)
    one_m_gamma = 1.0 - gamma
    if refined.any():  # 1 - q df2 = (P - D)/P + q (1/D) sum c (1 + r), r = eta/(eta+kappa), c = kappa/(eta+kappa)
        k = kappa[refined, None]
        r, c = eta[None, :] / (eta[None, :] + k), k / (eta[None, :] + k)
        one_m_gamma[refined] = (P_arr[refined] - D) / P_arr[refined] + q[refined] * (c * (1.0 + r)).mean(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        amp = gamma / one_m_gamma
        # kappa -> 0: Bias^2 vanishes faster than gamma/(1 - gamma) grows, also at P = rank.
        var_x = np.where(ridgeless0, 0.0, bias * amp)
        var_xeps = sigma_eps**2 * amp if sigma_eps > 0 else np.zeros_like(amp)
    eg = bias + var_x + var_xeps
    # lam/kappa = 1 - q df1 holds at every point, including lam = 0 where it is the OLS limit 1 - rank/P.
    inv_s = np.where(ridgeless0, 1.0 - rank / P_arr, 1.0 - q * d1)
    if refined.any():
        inv_s[refined] = lam_arr[refined] / kappa[refined]
    with np.errstate(invalid="ignore"):
        etr = inv_s**2 * (eg + sigma_eps**2)
    # lam/kappa = 0: the ridgeless interpolator has zero training error, also where E_g diverges.
    etr = np.where(inv_s == 0, 0.0, etr)
    with np.errstate(divide="ignore", invalid="ignore"):
        s_transform = np.where(inv_s > 0, 1.0 / inv_s, np.inf)
    out = {
        "P": P_arr,
        "lam": lam_arr,
        "kappa": kappa,
        "df1": d1,
        "df2": d2,
        "gamma": gamma,
        "bias": bias,
        "var_x": var_x,
        "var_xeps": var_xeps,
        "eg": eg,
        "etr": etr,
        "S": s_transform,
    }
    return _grid_dataset(out, shape, model="linear_ridge", D=D, sigma_eps=float(sigma_eps))
