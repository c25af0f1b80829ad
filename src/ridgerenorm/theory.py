"""Deterministic-equivalent theory of ridge regression and random features (THEORY.md §1, §3-§6).

Everything is vectorized over a grid of (P, lambda) points: spectral sums are evaluated as
(grid, D) arrays, and the renormalized ridge is solved for all grid points at once.
The public entry points take population eigenvalues `eta` and the teacher `w` expressed in the
eigenbasis of the population covariance, so they work on any user-supplied spectrum.
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


class ConvergenceError(RuntimeError):
    """A fixed-point or root solve did not reach its tolerance."""


# ---------------------------------------------------------------------------------------------
# §1 spectral functionals.  kappa has shape (G,) and eta, w have shape (D,); results have shape (G,).
# ---------------------------------------------------------------------------------------------


def _ratio(eta: np.ndarray, kappa: np.ndarray) -> np.ndarray:
    """eta_k / (eta_k + kappa) as a (G, D) array."""
    kappa = np.asarray(kappa, dtype=float)
    return eta[None, :] / (eta[None, :] + kappa.reshape(-1, 1))


def df1(eta, kappa):
    """(1/D) sum_k eta_k / (eta_k + kappa)."""
    eta = np.asarray(eta, dtype=float)
    return _ratio(eta, kappa).mean(axis=1).reshape(np.shape(kappa))


def df2(eta, kappa):
    """(1/D) sum_k eta_k^2 / (eta_k + kappa)^2."""
    eta = np.asarray(eta, dtype=float)
    return (_ratio(eta, kappa) ** 2).mean(axis=1).reshape(np.shape(kappa))


def tf1(eta, w, kappa):
    """sum_k w_k^2 eta_k / (eta_k + kappa)."""
    eta, w2 = np.asarray(eta, dtype=float), np.asarray(w, dtype=float) ** 2
    return (_ratio(eta, kappa) @ w2).reshape(np.shape(kappa))


def tf1_prime(eta, w, kappa):
    """sum_k w_k^2 eta_k / (eta_k + kappa)^2 (minus the kappa-derivative of tf1)."""
    eta, w2 = np.asarray(eta, dtype=float), np.asarray(w, dtype=float) ** 2
    kappa = np.asarray(kappa, dtype=float)
    r = eta[None, :] / (eta[None, :] + kappa.reshape(-1, 1)) ** 2
    return (r @ w2).reshape(np.shape(kappa))


def tf2(eta, w, kappa):
    """sum_k w_k^2 eta_k^2 / (eta_k + kappa)^2."""
    eta, w2 = np.asarray(eta, dtype=float), np.asarray(w, dtype=float) ** 2
    return ((_ratio(eta, kappa) ** 2) @ w2).reshape(np.shape(kappa))


# ---------------------------------------------------------------------------------------------
# §3 the renormalized ridge of linear regression
# ---------------------------------------------------------------------------------------------


def _as_grid(P, lam):
    """Broadcast P and lambda to equal-length float 1-D arrays; return them and the output shape."""
    P_arr, lam_arr = np.broadcast_arrays(np.asarray(P, dtype=float), np.asarray(lam, dtype=float))
    shape = P_arr.shape
    P_arr, lam_arr = P_arr.reshape(-1).copy(), lam_arr.reshape(-1).copy()
    if np.any(~np.isfinite(P_arr)) or np.any(P_arr <= 0):
        raise ValueError(f"P must be positive and finite, got {P_arr[(P_arr <= 0) | ~np.isfinite(P_arr)][0]}")
    if np.any(~np.isfinite(lam_arr)) or np.any(lam_arr < 0):
        raise ValueError(f"lam must be >= 0 and finite, got {lam_arr[(lam_arr < 0) | ~np.isfinite(lam_arr)][0]}")
    return P_arr, lam_arr, shape


def solve_kappa(eta, P, lam, *, rtol: float = 1e-12, max_iter: int = 500) -> np.ndarray:
    """Renormalized ridge kappa solving lam = kappa (1 - (D/P) df1(kappa)), for every grid point.

    g(kappa) = kappa - (1/P) sum_k kappa eta_k/(eta_k + kappa) - lam is convex with g(0) = -lam, so
    Newton's method started above the root (kappa_0 = lam + sum(eta)/P) decreases monotonically to
    the unique positive root.  For lam = 0 the same iteration converges to the largest root, which
    is positive when P < D; when P >= D the answer is kappa = 0 and is set directly (at P = D the
    root is double and Newton would only converge linearly).
    Raises ConvergenceError if any grid point misses the tolerance.
    """
    eta = np.asarray(eta, dtype=float)
    if eta.ndim != 1 or eta.size == 0 or np.any(eta < 0) or not np.all(np.isfinite(eta)):
        raise ValueError("eta must be a non-empty 1-D array of finite non-negative eigenvalues")
    P_arr, lam_arr, shape = _as_grid(P, lam)
    D = eta.size
    kappa = lam_arr + eta.sum() / P_arr
    ridgeless_full_rank = (lam_arr == 0) & (P_arr >= np.count_nonzero(eta))
    active = ~ridgeless_full_rank
    kappa[ridgeless_full_rank] = 0.0
    for _ in range(max_iter):
        if not active.any():
            break
        k = kappa[active]
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
    # Residual check on the original equation, relative to the scale of its terms.
    r = _ratio(eta, kappa)
    resid = kappa - kappa * r.sum(axis=1) / P_arr - lam_arr
    scale = np.maximum(lam_arr + kappa, 1e-300)
    bad = (np.abs(resid) > 1e-8 * scale) & ~ridgeless_full_rank
    if bad.any() or active.any():
        i = int(np.flatnonzero(bad | active)[0])
        raise ConvergenceError(
            f"kappa did not converge at P={P_arr[i]:g}, lam={lam_arr[i]:g} (D={D}): residual {resid[i]:.3e}"
        )
    return kappa.reshape(shape)


def linear_ridge(eta, w, P, lam, sigma_eps: float = 0.0) -> xr.Dataset:
    """Theory of ridge regression with population spectrum eta and teacher w (eigenbasis).

    P and lam are scalars or equal-length 1-D arrays (they broadcast).  Returns an xarray.Dataset
    over dimension ``point`` with kappa, df1, df2, gamma, bias (Bias^2), var_x, var_xeps, eg and
    etr, plus the inputs P and lam and the S-transform S = kappa/lam (= 1/(1 - q df1)).
    """
    eta = np.asarray(eta, dtype=float)
    w = np.asarray(w, dtype=float)
    if w.shape != eta.shape:
        raise ValueError(f"w has shape {w.shape} but eta has shape {eta.shape}")
    if sigma_eps < 0:
        raise ValueError(f"sigma_eps must be >= 0, got {sigma_eps}")
    P_arr, lam_arr, shape = _as_grid(P, lam)
    D = eta.size
    q = D / P_arr
    kappa = solve_kappa(eta, P_arr, lam_arr)
    d1, d2 = df1(eta, kappa), df2(eta, kappa)
    gamma = q * d2
    bias = kappa**2 * tf1_prime(eta, w, kappa)
    # At kappa = 0 (ridgeless, P >= D) kappa^2 tf1' is 0 exactly; guard 0 * inf for zero eigenvalues.
    bias = np.where(kappa == 0, 0.0, bias)
    amp = gamma / (1.0 - gamma)
    var_x = bias * amp
    var_xeps = sigma_eps**2 * amp
    eg = bias + var_x + var_xeps
    # lam/kappa = 1 - q df1 holds at every point, including lam = 0 where it is the OLS limit 1 - D/P.
    inv_s = 1.0 - q * d1
    etr = inv_s**2 * (eg + sigma_eps**2)
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
        widths = [float(n) for n in np.atleast_1d(np.asarray(widths, dtype=float))]
        if len(widths) == 0 or any((not np.isfinite(n)) or n <= 0 for n in widths):
            raise ValueError(f"widths must be a non-empty list of positive finite numbers, got {widths}")
        self.D = D
        self.N = np.array(widths)
        self.L = len(widths)
        if weight_spectra is None:
            self.spectra = [None] * self.L
        else:
            if len(weight_spectra) != self.L:
                raise ValueError(f"weight_spectra has {len(weight_spectra)} entries for {self.L} layers")
            self.spectra = []
            for l, s in enumerate(weight_spectra):
                if s is None:
                    self.spectra.append(None)
                    continue
                s = np.asarray(s, dtype=float)
                # F_l = G diag(sqrt(s)) / sqrt(N_{l-1}): s scales the N_l output columns of layer l.
                if s.ndim != 1 or s.size != round(widths[l]):
                    raise ValueError(
                        f"weight spectrum of layer {l} must be 1-D of length N_{l + 1} = {widths[l]:g} "
                        f"(the layer's output width: F_l = G diag(sqrt(s))/sqrt(N_{{l-1}})); got shape {s.shape}"
                    )
                if np.any(s < 0) or not np.all(np.isfinite(s)):
                    raise ValueError(f"weight spectrum of layer {l} must be finite and non-negative")
                self.spectra.append(s)
        # Effective widths: zero weight eigenvalues remove feature directions.
        self.N_eff = np.array(
            [n if s is None else float(np.count_nonzero(s)) for n, s in zip(widths, self.spectra)]
        )
        if np.any(self.N_eff == 0):
            raise ValueError("a weight spectrum is identically zero")
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
    """Theory of linear random-feature ridge regression (THEORY.md §4) and its additive-noise
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
    eta = np.asarray(eta, dtype=float)
    w = np.asarray(w, dtype=float)
    if eta.ndim != 1 or eta.size == 0 or np.any(eta < 0) or not np.all(np.isfinite(eta)):
        raise ValueError("eta must be a non-empty 1-D array of finite non-negative eigenvalues")
    if w.shape != eta.shape:
        raise ValueError(f"w has shape {w.shape} but eta has shape {eta.shape}")
    if sigma_eps < 0 or sigma_xi < 0:
        raise ValueError(f"sigma_eps and sigma_xi must be >= 0, got {sigma_eps}, {sigma_xi}")
    P_arr, lam_arr, shape = _as_grid(P, lam)
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
    etr = lam_over_k1**2 * (eg + sigma_eps**2)

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

    l: ridge exponent (lam ~ P^-l), q: width exponent (N ~ P^q); arrays broadcast together.
    Each term of THEORY.md §6 is evaluated with its own label (the argument attaining its inner
    min); the rate is the min over terms.  Ties (within 1e-12 relative) go to the earlier entry:
    inside a term in the order listed in §6, across terms in the order signal, feature variance,
    width-limited signal, noise -- i.e. always the lowest index in PHASE_LABELS.
    """
    l, q = np.broadcast_arrays(np.asarray(l, dtype=float), np.asarray(q, dtype=float))
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
    """Finite-width exponent c of Var_F + Var_XF ~ N^-c for weight exponent alpha_F (FIGURES.md C7)."""
    a = np.asarray(alpha_F, dtype=float)
    with np.errstate(divide="ignore"):
        mid = (1.0 - a) / np.where(a > 0, a, 1.0)
    out = np.where(a < 0.5, 1.0, np.where(a <= 1.0, mid, 0.0))
    return out if out.ndim else float(out)
