"""The scaling-law phase diagram (docs/theory.md §6): phase_rates, the decay rate of E_g and its dominant
term (PHASE_LABELS) over the (ridge exponent, width exponent) plane, and finite_width_exponent, the
exponent of the finite-width terms for anisotropic weights (docs/figures.md C7).
"""

from __future__ import annotations

import numpy as np

from .checks import _check_exponents, _check_number

__all__ = ["PHASE_LABELS", "phase_rates", "finite_width_exponent"]


PHASE_LABELS = [
    "Signal-capacity",
    "Signal-source",
    "Ridge-capacity",
    "Ridge-source",
    "Var_F",
    "Var_F-ridge",
    "Signal-capacity-width",
    "Signal-source-width",
    "Noise",
    "Noise mitigated by λ",
    "Noise mitigated by N",
]


def _argmin_first(values, tol=1e-12):
    """Row-wise min over the first axis and the index of the FIRST candidate within tol of it."""
    vmin = values.min(axis=0)
    near = values <= vmin + tol * np.maximum(1.0, np.abs(vmin))
    return vmin, np.argmax(near, axis=0)


def phase_rates(l, q, alpha, r, c, noisy: bool):
    """Error decay rate (E_g ~ P^-rate) and dominant-term label index (into PHASE_LABELS).

    l: ridge exponent (lam ~ P^-l), q: width exponent (N ~ P^q); arrays of finite numbers >= 0 that
    broadcast together.  alpha > 0 (eta_k = k^-alpha), source exponent r > 0, c >= 0 (numbers); noisy a bool.
    Each term of docs/theory.md §6 is evaluated with its own label (the argument attaining its inner
    min); the rate is the min over terms.  Ties (within 1e-12 relative) go to the earlier entry:
    inside a term in the order listed in §6, across terms in the order signal, feature variance,
    width-limited signal, noise -- i.e. always the lowest index in PHASE_LABELS.
    """
    l, q = _check_exponents(l, "l"), _check_exponents(q, "q")
    _check_number(alpha, "alpha", positive=True)
    _check_number(r, "r", positive=True)
    _check_number(c, "c")
    if not isinstance(noisy, (bool, np.bool_)):
        raise ValueError(f"noisy must be True or False, got {noisy!r}")
    try:
        l, q = np.broadcast_arrays(l, q)
    except ValueError:
        raise ValueError(f"l and q must broadcast together, got shapes {l.shape} and {q.shape}") from None
    shape = l.shape
    l, q = l.reshape(-1), q.reshape(-1)
    one = np.ones_like(l)
    sig_v, sig_i = _argmin_first(np.stack([one, r * one, l / alpha, l * r / alpha]))
    vf_v, vf_i = _argmin_first(np.stack([one, l / alpha]))
    wd_v, wd_i = _argmin_first(np.stack([0.5 * one, r * one]))
    terms = [2 * alpha * sig_v, (alpha - c) * vf_v + q * c, 2 * alpha * q * wd_v]
    labels = [sig_i + 0, vf_i + 4, wd_i + 6]
    if noisy:
        nz_v, nz_i = _argmin_first(np.stack([one, l / alpha, q]))
        terms.append(1.0 - nz_v)
        labels.append(nz_i + 8)
    rate, which = _argmin_first(np.stack(terms))
    label = np.stack(labels)[which, np.arange(l.size)]
    return rate.reshape(shape), label.reshape(shape)


def finite_width_exponent(alpha_F):
    """Finite-width exponent c of Var_F + Var_XF ~ N^-c for weight exponent alpha_F >= 0 (docs/figures.md C7)."""
    a = _check_exponents(alpha_F, "alpha_F")
    with np.errstate(divide="ignore"):
        mid = (1.0 - a) / np.where(a > 0, a, 1.0)
    out = np.where(a < 0.5, 1.0, np.where(a <= 1.0, mid, 0.0))
    return out if out.ndim else float(out)
