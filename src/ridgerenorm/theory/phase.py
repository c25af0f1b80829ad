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

    Parameters
    ----------
    l : float or array_like
        Ridge exponent (lam ~ P^-l), finite and >= 0.
    q : float or array_like
        Width exponent (N ~ P^q), finite and >= 0; l and q broadcast together.
    alpha : float
        Capacity exponent (eta_k = k^-alpha), > 0.
    r : float
        Source exponent, > 0.
    c : float
        Finite-width exponent of the feature variance, >= 0 (see finite_width_exponent).
    noisy : bool
        Whether the labels are noisy (adds the noise term).

    Returns
    -------
    rate : numpy.ndarray
        The decay rate, with the broadcast shape of l and q.
    label : numpy.ndarray
        Index into PHASE_LABELS of the dominant term, with the same shape.

    Notes
    -----
    Each term of docs/theory.md §6 is evaluated with its own label (the argument attaining its inner
    min); the rate is the min over terms.  Ties (within 1e-12 relative) go to the earlier entry:
    inside a term in the order listed in §6, across terms in the order signal, feature variance,
    width-limited signal, noise -- i.e. always the lowest index in PHASE_LABELS.

    Examples
    --------
    With alpha = 1.5, r = 0.5 and wide layers (q = 2): no ridge (l = 0) leaves the ridge-capacity rate 0,
    l = 0.5 gives 2 alpha (l r/alpha) = 0.5, and l = 2 > alpha lets the signal decay at 2 alpha r = 1.5;
    with label noise that last point is dominated by the noise (rate 0).

    >>> from ridgerenorm import theory
    >>> rate, label = theory.phase_rates([0.0, 0.5, 2.0], 2.0, alpha=1.5, r=0.5, c=1.0, noisy=False)
    >>> print(rate, [theory.PHASE_LABELS[i] for i in label])
    [0.  0.5 1.5] ['Ridge-capacity', 'Ridge-source', 'Signal-source']
    >>> rate, label = theory.phase_rates([0.0, 0.5, 2.0], 2.0, alpha=1.5, r=0.5, c=1.0, noisy=True)
    >>> print(rate, [theory.PHASE_LABELS[i] for i in label])
    [0.  0.5 0. ] ['Ridge-capacity', 'Ridge-source', 'Noise']
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
    """Finite-width exponent c of Var_F + Var_XF ~ N^-c for weight exponent alpha_F >= 0 (docs/figures.md C7).

    Parameters
    ----------
    alpha_F : float or array_like
        Exponent of the weight spectrum, finite and >= 0.

    Returns
    -------
    float or numpy.ndarray
        c = 1 for alpha_F < 1/2, (1 - alpha_F)/alpha_F for 1/2 <= alpha_F <= 1 and 0 above; a float for a
        scalar alpha_F.

    Examples
    --------
    >>> from ridgerenorm import theory
    >>> theory.finite_width_exponent(0.25)
    1.0
    >>> print(theory.finite_width_exponent([0.25, 0.75, 1.5]))
    [1.         0.33333333 0.        ]
    """
    a = _check_exponents(alpha_F, "alpha_F")
    with np.errstate(divide="ignore"):
        mid = (1.0 - a) / np.where(a > 0, a, 1.0)
    out = np.where(a < 0.5, 1.0, np.where(a <= 1.0, mid, 0.0))
    return out if out.ndim else float(out)
