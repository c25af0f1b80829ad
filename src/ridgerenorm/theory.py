"""Deterministic-equivalent theory of ridge regression and random features (docs/theory.md §1, §3-§6).

Everything is vectorized over a grid of (P, lambda) points: spectral sums are evaluated as
(grid, D) arrays, and the renormalized ridge is solved for all grid points at once.
The public entry points take population eigenvalues `eta` and the teacher `w` expressed in the
eigenbasis of the population covariance, so they work on any user-supplied spectrum.

Inputs that cannot lie: every public function validates its arguments (ValueError naming the
argument and the offending value, e.g. "sigma_xi must be a finite number >= 0, got nan"); the
solvers check their residual in a cancellation-free form and raise ConvergenceError rather than
return a wrong number; and where an expression is 0/0 or inf - inf (lam = 0 at a rank or width
threshold, zero eigenvalues, lam -> infinity) the exact limit is returned instead of NaN.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

__all__ = [
    "ConvergenceError",
    "df1",
    "df2",
    "tf1",
    "tf1_prime",
    "tf2",
    "solve_kappa",
    "linear_ridge",
    "random_features",
    "PHASE_LABELS",
    "phase_rates",
    "finite_width_exponent",
]


from .errors import ConvergenceError  # noqa: E402  (re-exported: part of this module's API)
from .errors import not_eigenvalues  # noqa: E402


# ---------------------------------------------------------------------------------------------
# Argument validation: one helper per kind of argument, used by every public function.  Each raises
# ValueError naming the argument and the offending value; each returns the value as the computation
# uses it (float arrays converted exactly as np.asarray(x, dtype=float) would).
# ---------------------------------------------------------------------------------------------


def _as_real_array(x, name: str) -> np.ndarray:
    """x as a float array; rejects strings, booleans, complex numbers, None and other non-real objects."""
    if isinstance(x, (str, bytes)):
        raise ValueError(f"{name} must be a real number or an array of real numbers, got {x!r}")
    try:
        raw = np.asarray(x)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a real number or an array of real numbers, got {x!r}") from None
    if raw.dtype.kind not in "iuf":
        raise ValueError(f"{name} must be a real number or an array of real numbers, got {x!r}")
    return np.asarray(raw, dtype=float)


def _require(values: np.ndarray, ok: np.ndarray, name: str, what: str) -> None:
    """Raise ValueError('<name> must be <what>, got <first offending value>') unless ok holds everywhere."""
    ok = np.asarray(ok)
    if not np.all(ok):
        raise ValueError(f"{name} must be {what}, got {float(np.asarray(values)[~ok].flat[0])!r}")


def _check_spectrum(eta, name: str = "eta") -> np.ndarray:
    """Population eigenvalues: a non-empty 1-D array of finite numbers >= 0."""
    eta = _as_real_array(eta, name)
    if eta.ndim != 1 or eta.size == 0:
        raise ValueError(not_eigenvalues(name, eta.shape))
    _require(eta, np.isfinite(eta) & (eta >= 0), name, "finite and >= 0 (eigenvalues)")
    return eta


def _check_teacher(w, eta: np.ndarray) -> np.ndarray:
    """Teacher in the eigenbasis: finite, with the shape of eta."""
    w = _as_real_array(w, "w")
    if w.shape != eta.shape:
        raise ValueError(f"w must have the shape of eta {eta.shape}, got shape {w.shape}")
    _require(w, np.isfinite(w), "w", "finite")
    return w


def _check_kappa(kappa) -> np.ndarray:
    """Ridge argument of the spectral functionals: finite and >= 0, any shape."""
    kappa = _as_real_array(kappa, "kappa")
    _require(kappa, np.isfinite(kappa) & (kappa >= 0), "kappa", "finite and >= 0")
    return kappa


def _check_number(x, name: str, *, positive: bool = False):
    """A finite real scalar >= 0 (> 0 if positive), not a bool; returned unchanged (so arithmetic on it
    is exactly what it was without the check)."""
    arr = np.asarray(x) if not isinstance(x, (str, bytes)) else None
    if arr is None or arr.ndim != 0 or arr.dtype.kind not in "iuf":
        raise ValueError(f"{name} must be a finite number {'>' if positive else '>='} 0, got {x!r}")
    v = float(arr)
    if not (np.isfinite(v) and (v > 0 if positive else v >= 0)):
        raise ValueError(f"{name} must be a finite number {'>' if positive else '>='} 0, got {v!r}")
    return x


def _check_grid(P, lam):
    """Broadcast P and lambda to equal-length float 1-D arrays; return them and the output shape.
    P must be finite and > 0, lam finite and >= 0 (NaN fails both tests)."""
    P, lam = _as_real_array(P, "P"), _as_real_array(lam, "lam")
    try:
        P_arr, lam_arr = np.broadcast_arrays(P, lam)
    except ValueError:
        raise ValueError(f"P and lam must broadcast together, got shapes {P.shape} and {lam.shape}") from None
    shape = P_arr.shape
    P_arr, lam_arr = P_arr.reshape(-1).copy(), lam_arr.reshape(-1).copy()
    _require(P_arr, np.isfinite(P_arr) & (P_arr > 0), "P", "finite and > 0")
    _require(lam_arr, np.isfinite(lam_arr) & (lam_arr >= 0), "lam", "finite and >= 0")
    return P_arr, lam_arr, shape


def _check_widths(widths) -> list:
    """Feature-layer widths: a non-empty sequence (or a single value) of positive integers, returned as
    floats.  Integer-valued floats (2000.0) are accepted; 0.5, 0, -3, NaN, True/False and strings are not."""
    msg = f"widths must be a non-empty sequence of positive integers, got {widths!r}"
    if isinstance(widths, (str, bytes)):
        raise ValueError(msg)
    try:
        ndim = np.ndim(widths)
    except (TypeError, ValueError):
        raise ValueError(msg) from None
    if ndim > 1:
        raise ValueError(msg)
    items = [widths] if ndim == 0 else list(widths)
    if len(items) == 0:
        raise ValueError(msg)
    out = []
    for n in items:
        arr = None if isinstance(n, (str, bytes, bool, np.bool_)) else np.asarray(n)
        if arr is None or arr.ndim != 0 or arr.dtype.kind not in "iuf":
            raise ValueError(msg)
        v = float(arr)
        if not (np.isfinite(v) and v.is_integer() and v >= 1):
            raise ValueError(msg)
        out.append(v)
    return out


def _check_weight_spectra(weight_spectra, widths: list) -> list:
    """None (isotropic weights) or one entry per layer, each None or a 1-D array of N_l finite numbers
    >= 0, not all zero (zero entries remove feature directions: the layer's effective width is the
    number of nonzero entries)."""
    L = len(widths)
    if weight_spectra is None:
        return [None] * L
    if isinstance(weight_spectra, (str, bytes)) or not hasattr(weight_spectra, "__len__"):
        raise ValueError(f"weight_spectra must be None or a sequence with one entry per layer, got {weight_spectra!r}")
    if len(weight_spectra) != L:
        raise ValueError(f"weight_spectra has {len(weight_spectra)} entries for {L} layers")
    spectra = []
    for l, s in enumerate(weight_spectra):
        if s is None:
            spectra.append(None)
            continue
        name = f"weight_spectra[{l}]"
        s = _as_real_array(s, name)
        # F_l = G diag(sqrt(s)) / sqrt(N_{l-1}): s scales the N_l output columns of layer l.
        if s.ndim != 1 or s.size != widths[l]:
            raise ValueError(
                f"{name} must be 1-D of length N_{l + 1} = {widths[l]:g} "
                f"(the layer's output width: F_l = G diag(sqrt(s))/sqrt(N_{{l-1}})); got shape {s.shape}"
            )
        _require(s, np.isfinite(s) & (s >= 0), name, "finite and >= 0")
        if not np.any(s > 0):
            raise ValueError(f"{name} is identically zero (the layer would have no features)")
        spectra.append(s)
    return spectra


def _check_solver(rtol, max_iter) -> None:
    """Newton step tolerance 0 < rtol < 1 and a positive integer iteration cap (not a bool)."""
    _check_number(rtol, "rtol", positive=True)
    if not rtol < 1:
        raise ValueError(f"rtol must be a finite number in (0, 1), got {float(rtol)!r}")
    if isinstance(max_iter, (bool, np.bool_)) or not isinstance(max_iter, (int, np.integer)) or max_iter < 1:
        raise ValueError(f"max_iter must be a positive integer, got {max_iter!r}")


def _check_exponents(x, name: str) -> np.ndarray:
    """Scaling exponents on a grid (phase diagram): finite and >= 0, any shape."""
    x = _as_real_array(x, name)
    _require(x, np.isfinite(x) & (x >= 0), name, "finite and >= 0")
    return x


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
    """(1/D) sum_k eta_k / (eta_k + kappa)."""
    eta, kappa = _check_spectrum(eta), _check_kappa(kappa)
    return _df1(eta, kappa)


def df2(eta, kappa):
    """(1/D) sum_k eta_k^2 / (eta_k + kappa)^2."""
    eta, kappa = _check_spectrum(eta), _check_kappa(kappa)
    return _df2(eta, kappa)


def tf1(eta, w, kappa):
    """sum_k w_k^2 eta_k / (eta_k + kappa)."""
    eta, kappa = _check_spectrum(eta), _check_kappa(kappa)
    w2 = _check_teacher(w, eta) ** 2
    return (_ratio(eta, kappa) @ w2).reshape(np.shape(kappa))


def tf1_prime(eta, w, kappa):
    """sum_k w_k^2 eta_k / (eta_k + kappa)^2 (minus the kappa-derivative of tf1)."""
    eta, kappa = _check_spectrum(eta), _check_kappa(kappa)
    return _tf1_prime(eta, _check_teacher(w, eta), kappa)


def tf2(eta, w, kappa):
    """sum_k w_k^2 eta_k^2 / (eta_k + kappa)^2."""
    eta, kappa = _check_spectrum(eta), _check_kappa(kappa)
    w2 = _check_teacher(w, eta) ** 2
    return ((_ratio(eta, kappa) ** 2) @ w2).reshape(np.shape(kappa))


# ---------------------------------------------------------------------------------------------
# §3 the renormalized ridge of linear regression
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
    """
    eta = _check_spectrum(eta)
    _check_solver(rtol, max_iter)
    P_arr, lam_arr, shape = _check_grid(P, lam)
    kappa, _ = _solve_kappa(eta, P_arr, lam_arr, rtol, max_iter)
    return kappa.reshape(shape)


