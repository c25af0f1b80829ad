"""Scaling exponent of a simulated learning curve E_g(P) against the exponent the theory predicts (agreement.csv).

Predicted exponents (docs/theory.md §6, at a fixed width N and P below it; the figures' guides,
plotting/guides.py, draw the same laws): with eta_k = k^-alpha, source exponent r and a ridge lambda ~ P^-l,
E_g is a sum of terms, each a power law P^exponent::

  signal                 -2 min(alpha, l) min(1, r)        (guides signal, ridge_signal)
  feature variance       -(alpha - c) min(1, l/alpha)       (ridge_feature_variance; times N^-c; with features)
  width-limited signal   1 - 2 alpha min(r, 1/2)            (signal_width; times 1/N; with features)
  noise                  -(1 - min(1, l/alpha))             (noise_mitigated, noise_capacity; with sigma_eps > 0)

where a constant ridge is l = infinity (it only ends the asymptotic range, where kappa ~ P^-alpha falls to
lambda), additive feature noise acts as a ridge kappa ~ sigma_xi^2 D/P, so l <= 1 with it (docs/figures.md
D2-D5), and c is the finite-width exponent of the weight spectrum (theory.finite_width_exponent).  A term
of exponent 0 (a plateau) is not a scaling law and is not a candidate.

Which term governs E_g, and where, depends on prefactors (sigma_eps, 1/N), so it is read from the theory:
for each candidate, the simulated P below the narrowest width where its error components (TERM_COMPONENTS)
make at least half of the theory's E_g and the theory's own local slope d log E_g / d log P is within
SLOPE_TOLERANCE of its exponent; the candidate with the longest contiguous run of such P is the prediction
and that run is the fit range.  Fit: weighted least squares of log E_g on log P
with the standard errors of log E_g (SE/E_g) as weights; the exponent's uncertainty is the fit covariance's,
scaled by chi^2/dof when that exceeds 1 (points scattering more than their SEs say).
z = (fit - predicted) / uncertainty.  exponent_theory_curve is the theory curve's own slope over the fit range
(same weights): where it differs from the asymptotic exponent, the range is still pre-asymptotic and a large
``|z|`` says so rather than that the simulation departs from the theory.
"""

from __future__ import annotations

import json

import numpy as np

from . import theory
from .plotting.guides import parameters

__all__ = ["EXPONENT_COLUMNS", "candidate_exponents", "fit_exponent", "asymptotic_range", "exponent_columns"]

EXPONENT_COLUMNS = ["exponent_term", "exponent_theory", "exponent_fit", "exponent_fit_se", "exponent_z",
                    "exponent_theory_curve", "exponent_P_min", "exponent_P_max", "exponent_n_points"]

# the theory's error components that make up each term (quantities.py names)
TERM_COMPONENTS = {"signal": ("bias", "var_x"), "feature variance": ("var_f", "var_xf"),
                   "width-limited signal": ("var_f", "var_xf"), "noise": ("var_xeps", "var_xfeps")}
DOMINANT_SHARE = 0.5
SLOPE_TOLERANCE = (0.15, 0.1)  # |local slope - exponent| <= 0.15 |exponent| + 0.1
MIN_POINTS = 3


def _attr(ds, key, default=None):
    value = ds.attrs.get(key, default)
    return json.loads(value) if isinstance(value, str) and value[:1] in "[{" else value


def candidate_exponents(spec: dict, attrs: dict) -> dict:
    """{term: exponent} of the power laws E_g can follow for an experiment (`spec`: its parameters; `attrs`:
    its theory's attributes, which hold the effective sigma_xi, sigma_eps and the widths); {} when the
    experiment has no power-law exponents (alpha and r)."""
    p = parameters(spec)
    if p["alpha"] is None or p["r"] is None:
        return {}
    alpha, r = float(p["alpha"]), float(p["r"])
    l = np.inf if p["l"] is None else float(p["l"])
    if float(attrs.get("sigma_xi", p["sigma_xi"]) or 0.0) > 0:
        l = min(l, 1.0)
    out = {"signal": -2.0 * min(alpha, l) * min(1.0, r)}
    if attrs.get("widths") is not None:
        c = float(theory.finite_width_exponent(float(spec.get("weight_exponent", 0.0))))
        out["feature variance"] = -(alpha - c) * min(1.0, l / alpha)
        out["width-limited signal"] = 1.0 - 2.0 * alpha * min(r, 0.5)
    if float(attrs.get("sigma_eps", p["sigma_eps"])) > 0:
        out["noise"] = -(1.0 - min(1.0, l / alpha))
    return {k: float(v) for k, v in out.items() if v != 0}


