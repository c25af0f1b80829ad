"""The solver every model's theory shares (docs/theory.md §1, §3): the spectral functionals df1, df2, tf1,
tf1', tf2 and the renormalized ridge kappa of lam = kappa (1 - (D/P) df1(kappa)) (solve_kappa: Newton,
checked on a cancellation-free residual, with a bisection fallback), and the Dataset over ``point`` the
theories return.

Everything is vectorized over a grid of (P, lambda) points: spectral sums are evaluated as (grid, D)
arrays, and kappa is solved for all grid points at once.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..errors import ConvergenceError
from .checks import _check_grid, _check_kappa, _check_solver, _check_spectrum, _check_teacher

__all__ = ["df1", "df2", "tf1", "tf1_prime", "tf2", "solve_kappa"]


# ---------------------------------------------------------------------------------------------
# §1 spectral functionals.  kappa has shape (G,) and eta, w have shape (D,); results have shape (G,).
# At kappa = 0 a zero eigenvalue gives 0/0; every functional takes its kappa -> 0+ limit there
# (eta_k/(eta_k + kappa) -> 0 for eta_k = 0), so df1(0) = df2(0) = rank/D.
# ---------------------------------------------------------------------------------------------


def _ratio(eta: np.ndarray, kappa: np.ndarray) -> np.ndarray:
    """eta_k / (eta_k + kappa) as a (G, D) array, with the kappa -> 0+ limit 0 where eta_k = kappa = 0."""
    kappa = np.asarray(kappa, dtype=float)
    den = eta[None, :] + kappa.reshape(-1, 1)
    if eta.min() > 0 or kappa.size == 0 or kappa.min() > 0:
        return eta[None, :] / den
    with np.errstate(invalid="ignore"):
        return np.where(den == 0, 0.0, eta[None, :] / den)


def _df1(eta, kappa):
    return _ratio(eta, kappa).mean(axis=1).reshape(np.shape(kappa))


def _df2(eta, kappa):
    return (_ratio(eta, kappa) ** 2).mean(axis=1).reshape(np.shape(kappa))


def _tf1_prime(eta, w, kappa):
    w2 = w**2
    kappa = np.asarray(kappa, dtype=float)
    # (eta + kappa)^2 overflows to inf for kappa > ~1e154, where the true terms underflow to 0 anyway.
    with np.errstate(over="ignore"):
        den = (eta[None, :] + kappa.reshape(-1, 1)) ** 2
    if eta.min() > 0 or kappa.size == 0 or kappa.min() > 0:
        r = eta[None, :] / den
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.where(den == 0, 0.0, eta[None, :] / den)
    return (r @ w2).reshape(np.shape(kappa))


def df1(eta, kappa):
    """(1/D) sum_k eta_k / (eta_k + kappa).

    Parameters
    ----------
    eta : array_like
        Population eigenvalues (length D), finite and >= 0.
    kappa : float or array_like
        Ridge arguments, finite and >= 0, any shape.

    Returns
    -------
    numpy.ndarray
        df1 at each kappa, with the shape of kappa.  At kappa = 0 a zero eigenvalue contributes its
        kappa -> 0+ limit 0, so df1(0) = rank/D.

    Examples
    --------
    >>> import numpy as np
    >>> from ridgerenorm import theory
    >>> eta = np.array([1.0, 0.5, 0.25, 0.0])
    >>> print(theory.df1(eta, [0.0, 1.0]))  # (1/4)(1/2 + 1/3 + 1/5 + 0) at kappa = 1
    [0.75       0.25833333]
    """
    eta, kappa = _check_spectrum(eta), _check_kappa(kappa)
    return _df1(eta, kappa)


def df2(eta, kappa):
    """(1/D) sum_k eta_k^2 / (eta_k + kappa)^2.

    Parameters
    ----------
    eta : array_like
        Population eigenvalues (length D), finite and >= 0.
    kappa : float or array_like
        Ridge arguments, finite and >= 0, any shape.

    Returns
    -------
    numpy.ndarray
        df2 at each kappa, with the shape of kappa (df2(0) = rank/D).

    Examples
    --------
    >>> import numpy as np
    >>> from ridgerenorm import theory
    >>> eta = np.array([1.0, 0.5, 0.25, 0.0])
    >>> print(theory.df2(eta, [0.0, 1.0]))  # (1/4)(1/4 + 1/9 + 1/25 + 0) at kappa = 1
    [0.75       0.10027778]
    """
    eta, kappa = _check_spectrum(eta), _check_kappa(kappa)
    return _df2(eta, kappa)


def tf1(eta, w, kappa):
    """sum_k w_k^2 eta_k / (eta_k + kappa).

    Parameters
    ----------
    eta : array_like
        Population eigenvalues (length D), finite and >= 0.
    w : array_like
        Teacher in the eigenbasis of eta (length D), finite.
    kappa : float or array_like
        Ridge arguments, finite and >= 0, any shape.

    Returns
    -------
    numpy.ndarray
        tf1 at each kappa, with the shape of kappa.

    Examples
    --------
    >>> import numpy as np
    >>> from ridgerenorm import theory
    >>> eta, w = np.array([1.0, 0.5, 0.25, 0.0]), np.array([1.0, 1.0, 0.5, 0.5])
    >>> print(theory.tf1(eta, w, [0.0, 1.0]))  # 1/2 + 1/3 + 0.25/5 at kappa = 1
    [2.25       0.88333333]
    """
    eta, kappa = _check_spectrum(eta), _check_kappa(kappa)
    w2 = _check_teacher(w, eta) ** 2
    return (_ratio(eta, kappa) @ w2).reshape(np.shape(kappa))


def tf1_prime(eta, w, kappa):
    """sum_k w_k^2 eta_k / (eta_k + kappa)^2 (minus the kappa-derivative of tf1).

    Parameters
    ----------
    eta : array_like
        Population eigenvalues (length D), finite and >= 0.
    w : array_like
        Teacher in the eigenbasis of eta (length D), finite.
    kappa : float or array_like
        Ridge arguments, finite and >= 0, any shape.

    Returns
    -------
    numpy.ndarray
        tf1' at each kappa, with the shape of kappa; kappa^2 tf1'(kappa) is the linear-ridge Bias^2.

    Examples
    --------
    >>> import numpy as np
    >>> from ridgerenorm import theory
    >>> eta, w = np.array([1.0, 0.5, 0.25, 0.0]), np.array([1.0, 1.0, 0.5, 0.5])
    >>> print(theory.tf1_prime(eta, w, [0.0, 1.0]))  # sum of w_k^2 / eta_k over eta_k > 0 at kappa = 0
    [4.         0.51222222]
    """
    eta, kappa = _check_spectrum(eta), _check_kappa(kappa)
    return _tf1_prime(eta, _check_teacher(w, eta), kappa)


def tf2(eta, w, kappa):
    """sum_k w_k^2 eta_k^2 / (eta_k + kappa)^2.

    Parameters
    ----------
    eta : array_like
        Population eigenvalues (length D), finite and >= 0.
    w : array_like
        Teacher in the eigenbasis of eta (length D), finite.
    kappa : float or array_like
        Ridge arguments, finite and >= 0, any shape.

    Returns
    -------
    numpy.ndarray
        tf2 at each kappa, with the shape of kappa.

    Examples
    --------
    >>> import numpy as np
    >>> from ridgerenorm import theory
    >>> eta, w = np.array([1.0, 0.5, 0.25, 0.0]), np.array([1.0, 1.0, 0.5, 0.5])
    >>> print(theory.tf2(eta, w, [0.0, 1.0]))  # 1/4 + 1/9 + 0.25/25 at kappa = 1
    [2.25       0.37111111]
    """
    eta, kappa = _check_spectrum(eta), _check_kappa(kappa)
    w2 = _check_teacher(w, eta) ** 2
    return ((_ratio(eta, kappa) ** 2) @ w2).reshape(np.shape(kappa))



# ---------------------------------------------------------------------------------------------
# §3 the renormalized ridge kappa (the linear-ridge equation; random features solve it for kappa2
# in rf.py)
# ---------------------------------------------------------------------------------------------

# Relative residual that every returned kappa meets in lam/kappa = (1 - q) + q (1 - df1(kappa)) (unless
# solve_kappa is given a looser rtol).
_KAPPA_RESIDUAL_TOL = 1e-10


def _kappa_residual(eta: np.ndarray, P: np.ndarray, lam: np.ndarray, kappa: np.ndarray):
    """F = lam/kappa-form residual of the kappa equation and its scale, for kappa > 0 (shape (G,)).

    lam = kappa (1 - q df1(kappa)), q = D/P, divided by kappa reads lam/kappa = (1 - q) + q m(kappa)
    with m = 1 - df1 = (1/D) sum_k kappa/(eta_k + kappa), a mean of positive terms (no cancellation,
    unlike 1 - df1 or kappa - kappa df1 near a double root), and 1 - q = (P - D)/P (exact near P = D).
    F = (1 - q) + q m - lam/kappa has the sign of h(kappa) - lam, h(kappa) = kappa (1 - q df1), which
    is negative below the physical root and positive above it; scale = |1 - q| + q m + lam/kappa
    bounds the rounding of F.
    """
    D = eta.size
    q, one_m_q = D / P, (P - D) / P
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        m = (kappa[:, None] / (eta[None, :] + kappa[:, None])).mean(axis=1)
        lam_k = lam / kappa
        F = one_m_q + q * m - lam_k
        scale = np.abs(one_m_q) + q * m + lam_k
    return F, scale


def _bracket_kappa(eta: np.ndarray, P: np.ndarray, lam: np.ndarray, max_iter: int) -> np.ndarray:
    """kappa from bisection on the sign of F (see _kappa_residual), vectorized over the grid (G,).

    Used for the points where Newton stalls or fails (double root at lam -> 0, P = rank; extreme lam).
    Bracket: h(kappa) <= kappa, so F(lam/2) < 0; h(kappa) >= kappa - sum(eta)/P, so F > 0 at
    kappa = 2 (lam + sum(eta)/P).  For lam = 0 (P < rank) the lower end is found by stepping down by
    factors of 16 (each step that stays above the root also lowers the upper end).  Bisection is
    geometric while the bracket spans more than a factor 2, then arithmetic down to adjacent floats.
    Returns the end of the final bracket with the smaller |F| (NaN where a stage exhausts max_iter).
    """
    with np.errstate(divide="ignore", over="ignore"):
        log_hi = np.log(2.0) + np.logaddexp(np.log(lam), np.log(eta.sum()) - np.log(P))
        hi = np.minimum(np.exp(log_hi), np.finfo(float).max)  # (F_hi > 0 fails only if the root overflows)
    lo = np.where(lam / 2 > 0, lam / 2, lam)  # F(lam) < 0 too; lam/2 only underflows for subnormal lam
    F_hi = _kappa_residual(eta, P, lam, hi)[0]
    F_lo = np.full_like(hi, -np.inf)
    ok = np.isfinite(hi)
    lo_pos = lam > 0
    F_lo[lo_pos] = _kappa_residual(eta, P[lo_pos], lam[lo_pos], lo[lo_pos])[0]
    # lam = 0: step the lower end down until F < 0 (F -> 1 - q rank/D < 0 as kappa -> 0 when P < rank).
    need = ~lo_pos & ok
    lo[need] = hi[need]
    for _ in range(max_iter):
        idx = np.flatnonzero(need)
        if idx.size == 0:
            break
        trial = lo[idx] / 16.0
        F_t = _kappa_residual(eta, P[idx], lam[idx], trial)[0]
        below = F_t < 0
        up = idx[~below]
        hi[up], F_hi[up] = trial[~below], F_t[~below]
        lo[idx], F_lo[idx] = trial, np.where(below, F_t, F_lo[idx])
        need[idx[below | (trial == 0)]] = False
    ok &= ~need & (lo > 0) & (F_lo < 0) & (F_hi > 0)
    active = ok.copy()
    for _ in range(max_iter):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        a, b = lo[idx], hi[idx]
        geometric = b > 2.0 * a
        mid = np.where(geometric, np.exp(0.5 * (np.log(a) + np.log(b))), a + 0.5 * (b - a))
        exhausted = (mid <= a) | (mid >= b)
        F_m = _kappa_residual(eta, P[idx], lam[idx], mid)[0]
        below = F_m < 0
        root = F_m == 0
        lo[idx] = np.where(below & ~exhausted, mid, a)
        F_lo[idx] = np.where(below & ~exhausted, F_m, F_lo[idx])
        hi[idx] = np.where(below | exhausted, b, mid)
        F_hi[idx] = np.where(below | exhausted, F_hi[idx], F_m)
        active[idx[exhausted | root]] = False
    kappa = np.where(np.abs(F_lo) < np.abs(F_hi), lo, hi)
    kappa[~ok | active] = np.nan
    return kappa


def _solve_kappa(eta: np.ndarray, P_arr: np.ndarray, lam_arr: np.ndarray, rtol: float, max_iter: int):
    """solve_kappa on validated 1-D grids; also returns the mask of points solved by bracketing."""
    D = eta.size
    with np.errstate(over="ignore"):
        kappa = lam_arr + eta.sum() / P_arr
    ridgeless_full_rank = (lam_arr == 0) & (P_arr >= np.count_nonzero(eta))
    active = ~ridgeless_full_rank
    kappa[ridgeless_full_rank] = 0.0
    for _ in range(max_iter):
        if not active.any():
            break
        k = kappa[active]
        # (extreme inputs can overflow here; the residual check below catches what that breaks)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            r = _ratio(eta, k)
            g = k - k * r.sum(axis=1) / P_arr[active] - lam_arr[active]
            dg = 1.0 - (r**2).sum(axis=1) / P_arr[active]
            step = g / dg
            new = k - step
        # Newton iterates stay above the root; guard against round-off pushing below zero.
        new = np.where(new > 0, new, 0.5 * k)
        kappa[active] = new
        # Newton iterates decrease strictly; a step that does not means round-off has been reached
        # (near the double root of lam = 0, P ~ rank), and the residual check below decides.
        done = (np.abs(step) <= rtol * np.maximum(new, 1e-300)) | (new >= k)
        idx = np.flatnonzero(active)
        active[idx[done]] = False
    # Residual check in the cancellation-free form; a non-finite kappa or residual is a failure.
    tol = max(float(rtol), _KAPPA_RESIDUAL_TOL)
    solve = ~ridgeless_full_rank

    def failing(points):
        k = kappa[points]
        F, scale = _kappa_residual(eta, P_arr[points], lam_arr[points], k)
        return ~(np.isfinite(k) & (k > 0) & np.isfinite(F) & np.isfinite(scale) & (np.abs(F) <= tol * scale)), F

    refined = np.zeros_like(solve)
    idx = np.flatnonzero(solve)
    bad, _ = failing(idx)
    bad |= active[idx]
    if bad.any():
        # Newton stalled or failed here (a double root at lam -> 0 near P = rank, or extreme lam):
        # re-solve these points only by bisection, so every point Newton settled keeps its value.
        refined[idx[bad]] = True
        kappa[refined] = _bracket_kappa(eta, P_arr[refined], lam_arr[refined], max_iter)
        bad_r, F = failing(np.flatnonzero(refined))
        if bad_r.any():
            i = int(np.flatnonzero(refined)[np.flatnonzero(bad_r)[0]])
            raise ConvergenceError(
                f"kappa did not converge at P={P_arr[i]:g}, lam={lam_arr[i]:g} (D={D}): kappa={kappa[i]:.6g}, "
                f"relative residual {abs(F[np.flatnonzero(bad_r)[0]]):.3e} of lam/kappa = 1 - (D/P) df1(kappa)"
            )
    return kappa, refined


def solve_kappa(eta, P, lam, *, rtol: float = 1e-12, max_iter: int = 500) -> np.ndarray:
    """Renormalized ridge kappa solving lam = kappa (1 - (D/P) df1(kappa)), for every grid point.

    Parameters
    ----------
    eta : array_like
        Population eigenvalues (length D), finite and >= 0.
    P : float or array_like
        Sample sizes, finite and > 0.
    lam : float or array_like
        Ridges, finite and >= 0 (0 is the ridgeless limit); P and lam broadcast together.
    rtol : float, optional
        Newton step tolerance, in (0, 1).
    max_iter : int, optional
        Iteration cap of each stage.

    Returns
    -------
    numpy.ndarray
        kappa at each grid point, with the broadcast shape of P and lam.

    Raises
    ------
    ConvergenceError
        If a point misses the residual tolerance after the bisection fallback.

    Notes
    -----
    g(kappa) = kappa - (1/P) sum_k kappa eta_k/(eta_k + kappa) - lam is convex with g(0) = -lam, so
    Newton's method started above the root (kappa_0 = lam + sum(eta)/P) decreases monotonically to
    the unique positive root (step tolerance rtol, at most max_iter steps).  For lam = 0 the same
    iteration converges to the largest root, which is positive when P < rank(eta); when
    P >= rank the answer is kappa = 0 and is set directly.
    Every returned kappa > 0 is checked on the equation written without cancellation,
    lam/kappa = (1 - q) + q (1/D) sum_k kappa/(eta_k + kappa), q = D/P: its relative residual must
    be at most max(rtol, 1e-10) (a NaN or inf residual fails).  Points that miss it -- Newton
    stalls at the double root lam -> 0, P = rank, where it converges only linearly and then on
    round-off, and extreme lam -- are re-solved by bisection on that residual (at most max_iter
    steps per stage); points Newton settled are not touched.  A point that still misses the
    tolerance raises ConvergenceError.

    Examples
    --------
    For an isotropic spectrum (eta_k = 1) df1(kappa) = 1/(1 + kappa), and the equation is the quadratic
    kappa^2 + (1 - q - lam) kappa - lam = 0, q = D/P:

    >>> import numpy as np
    >>> from ridgerenorm import theory
    >>> D, P, lam = 100, 200, 0.1
    >>> kappa = theory.solve_kappa(np.ones(D), P, lam)
    >>> b = 1 - D / P - lam
    >>> closed = (-b + np.sqrt(b * b + 4 * lam)) / 2
    >>> print(f"{float(kappa):.12f} {closed:.12f}")
    0.174165738677 0.174165738677

    Ridgeless (lam = 0): kappa = D/P - 1 below the interpolation threshold P = D, and 0 from there on.

    >>> print(theory.solve_kappa(np.ones(D), [50, 100, 200], 0.0))
    [1. 0. 0.]
    """
    eta = _check_spectrum(eta)
    _check_solver(rtol, max_iter)
    P_arr, lam_arr, shape = _check_grid(P, lam)
    kappa, _ = _solve_kappa(eta, P_arr, lam_arr, rtol, max_iter)
    return kappa.reshape(shape)


def _grid_dataset(values: dict, shape: tuple, **attrs) -> xr.Dataset:
    """Theory results over dimension ``point`` (squeezed for scalar input), with attributes."""
    ds = xr.Dataset({k: ("point", np.asarray(v, dtype=float).reshape(-1)) for k, v in values.items()})
    if len(shape) == 0:
        ds = ds.squeeze("point")
    ds.attrs.update(attrs)
    return ds

