"""Theory of linear random-feature ridge regression (docs/theory.md §4, §5): random_features, for one or
several feature layers with isotropic or structured weights and additive feature noise; its kappa2
solver (_solve_kappa2), the per-layer factors (_Layers) and the exact limits at the interpolation
thresholds of the ridgeless model.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..errors import ConvergenceError
from .checks import _check_grid, _check_number, _check_spectrum, _check_teacher, _check_weight_spectra, _check_widths
from .solver import _grid_dataset

__all__ = ["random_features"]


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

    Parameters
    ----------
    eta : array_like
        Population eigenvalues (length D), finite and >= 0.
    w : array_like
        Teacher in the eigenbasis of eta (length D), finite.
    P : float or array_like
        Sample sizes, finite and > 0.
    widths : int or sequence of int
        Widths N_1, ..., N_L of the feature layers (positive integers; [N] for one layer).
    lam : float or array_like
        Readout ridges, finite and >= 0; lam = 0 is the minimum-norm limit.  P and lam are scalars or
        equal-length 1-D arrays (a per-point lam allows schedules lam = P^-l).
    sigma_eps : float, optional
        Standard deviation of the label noise, >= 0.
    sigma_xi : float, optional
        Standard deviation of the additive feature noise (§5), >= 0.
    weight_spectra : sequence, optional
        None (isotropic weights) or one entry per layer, None or a 1-D array s of length N_l for
        F_l = G diag(sqrt(s))/sqrt(N_{l-1}).

    Returns
    -------
    xarray.Dataset
        Over ``point`` (squeezed for scalar P and lam): P, lam, kappa1, kappa2, df1 (t at kappa2: df1-bar
        when sigma_xi > 0), df1_plain, df2, gamma1, gamma2, rho, kappa2_tf1, bias, var_x, var_f, var_xf,
        var_xeps, var_xfeps, eg and etr; attributes model, D, sigma_eps, sigma_xi, widths and
        structured_weights.

    Raises
    ------
    ConvergenceError
        If kappa2 misses its residual tolerance at some point.

    Notes
    -----
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

    Examples
    --------
    Ridgeless random features on isotropic data (D = 100, sum_k w_k^2 = 1, no noise) with fewer features
    than samples, N = 50 < P = 200: the N features span N/D of the signal, and
    E_g = (1 - N/D)/(1 - N/P) = 2/3.

    >>> import numpy as np
    >>> from ridgerenorm import theory
    >>> D = 100
    >>> eta, w = np.ones(D), np.full(D, D**-0.5)
    >>> print(theory.random_features(eta, w, 200, [50], 0.0).eg.values.round(6))
    0.666667

    A layer much wider than P and D turns the readout ridge (which acts as lam D/N on the data) off: the
    error is that of ridgeless linear regression, 1 - P/D = 0.5 at P = 50 and 0 at P = 200.

    >>> th = theory.random_features(eta, w, [50, 200], [10**7], 0.1)
    >>> print(th.eg.values.round(4), theory.linear_ridge(eta, w, [50, 200], 0.0).eg.values)
    [0.5 0. ] [0.5 0. ]
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
