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
    the units of the real features (times mu1^2).  mu_star_scale multiplies mu* (tests perturb it)."""
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
