"""Theory of nonlinear random features (docs/theory.md §9): equivalent_theory, their Gaussian equivalent.

act(h) - mu0 ~ mu1 h + mu* xi at the mean preactivation variance s = tr(Sigma)/D is the additive-noise model
of §5 (rf.py) with one layer of width N, sigma_xi = mu*/mu1 and ridge lam/mu1^2.  The
coefficients mu0, mu1, mu* come from activations.py, which the simulation shares.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..activations import gaussian_equivalent
from .rf import random_features

__all__ = ["equivalent_theory"]


def equivalent_theory(eta, w, P, N: int, lam, activation: str, sigma_eps: float = 0.0, *,
                      mu_star_scale: float = 1.0) -> xr.Dataset:
    """The Gaussian-equivalent theory (docs/theory.md §9): theory.random_features with one layer of width N,
    sigma_xi = mu*/mu1 and ridge lam/mu1^2, at the mean preactivation variance s = tr(Sigma)/D; kappa1 back in
    the units of the real features (times mu1^2).

    Parameters
    ----------
    eta : array_like
        Population eigenvalues (length D), finite and >= 0.
    w : array_like
        Teacher in the eigenbasis of eta (length D), finite.
    P : float or array_like
        Sample sizes, finite and > 0.
    N : int
        Number of features (one layer).
    lam : float or array_like
        Readout ridges on the real features, finite and >= 0 (broadcast with P as in random_features).
    activation : {"relu", "erf"}
        The nonlinearity.
    sigma_eps : float, optional
        Standard deviation of the label noise, >= 0.
    mu_star_scale : float, optional
        Factor on mu* (tests perturb it to show the simulation tells it apart).

    Returns
    -------
    xarray.Dataset
        random_features' Dataset at the equivalent sigma_xi and ridge, with lam and kappa1 in the units of
        the real features; the attributes add activation, preactivation_variance, mu0, mu1, mu_star,
        sigma_xi_equivalent and ridge_scale (1/mu1^2).

    Examples
    --------
    For ReLU at s = 1, mu1 = 1/2 and mu*^2 = 1/4 - 1/(2 pi), so sigma_xi = mu*/mu1 = sqrt(1 - 2/pi):

    >>> import numpy as np
    >>> from ridgerenorm import theory
    >>> D = 100
    >>> eta, w = np.ones(D), np.full(D, D**-0.5)
    >>> th = theory.equivalent_theory(eta, w, [50, 200], 400, 0.1, "relu")
    >>> print(th.attrs["mu1"], f'{th.attrs["sigma_xi_equivalent"]:.6f} {np.sqrt(1 - 2 / np.pi):.6f}')
    0.5 0.602810 0.602810
    >>> same = theory.random_features(eta, w, [50, 200], [400], 0.1 / 0.5**2, sigma_xi=np.sqrt(1 - 2 / np.pi))
    >>> print(th.eg.values.round(4), same.eg.values.round(4))
    [0.6758 0.262 ] [0.6758 0.262 ]
    """
    eta = np.asarray(eta, dtype=float)
    s = float(eta.mean())
    ge = {k: float(v) for k, v in gaussian_equivalent(activation, s).items()}
    mu1, mu_star = ge["mu1"], ge["mu_star"] * float(mu_star_scale)
    th = random_features(eta, w, P, [int(N)], np.asarray(lam, dtype=float) / mu1**2, sigma_eps=sigma_eps,
                         sigma_xi=mu_star / mu1)
    th["kappa1"] = th["kappa1"] * mu1**2
    th["lam"] = th["lam"] * mu1**2
    th.attrs.update(model="nonlinear_random_features", activation=activation, preactivation_variance=s,
                    mu0=ge["mu0"], mu1=mu1, mu_star=mu_star, sigma_xi_equivalent=mu_star / mu1,
                    ridge_scale=1.0 / mu1**2)
    return th