def fit_exponent(P, y, se) -> tuple[float, float, float]:
    """(slope, its uncertainty, chi^2/dof) of log y = a + slope log P by weighted least squares, weights
    1/(se/y)^2; the uncertainty is the covariance's, scaled by chi^2/dof when above 1."""
    P, y, se = (np.asarray(v, dtype=float) for v in (P, y, se))
    x, t, s = np.log(P), np.log(y), se / y
    A = np.stack([np.ones_like(x), x], axis=1) / s[:, None]
    b = t / s
    coef, *_ = np.linalg.lstsq(A, b, rcond=None)
    cov = np.linalg.inv(A.T @ A)
    dof = max(x.size - 2, 1)
    chi2 = float(np.sum((A @ coef - b) ** 2)) / dof
    return float(coef[1]), float(np.sqrt(cov[1, 1] * max(1.0, chi2))), chi2


def asymptotic_range(theory_ds, exponent: float, P_sim, components=()) -> np.ndarray:
    """Mask over P_sim: the longest contiguous run of simulated P below the narrowest width where the theory's
    local slope d log E_g / d log P is within SLOPE_TOLERANCE of `exponent` and, when `components` are
    given, those of them the theory has make at least DOMINANT_SHARE of its E_g."""
    P_th = theory_ds["P"].values.astype(float)
    eg = theory_ds["eg"].values
    ok = np.isfinite(eg) & (eg > 0)
    slope = np.full(P_th.shape, np.nan)
    if ok.sum() >= 3:
        slope[ok] = np.gradient(np.log(eg[ok]), np.log(P_th[ok]))
    rel, absolute = SLOPE_TOLERANCE
    follows = np.abs(slope - exponent) <= rel * abs(exponent) + absolute
    present = [c for c in components if c in theory_ds]
    if components:
        share = sum(theory_ds[c].values for c in present) / np.where(ok, eg, np.inf) if present else 0.0
        follows &= share >= DOMINANT_SHARE
    widths = _attr(theory_ds, "widths")
    if widths:
        follows &= P_th < min(float(n) for n in widths)
    P_sim = np.asarray(P_sim, dtype=float)
    idx = np.searchsorted(P_th, P_sim)
    on_grid = (idx < P_th.size) & (P_th[np.minimum(idx, P_th.size - 1)] == P_sim)
    mask = on_grid & follows[np.minimum(idx, P_th.size - 1)]
    # the longest contiguous run
    best, start, run = (0, 0), None, np.zeros_like(mask)
    for i, m in enumerate(np.append(mask, False)):
        if m and start is None:
            start = i
        elif not m and start is not None:
            if i - start > best[1] - best[0]:
                best = (start, i)
            start = None
    run[best[0]:best[1]] = True
    return run


def exponent_columns(sim, theory_ds) -> dict | None:
    """The EXPONENT_COLUMNS of an experiment's E_g row: the governing term and its exponent, the fitted
    exponent, its uncertainty, z, the theory curve's own slope and the P range of the fit (the fit's cells NaN
    and the term the signal's when fewer than MIN_POINTS simulated P follow any candidate); None when the
    experiment has no power-law exponents or no E_g over P."""
    if "eg" not in sim or "eg" not in theory_ds or sim["eg"].dims != ("P",) or "P" not in theory_ds.dims:
        return None
    spec = _attr(theory_ds, "spec") or _attr(sim, "spec") or {}
    candidates = candidate_exponents(spec, theory_ds.attrs)
    if not candidates:
        return None
    nan = float("nan")
    P = sim["P"].values.astype(float)
    y = sim["eg"].values
    se = sim["eg_se"].values if "eg_se" in sim else np.full_like(y, nan)
    usable = np.isfinite(y) & (y > 0) & np.isfinite(se) & (se > 0)
    # the candidate the theory follows over the most simulated P (ties: the first listed)
    runs = {term: asymptotic_range(theory_ds, e, P, TERM_COMPONENTS[term]) & usable for term, e in candidates.items()}
    term = max(candidates, key=lambda t: runs[t].sum())
    if runs[term].sum() < MIN_POINTS:  # nothing to fit: name the signal's law
        term = next(iter(candidates))
    mask = runs[term]
    out = dict.fromkeys(EXPONENT_COLUMNS, nan)
    out.update(exponent_term=term, exponent_theory=candidates[term], exponent_n_points=0)
    if mask.sum() < MIN_POINTS:
        return out
    slope, err, _ = fit_exponent(P[mask], y[mask], se[mask])
    # the theory curve's own slope over the same P with the same weights: how far the finite-P theory itself
    # still is from the asymptotic exponent there
    at = theory_ds["eg"].sel(P=P[mask].astype(theory_ds["P"].dtype)).values
    curve, _, _ = fit_exponent(P[mask], at, se[mask] * at / y[mask])
    out.update(exponent_fit=slope, exponent_fit_se=err, exponent_z=(slope - candidates[term]) / err,
               exponent_theory_curve=curve,
               exponent_P_min=float(P[mask].min()), exponent_P_max=float(P[mask].max()),
               exponent_n_points=int(mask.sum()))
    return out