def linear_ridge(eta, w, P, lam, sigma_eps: float = 0.0) -> xr.Dataset:
    """Theory of ridge regression with population spectrum eta and teacher w (eigenbasis).

    P and lam are scalars or equal-length 1-D arrays (they broadcast).  Returns an xarray.Dataset
    over dimension ``point`` with kappa, df1, df2, gamma, bias (Bias^2), var_x, var_xeps, eg and
    etr, plus the inputs P and lam and the S-transform S = kappa/lam (= 1/(1 - q df1)).

    Exact limits instead of 0/0 or inf - inf: at lam = 0 with P >= rank(eta), kappa = 0,
    df1 = df2 = rank/D, gamma = rank/P, Bias^2 = Var_X = 0; at the interpolation threshold P = rank
    gamma = 1, Var_Xeps = E_g = +inf for sigma_eps > 0 (0 without label noise) and E_tr = 0.  For
    lam -> infinity, kappa ~ lam and Bias^2 -> sum_k eta_k w_k^2 (computed without overflowing
    kappa^2).  At points whose kappa came from the bisection fallback (see solve_kappa), 1 - gamma
    and lam/kappa are evaluated in cancellation-free form.
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


def _grid_dataset(values: dict, shape: tuple, **attrs) -> xr.Dataset:
    """Theory results over dimension ``point`` (squeezed for scalar input), with attributes."""
    ds = xr.Dataset({k: ("point", np.asarray(v, dtype=float).reshape(-1)) for k, v in values.items()})
    if len(shape) == 0:
        ds = ds.squeeze("point")
    ds.attrs.update(attrs)
    return ds


# ---------------------------------------------------------------------------------------------
# §4, §5 linear random features (shallow or deep, isotropic or structured weights, additive noise)
# ---------------------------------------------------------------------------------------------


def _ratios_safe(eta: np.ndarray, kappa: np.ndarray, want_c: bool = True):
    """r = eta/(eta+kappa) and c = kappa/(eta+kappa) as (G, D) arrays, with their kappa -> 0+ limits.

    kappa = 0 occurs at ridgeless full-rank points; a zero eigenvalue there would give 0/0, whose
    limit from kappa > 0 is r = 0, c = 1.  (The masked path is only taken when that can happen.)
    """
    den = eta[None, :] + kappa[:, None]
    if eta.size and (eta.min() > 0 or kappa.size == 0 or kappa.min() > 0):
        r = eta[None, :] / den
        c = kappa[:, None] / den if want_c else None
        return r, c
    pos = den > 0
    safe = np.where(pos, den, 1.0)
    r = np.where(pos, eta[None, :] / safe, 0.0)
    c = np.where(pos, kappa[:, None] / safe, 1.0) if want_c else None
    return r, c


def _df12(spec: np.ndarray, kappa: np.ndarray):
    """df1 and df2 of `spec` at each kappa (normalized by len(spec))."""
    r, _ = _ratios_safe(spec, kappa, want_c=False)
    return r.mean(axis=1), np.einsum("gd,gd->g", r, r) / spec.size


def _solve_df(spec: np.ndarray, target: np.ndarray, extra: float = 0.0, max_iter: int = 500) -> np.ndarray:
    """kappa > 0 with df_spec(kappa) + extra/kappa = target, vectorized over target (G,).

    Multiplying by kappa gives g(kappa) = kappa target - kappa df(kappa) - extra, convex with
    g(0) = -extra <= 0, so Newton from kappa_0 = (mean(spec) + extra)/target (where g > 0) decreases
    monotonically to the root.  Without `extra` there is no positive root once target reaches
    rank/len(spec); kappa = 0 is returned there.  Near a double root the iterates can stall on
    round-off two floats apart, so a non-decreasing step also ends the iteration.
    """
    target = np.asarray(target, dtype=float)
    n = spec.size
    kappa = np.zeros_like(target)
    active = (target > 0) & ((extra > 0) | (target < np.count_nonzero(spec) / n))
    kappa[active] = (spec.mean() + extra) / target[active]
    for _ in range(max_iter):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        k, tg = kappa[idx], target[idx]
        r = spec[None, :] / (spec[None, :] + k[:, None])
        g = k * tg - k * r.mean(axis=1) - extra
        dg = tg - np.einsum("gd,gd->g", r, r) / n
        with np.errstate(divide="ignore", invalid="ignore"):
            step = g / dg
        new = k - step
        new = np.where(new > 0, new, 0.5 * k)
        stalled = ~(new < k) | ~(dg > 0)
        done = stalled | (np.abs(step) <= 1e-14 * k)
        kappa[idx] = np.where(stalled, k, new)
        active[idx[done]] = False
    pos = kappa > 0
    r = spec[None, :] / (spec[None, :] + np.where(pos, kappa, 1.0)[:, None])
    g = kappa * target - kappa * r.mean(axis=1) - extra
    bad = pos & ~(np.abs(g) <= 1e-9 * (kappa * target + extra))
    if bad.any() or active.any():
        i = int(np.flatnonzero(bad | active)[0])
        raise ConvergenceError(f"df inverse did not converge for target {target[i]:g} (extra {extra:g}): residual {g[i]:.3e}")
    return kappa


class _Layers:
    """Widths and (optional) weight spectra of the feature layers, with the per-layer factors.

    For isotropic weights the factor of layer l in kappa1/kappa2 is X_l = N_l/D - t and its
    contribution to the derivative sum is t/X_l; for a weight spectrum s it is X_l = t kappa_F with
    df_s(kappa_F) = t D/N_l and df2_s/(df_s - df2_s).  t is df1 (or the noisy df1-bar) at kappa2.
    """

    def __init__(self, widths, weight_spectra, D: int):
        widths = _check_widths(widths)
        self.D = D
        self.N = np.array(widths)
        self.L = len(widths)
        self.spectra = _check_weight_spectra(weight_spectra, widths)
        # Effective widths: zero weight eigenvalues remove feature directions.
        self.N_eff = np.array(
            [n if s is None else float(np.count_nonzero(s)) for n, s in zip(widths, self.spectra)]
        )
        # Inner-layer prefactor prod_{l<L} D/N_l (S-transform of F F^T with per-layer 1/N_{l-1} scaling).
        self.log_prefactor = float(np.sum(np.log(D / self.N[:-1])))
        # Upper bound of X_l: N_l/D for isotropic layers, (N_l/D) mean(s) for structured ones.
        self.log_xmax = np.log(
            np.array([n / D if s is None else n / D * s.mean() for n, s in zip(widths, self.spectra)])
        )

    def factors(self, t: np.ndarray, bind=None):
        """X (L, G) and the derivative pieces (L, G) at t (G,).  `bind` (L, G) marks layers pinned
        exactly at their bottleneck (ridgeless limit): there X = 0 and the piece is +inf."""
        X = np.empty((self.L, t.size))
        piece = np.empty((self.L, t.size))
        for l in range(self.L):  # loop over layers only; each is vectorized over the grid
            s = self.spectra[l]
            if s is None:
                X[l] = self.N[l] / self.D - t
                with np.errstate(divide="ignore", invalid="ignore"):
                    piece[l] = np.where(X[l] > 0, t / np.where(X[l] > 0, X[l], 1.0), np.inf)
            else:
                # df_s(kappa_F) = t D / N_l; kappa_F = 0 once t D reaches the rank of s (bottleneck).
                kF = _solve_df(s, t * self.D / self.N[l])
                d1s, d2s = _df12(s, kF)
                X[l] = t * kF
                with np.errstate(divide="ignore", invalid="ignore"):
                    gap = d1s - d2s
                    piece[l] = np.where((kF > 0) & (gap > 0), d2s / np.where(gap > 0, gap, 1.0), np.inf)
            if bind is not None:
                X[l] = np.where(bind[l], 0.0, X[l])
                piece[l] = np.where(bind[l], np.inf, piece[l])
        return X, piece


def _rf_log_h(eta, layers: _Layers, sigma_xi, P, kappa, want_slope=False):
    """log of h(kappa2) = kappa2 * prefactor * prod_l X_l * (1 - q t), the right side of the kappa2
    equation lam = h(kappa2), extended by -inf off the physical branch (any factor <= 0), which makes
    it non-decreasing on (0, inf).  Optionally also d log h / d log kappa2 = 1/rho + q(t - df2)/(1 - q t)."""
    D = eta.size
    if want_slope:
        d1, d2 = _df12(eta, kappa)
    else:
        d1, d2 = _ratios_safe(eta, kappa, want_c=False)[0].mean(axis=1), None
    t = d1 + sigma_xi**2 / kappa
    one_m_qt = 1.0 - (D / P) * t
    X, piece = layers.factors(t)
    ok = (one_m_qt > 0) & np.all(X > 0, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        logh = np.log(kappa) + layers.log_prefactor + np.sum(np.log(np.where(X > 0, X, 1.0)), axis=0)
        logh = np.where(ok, logh + np.log(np.where(ok, one_m_qt, 1.0)), -np.inf)
    # Relative round-off of h from the cancellations in N_l/D - t and 1 - q t (for the residual test).
    with np.errstate(divide="ignore", invalid="ignore"):
        cond = 1.0 / np.abs(one_m_qt) + np.sum(np.exp(layers.log_xmax)[:, None] / np.abs(X), axis=0)
    if not want_slope:
        return logh, cond
    a = (t - d2) / t
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = 1.0 + a * piece.sum(axis=0) + (D / P) * (t - d2) / one_m_qt
    return logh, cond, slope


def _solve_kappa2(eta, layers: _Layers, sigma_xi, P, lam, *, max_iter: int = 200):
    """kappa2 on the physical branch for every grid point with lam > 0 (vectorized bracketing).

    h is -inf below the branch point and strictly increasing above it, so a log-kappa bracket
    [lo, hi] with h(lo) < lam <= h(hi) isolates the physical root.  lo starts from the bound
    h(kappa) < kappa * prefactor * prod_l max X_l; hi is grown geometrically; bisection in log
    kappa narrows the bracket, then safeguarded Newton steps in log kappa polish (a step leaving
    the bracket, or from a -inf point, is replaced by bisection).
    """
    G = P.size
    loglam = np.log(lam)
    lo = loglam - layers.log_prefactor - layers.log_xmax.sum()  # h(e^lo) < lam strictly
    hi = lo + np.log(4.0)
    # Grow hi until h(hi) >= lam; every failed hi is a valid new lo.
    active = np.ones(G, bool)
    for _ in range(max_iter):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        lh, _ = _rf_log_h(eta, layers, sigma_xi, P[idx], np.exp(hi[idx]))
        below = lh < loglam[idx]
        lo[idx[below]] = hi[idx[below]]
        hi[idx[below]] += np.log(16.0)
        active[idx[~below]] = False
    if active.any():
        i = int(np.flatnonzero(active)[0])
        raise ConvergenceError(f"kappa2: no upper bracket at P={P[i]:g}, lam={lam[i]:g}")
    # Coarse bisection in log kappa (the bracket spans at most a factor 16 here).
    for _ in range(5):
        mid = 0.5 * (lo + hi)
        lh, _ = _rf_log_h(eta, layers, sigma_xi, P, np.exp(mid))
        below = lh < loglam
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    # Safeguarded Newton polish.
    x = 0.5 * (lo + hi)
    active = np.ones(G, bool)
    for _ in range(max_iter):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        xi = x[idx]
        lh, _, slope = _rf_log_h(eta, layers, sigma_xi, P[idx], np.exp(xi), want_slope=True)
        f = lh - loglam[idx]
        lo_i = np.where(f < 0, xi, lo[idx])
        hi_i = np.where(f > 0, xi, hi[idx])
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.where(np.isfinite(f) & (slope > 0), -f / slope, np.nan)
        new = xi + step
        inside = np.isfinite(new) & (new > lo_i) & (new < hi_i)
        new = np.where(inside, new, 0.5 * (lo_i + hi_i))
        done = (np.abs(f) <= 1e-13) | (hi_i - lo_i <= 4e-16 * np.maximum(1.0, np.abs(xi)))
        lo[idx], hi[idx] = lo_i, hi_i
        x[idx] = np.where(done, xi, new)
        active[idx[done]] = False
    lh, cond = _rf_log_h(eta, layers, sigma_xi, P, np.exp(x))
    # A point that ended just below the branch point (h = -inf) takes the bracket's upper end.
    below = ~np.isfinite(lh)
    if below.any():
        x[below] = hi[below]
        lh[below], cond[below] = _rf_log_h(eta, layers, sigma_xi, P[below], np.exp(x[below]))
    kappa2 = np.exp(x)
    resid = np.abs(np.expm1(lh - loglam))
    structured = any(s is not None for s in layers.spectra)
    tol = (1e-8 if structured else 1e-10) + 1e-13 * cond
    # Extremely ill-conditioned points (tiny lam right above the branch point) cannot reach a small
    # residual in floating point; there a root bracketed to a few ulps of kappa2 is accepted.
    pinned_by_bracket = (hi - lo <= 1e-14 * np.maximum(1.0, np.abs(x))) & np.isfinite(lh)
    bad = ~((resid <= tol) | pinned_by_bracket)
    if bad.any() or active.any():
        i = int(np.flatnonzero(bad | active)[0])
        raise ConvergenceError(
            f"kappa2 did not converge at P={P[i]:g}, lam={lam[i]:g} (D={eta.size}): relative residual {resid[i]:.3e}"
        )
    return kappa2


def _rf_threshold_limits(v: dict, eta, w2, layers: "_Layers", rank: float, sigma_eps, *, at_rank, p_and_width,
                         piece) -> None:
    """Exact values at the interpolation thresholds of the ridgeless model, where the generic
    expressions of random_features are 0/0 or inf - inf (or 1 - gamma is a rounding error, not 0).
    Updates the arrays in v (gamma1, gamma2, rho, bias, var_x, var_f, k_tf1, signal, noise, var_xf,
    var_xeps, var_xfeps, eg, lam_over_k1) at those points only.

    at_rank: lam = 0, kappa2 = 0 and P = rank(Sigma) <= every effective width.  Expanding in
    kappa2 -> 0+ with A = sum 1/eta_k and W = sum w_k^2 over eta_k > 0, and n_b layers whose effective
    width equals rank(Sigma) (each contributes 1 to a * sum pieces, the others 0): rho -> 1/(1 + n_b),
    gamma1, gamma2 -> 1, Bias^2, Var_X, Var_F -> 0, signal -> (1 - rho) W rank / ((1 + rho) A),
    Var_Xeps -> +inf and Var_XFeps -> sigma_eps^2 (sum of the layer pieces)/4 if n_b = 0, else +inf.
    p_and_width: lam = 0 with P and some width both binding (rho = 0): gamma1 = 1 and the signal
    diverges; gamma2 < 1 there, so Var_X and Var_Xeps keep their finite values.
    Without label noise the noise terms are 0 at every lam, so they are 0 here too; lam/kappa1 = 0 at both.
    """
    both = at_rank | p_and_width
    if not both.any():
        return
    inf_or_0 = np.inf if sigma_eps > 0 else 0.0
    n_b = int(np.sum(layers.N_eff == rank))
    rho0 = 1.0 / (1.0 + n_b)
    support = eta > 0
    signal0 = (1.0 - rho0) * w2[support].sum() * rank / ((1.0 + rho0) * (1.0 / eta[support]).sum())
    if n_b == 0:
        with np.errstate(invalid="ignore"):
            xfeps0 = sigma_eps**2 * piece.sum(axis=0) / 4.0
    else:
        xfeps0 = inf_or_0
    v["gamma1"] = np.where(both, 1.0, v["gamma1"])
    v["gamma2"] = np.where(at_rank, 1.0, v["gamma2"])
    v["rho"] = np.where(at_rank, rho0, v["rho"])
    v["var_x"] = np.where(at_rank, 0.0, v["var_x"])
    diverging = np.where(v["k_tf1"] > 0, np.inf, 0.0)
    v["signal"] = np.where(at_rank, signal0, np.where(p_and_width, diverging, v["signal"]))
    v["noise"] = np.where(both, inf_or_0, v["noise"])
    v["var_xeps"] = np.where(at_rank, inf_or_0, v["var_xeps"])
    with np.errstate(invalid="ignore"):
        v["var_xfeps"] = np.where(at_rank, xfeps0, np.where(p_and_width, v["noise"] - v["var_xeps"], v["var_xfeps"]))
        v["var_xf"] = np.where(both, v["signal"] - v["bias"] - v["var_x"] - v["var_f"], v["var_xf"])
        v["eg"] = np.where(both, v["signal"] + v["noise"], v["eg"])
    v["lam_over_k1"] = np.where(both, 0.0, v["lam_over_k1"])


def random_features(
    eta,
    w,
    P,
    widths,
    lam,
    sigma_eps: float = 0.0,
    sigma_xi: float = 0.0,
    weight_spectra=None,
) -> xr.Dataset:
    """Theory of linear random-feature ridge regression (docs/theory.md §4) and its additive-noise
    variant (§5), for one (widths=[N]) or several feature layers.

    eta, w: population spectrum and teacher in its eigenbasis (length D).  P, lam: scalars or
    equal-length 1-D arrays (a per-point lam allows schedules lam = P^-l); lam = 0 is the
    minimum-norm limit.  sigma_xi: std of the additive feature noise.  weight_spectra: None
    (isotropic weights) or one entry per layer, None or a 1-D array s of length N_l for
    F_l = G diag(sqrt(s))/sqrt(N_{l-1}).

    Branch: with t(kappa) = df1(kappa) + sigma_xi^2/kappa (= df1 when sigma_xi = 0, decreasing in
    kappa), the physical kappa2 is the root of lam = kappa2 prod_{l<L}(D/N_l) prod_l X_l (1 - q t)
    above the point kappa* where t = min(P, N_1..N_L)/D, i.e. where every factor is positive; the
    right side increases from 0 there, so the root is unique and tends to kappa* as lam -> 0.
    Without feature noise t <= rank(Sigma)/D, so kappa* = 0 (and kappa2 = 0 at lam = 0) when
    rank(Sigma) <= min(P, N_l).  With sigma_xi > 0, t runs from +inf down to 0, kappa* > 0 always
    and the ridgeless kappa2 = kappa* > 0 even when D is the smallest dimension (the feature noise
    makes the N features full rank, so D is no longer a constraint and t = min(P, N_l)/D may exceed
    1); the roots below kappa* (an even number of negative factors) are spurious.  Consequently the
    ridgeless sigma_xi -> 0 limit differs from sigma_xi = 0 when D < min(P, N_l): kappa2 -> 0 and the
    signal terms agree, but gamma1 -> N/P (noise fitted through N features) instead of D/P.
    At lam = 0 the binding constraint is applied exactly (factor 0, rho = 0 for a width bottleneck,
    lam/kappa1 = 0 when P binds) rather than evaluated as 0/0.

    Returns a Dataset over ``point`` with P, lam, kappa1, kappa2, df1 (t at kappa2: df1-bar when
    sigma_xi > 0), df1_plain, df2, gamma1, gamma2, rho, kappa2_tf1, bias, var_x, var_f, var_xf,
    var_xeps, var_xfeps, eg and etr.
    """
    eta = _check_spectrum(eta)
    w = _check_teacher(w, eta)
    _check_number(sigma_eps, "sigma_eps")
    _check_number(sigma_xi, "sigma_xi")
    P_arr, lam_arr, shape = _check_grid(P, lam)
    D = eta.size
    sigma_xi = float(sigma_xi)
    layers = _Layers(widths, weight_spectra, D)
    q = D / P_arr
    w2 = w**2
    rank = float(np.count_nonzero(eta))

    kappa2 = np.empty_like(P_arr)
    # Ridgeless points: kappa2 = kappa*, where t = df1 + sigma_xi^2/kappa = m/D, m = min(P, effective
    # widths) (kappa* = 0 when sigma_xi = 0 and m >= rank(Sigma)).
    ridgeless = lam_arr == 0
    m = np.minimum(P_arr, layers.N_eff.min())
    pinned = ridgeless & ((sigma_xi > 0) | (m < rank))  # kappa* > 0: some constraint binds
    if ridgeless.any():
        kappa2[ridgeless] = _solve_df(eta, m[ridgeless] / D, sigma_xi**2)
    pos = ~ridgeless
    if pos.any():
        kappa2[pos] = _solve_kappa2(eta, layers, sigma_xi, P_arr[pos], lam_arr[pos])

    r, c = _ratios_safe(eta, kappa2)
    d1 = r.mean(axis=1)
    d2 = np.einsum("gd,gd->g", r, r) / D
    etaw2 = eta * w2
    bias = (c * c) @ etaw2  # kappa2^2 tf1'
    k_tf1 = c @ etaw2  # kappa2 tf1
    k_tf2 = kappa2 * ((r * r) @ w2)  # kappa2 tf2
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(kappa2 > 0, d1 + sigma_xi**2 / np.where(kappa2 > 0, kappa2, 1.0), d1)
    # At pinned ridgeless points use the exact constraint values (no cancellation, no 0/0).
    t = np.where(pinned, m / D, t)
    bind_P = pinned & (P_arr == m)
    bind_l = pinned[None, :] & (layers.N_eff[:, None] == m[None, :])
    X, piece = layers.factors(t, bind=bind_l)
    kappa1 = kappa2 * np.exp(layers.log_prefactor) * np.prod(X, axis=0)

    # rho = dlog kappa2 / dlog kappa1 = 1/(1 + a * sum pieces); a bottleneck gives rho = 0.
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(t > 0, (t - d2) / np.where(t > 0, t, 1.0), 0.0)
        a_del = a * piece.sum(axis=0)
    # a = 0 only at kappa2 = 0 without feature noise, where rho multiplies zero signal terms.
    a_del = np.where(np.isnan(a_del), 0.0, a_del)
    rho = np.where(np.isinf(a_del), 0.0, 1.0 / (1.0 + a_del))

    gamma2 = q * d2
    gamma1 = q * (t - (t - d2) * rho)
    with np.errstate(divide="ignore", invalid="ignore"):
        var_x = bias * gamma2 / (1.0 - gamma2)
        var_f = (1.0 - rho) * k_tf2
        signal = (rho * bias + (1.0 - rho) * k_tf1) / (1.0 - gamma1)
        var_xf = signal - bias - var_x - var_f
        noise = sigma_eps**2 * gamma1 / (1.0 - gamma1)
        var_xeps = sigma_eps**2 * gamma2 / (1.0 - gamma2)
        var_xfeps = noise - var_xeps
        eg = signal + noise
        # lam/kappa1 = 1 - q t at the root; the ridgeless value is the limit (0 when P binds).
        lam_over_k1 = np.where(
            ridgeless, np.where(bind_P, 0.0, 1.0 - q * t), lam_arr / np.where(kappa1 > 0, kappa1, 1.0)
        )
    v = dict(gamma1=gamma1, gamma2=gamma2, rho=rho, bias=bias, var_x=var_x, var_f=var_f, k_tf1=k_tf1, signal=signal,
             noise=noise, var_xf=var_xf, var_xeps=var_xeps, var_xfeps=var_xfeps, eg=eg, lam_over_k1=lam_over_k1)
    _rf_threshold_limits(v, eta, w2, layers, rank, sigma_eps, at_rank=ridgeless & ~pinned & (P_arr == rank),
                         p_and_width=bind_P & bind_l.any(axis=0), piece=piece)
    gamma1, gamma2, rho, var_x, var_xf = v["gamma1"], v["gamma2"], v["rho"], v["var_x"], v["var_xf"]
    var_xeps, var_xfeps, eg, lam_over_k1 = v["var_xeps"], v["var_xfeps"], v["eg"], v["lam_over_k1"]
    with np.errstate(invalid="ignore"):
        etr = lam_over_k1**2 * (eg + sigma_eps**2)
    # lam/kappa1 = 0 (ridgeless, P binds): the interpolator has zero training error, also where E_g diverges.
    etr = np.where(lam_over_k1 == 0, 0.0, etr)

    out = {
        "P": P_arr,
        "lam": lam_arr,
        "kappa1": kappa1,
        "kappa2": kappa2,
        "df1": t,
        "df1_plain": d1,
        "df2": d2,
        "gamma1": gamma1,
        "gamma2": gamma2,
        "rho": rho,
        "kappa2_tf1": k_tf1,
        "bias": bias,
        "var_x": var_x,
        "var_f": var_f,
        "var_xf": var_xf,
        "var_xeps": var_xeps,
        "var_xfeps": var_xfeps,
        "eg": eg,
        "etr": etr,
    }
    return _grid_dataset(
        out, shape, model="random_features", D=D, sigma_eps=float(sigma_eps), sigma_xi=sigma_xi,
        widths=[int(n) if float(n).is_integer() else float(n) for n in layers.N],
        structured_weights=int(any(s is not None for s in layers.spectra)),
    )


# ---------------------------------------------------------------------------------------------
# §6 scaling-law phase diagram
# ---------------------------------------------------------------------------------------------

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
