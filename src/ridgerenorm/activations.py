"""Closed forms of the activations of the nonlinear random features under Gaussian inputs (docs/theory.md §9):
the Gaussian-equivalent coefficients mu0, mu1, mu* of act(h), h ~ N(0, s) (gaussian_equivalent), and the
centred kernel E[(act(u_a) - mu0) (act(u_b) - mu0)] of jointly Gaussian preactivations (kernel), for
act in ACTIVATIONS.

Both the simulation (which centres each feature by mu0 and forms its exact population risk from the kernel)
and the Gaussian-equivalent theory (theory/nonlinear.py, which needs mu1 and mu*) use them, so they live
here, not in the theory package: code stamps follow imports (deps.py), and importing any module of
ridgerenorm.theory runs theory/__init__.py, which loads every theory module, so a simulation that took
these from there would rerun after every edit to the theory.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ACTIVATIONS", "gaussian_equivalent", "kernel"]

ACTIVATIONS = ("relu", "erf")


def _check_activation(activation: str) -> None:
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")


def _arcsin_minus_x(x):
    """arcsin(x) - x without cancellation for small |x| (its Taylor series below 0.02)."""
    x = np.asarray(x, dtype=float)
    x2 = x * x
    series = x * x2 * (1.0 / 6 + x2 * (3.0 / 40 + x2 * (5.0 / 112 + x2 * 35.0 / 1152)))
    return np.where(np.abs(x) < 0.02, series, np.arcsin(np.clip(x, -1.0, 1.0)) - x)


def gaussian_equivalent(activation: str, s) -> dict:
    """Coefficients of act(h) = mu0 + mu1 h + (a part uncorrelated with h of variance mu_star^2) for
    h ~ N(0, s) (s is the variance): mu0 = E act(h), mu1 = E[h act(h)]/s = E act'(h) (Stein),
    mu_star^2 = E act(h)^2 - mu0^2 - mu1^2 s.  Vectorized over s >= 0.

    Examples
    --------
    ReLU: mu0 = sqrt(s/(2 pi)), mu1 = 1/2 and mu_star^2 = s (1/4 - 1/(2 pi)).

    >>> import numpy as np
    >>> ge = gaussian_equivalent("relu", 1.0)
    >>> print(f'{ge["mu0"]:.6f} {ge["mu1"]:.6f} {ge["mu_star"]:.6f} {np.sqrt(0.25 - 0.5 / np.pi):.6f}')
    0.398942 0.500000 0.301405 0.301405
    """
    _check_activation(activation)
    s = np.asarray(s, dtype=float)
    if activation == "relu":
        mu0 = np.sqrt(s / (2.0 * np.pi))
        mu1 = np.full_like(s, 0.5)
        mu_star2 = s * (0.25 - 0.5 / np.pi)
    else:
        mu0 = np.zeros_like(s)
        mu1 = 2.0 / np.sqrt(np.pi * (1.0 + 2.0 * s))
        # E erf(h)^2 = (2/pi) arcsin(x), x = 2s/(1+2s); mu1^2 s = (2/pi) x, so mu*^2 = (2/pi)(arcsin x - x)
        mu_star2 = (2.0 / np.pi) * _arcsin_minus_x(2.0 * s / (1.0 + 2.0 * s))
    return {"mu0": mu0, "mu1": mu1, "mu_star": np.sqrt(np.maximum(mu_star2, 0.0))}


def kernel(activation: str, s_a, s_b, c):
    """Centred kernel E[(act(u_a) - mu0(s_a)) (act(u_b) - mu0(s_b))] for jointly Gaussian (u_a, u_b) with
    variances s_a (rows), s_b (columns) and covariances c (len(s_a) x len(s_b))."""
    _check_activation(activation)
    s_a, s_b = np.asarray(s_a, dtype=float)[:, None], np.asarray(s_b, dtype=float)[None, :]
    c = np.asarray(c, dtype=float)
    if activation == "relu":
        root = np.sqrt(s_a * s_b)
        with np.errstate(divide="ignore", invalid="ignore"):
            rho = np.clip(np.where(root > 0, c / np.where(root > 0, root, 1.0), 0.0), -1.0, 1.0)
        theta = np.arccos(rho)
        # arc-cosine kernel of degree 1, minus mu0(s_a) mu0(s_b) = root / (2 pi)
        return root / (2.0 * np.pi) * (np.sin(theta) + (np.pi - theta) * rho - 1.0)
    return (2.0 / np.pi) * np.arcsin(np.clip(2.0 * c / np.sqrt((1.0 + 2.0 * s_a) * (1.0 + 2.0 * s_b)), -1.0, 1.0))
