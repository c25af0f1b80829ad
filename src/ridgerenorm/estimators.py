"""Estimators that turn per-draw simulation output into error components (docs/theory.md §7).

Predictors are handled through their whitened error vectors e_i = Sigma^(1/2) (beta_i - w), so the
Sigma metric becomes the Euclidean one: ``|beta_i - w|^2_Sigma = |e_i|^2``.
"""

from __future__ import annotations

import numpy as np

from .quantities import agreement_pairs

__all__ = ["one_way_components", "two_way_components", "two_way_statistics", "deleted_sums", "label_noise_components", "jackknife_se",
           "mean_and_se", "relative_deviation", "agreement_rows"]


def _one_way(s1: np.ndarray, s2: np.ndarray, n: np.ndarray | int):
    """Bias^2 and Var_X from the draw count n, the vector sum s1 = sum_i e_i (..., D) and the scalar
    sum s2 = sum_i |e_i|^2 (...).  Unbiased: E|mean e|^2 = Bias^2 + Var_X/n."""
    mean = s1 / np.asarray(n)[..., None]
    mean_sq = np.einsum("...d,...d->...", mean, mean)
    var_x = (s2 - n * mean_sq) / (n - 1)
    bias = mean_sq - var_x / n
    return bias, var_x


def one_way_components(e: np.ndarray):
    """Bias^2 and Var_X from whitened clean-label errors e of shape (n_draws, ..., D), with their
    jackknife standard errors over draws.  Returns a dict of arrays of shape (...)."""
    e = np.asarray(e, dtype=float)
    n = e.shape[0]
    if n < 3:
        raise ValueError(f"need at least 3 data draws for variance components, got {n}")
    sq = np.einsum("i...d,i...d->i...", e, e)
    s1, s2 = e.sum(axis=0), sq.sum(axis=0)
    bias, var_x = _one_way(s1, s2, n)
    # Leave-one-out estimates for the jackknife, vectorized over the left-out draw.
    bias_loo, var_loo = _one_way(s1[None] - e, s2[None] - sq, n - 1)
    return {
        "bias": bias,
        "var_x": var_x,
        "bias_se": jackknife_se(bias_loo),
        "var_x_se": jackknife_se(var_loo),
    }


def _two_way(S_A, S_R, S_C, g, n, m):
    """Bias^2, Var_X, Var_F, Var_XF of the two-way random-effects ANOVA (no replication) from
    S_A = sum_ij |e_ij|^2, S_R = sum_i |row sum_i|^2, S_C = sum_j |column sum_j|^2, g = |grand sum|^2."""
    nm = n * m
    ss_t = S_A - g / nm
    ss_x = S_R / m - g / nm
    ss_f = S_C / n - g / nm
    var_xf = (ss_t - ss_x - ss_f) / ((n - 1) * (m - 1))
    var_x = (ss_x / (n - 1) - var_xf) / m
    var_f = (ss_f / (m - 1) - var_xf) / n
    bias = g / nm**2 - var_x / n - var_f / m - var_xf / nm
    return {"bias": bias, "var_x": var_x, "var_f": var_f, "var_xf": var_xf}


def two_way_statistics(e: np.ndarray) -> dict:
    """The sufficient statistics two_way_components takes, from whitened errors e of every pair,
    shape (n data draws, m feature draws, ..., D)."""
    R, C = e.sum(axis=1), e.sum(axis=0)
    G = C.sum(axis=0)

    def dot(x, y):
        return np.einsum("...d,...d->...", x, y)

    return {"a": dot(e, e), "b": dot(e, C[None]), "h": dot(e, R[:, None]), "r": dot(R, R), "rg": dot(R, G[None]),
            "c": dot(C, C), "cg": dot(C, G[None]), "g": dot(G, G), "ge": dot(e, G[None, None]),
            "rc": dot(R[:, None], C[None])}


def deleted_sums(a, r, c, g, rg, cg, b, h, ge, rc):
    """(S_A, S_R, S_C, g) of _two_way for the full grid, for the grid without data draw i (axis 0 of n), without
    feature draw j (axis 0 of m) and without both (axes (n, m)), from the sufficient statistics of
    two_way_components."""
    S_A, S_R, S_C = a.sum(axis=(0, 1)), r.sum(axis=0), c.sum(axis=0)
    A_row, A_col = a.sum(axis=1), a.sum(axis=0)  # (n, ...), (m, ...)
    full = (S_A, S_R, S_C, g)
    # Delete data draw i: columns lose e_ij, the grand sum loses R_i.
    rows = (S_A - A_row, S_R - r, (c[None] - 2 * b + a).sum(axis=1), g - 2 * rg + r)
    # Delete feature draw j: rows lose e_ij, the grand sum loses C_j.
    cols = (S_A - A_col, (r[:, None] - 2 * h + a).sum(axis=0), S_C - c, g - 2 * cg + c)
    # Delete both: rows lose e_ij, columns lose e_ij, the grand sum loses R_i + C_j - e_ij.
    cells = (S_A - A_row[:, None] - A_col[None] + a,
             (S_R - r)[:, None] - 2 * (h.sum(axis=0)[None] - h) + (A_col[None] - a),
             (S_C - c)[None] - 2 * (b.sum(axis=1)[:, None] - b) + (A_row[:, None] - a),
             g + r[:, None] + c[None] + a - 2 * rg[:, None] - 2 * cg[None] + 2 * ge + 2 * rc - 2 * h - 2 * b)
    return full, rows, cols, cells


def two_way_components(a, r, c, g, rg, cg, b, h, ge, rc):
    """Unbiased Bias^2, Var_X, Var_F, Var_XF for a grid of n data draws x m feature draws, from scalar
    sufficient statistics of the whitened errors e_ij (docs/theory.md §7)::

      a[i, j] = |e_ij|^2,  r[i] = |R_i|^2,  c[j] = |C_j|^2,  g = |G|^2,  rg[i] = R_i.G,  cg[j] = C_j.G,
      b[i, j] = e_ij.C_j,  h[i, j] = e_ij.R_i,  ge[i, j] = e_ij.G,  rc[i, j] = R_i.C_j

    with R_i = sum_j e_ij, C_j = sum_i e_ij, G = sum_ij e_ij; trailing axes (e.g. P) broadcast.
    Standard errors come from the crossed jackknife: V = V_rows + V_cols - V_cells, where V_rows (V_cols) is
    the delete-one-data-draw (feature-draw) jackknife variance and V_cells, from deleting one row and one
    column at once, removes the interaction noise that both of the first two count; for a statistic linear
    in the draws this is exactly unbiased (docs/theory.md §7).  V is floored at max(V_rows, V_cols), a lower
    bound of the true variance in expectation."""
    n, m = a.shape[:2]
    if n < 3 or m < 3:
        raise ValueError(f"need at least 3 data draws and 3 feature draws, got {n} x {m}")
    full, rows, cols, cells = deleted_sums(a, r, c, g, rg, cg, b, h, ge, rc)
    est = _two_way(*full, n, m)
    rows, cols, cells = _two_way(*rows, n - 1, m), _two_way(*cols, n, m - 1), _two_way(*cells, n - 1, m - 1)
    for name in list(est):
        v_rows, v_cols = jackknife_se(rows[name]) ** 2, jackknife_se(cols[name]) ** 2
        double = cells[name] - rows[name][:, None] - cols[name][None] + est[name]
        v_cells = (n - 1) * (m - 1) / (n * m) * np.sum(double**2, axis=(0, 1))
        est[name + "_se"] = np.sqrt(np.maximum(v_rows + v_cols - v_cells, np.maximum(v_rows, v_cols)))
    return est


def label_noise_components(noise_row_sq: np.ndarray, noise_within: np.ndarray, m: int) -> dict:
    """Var_Xeps and Var_XFeps with standard errors over data draws, from the label-noise part of a two-way
    grid: per data draw i, ``noise_row_sq[i] = |mean_j e^eps_ij|^2`` and
    ``noise_within[i] = sum_j |e^eps_ij - mean_j e^eps_ij|^2`` over its m feature draws (arrays (n, ...)).  The noise part has mean zero, so
    ``E|row mean|^2`` = Var_Xeps + Var_XFeps/m and E[within / (m - 1)] = Var_XFeps: both unbiased."""
    n = noise_row_sq.shape[0]
    within = noise_within / (m - 1)
    row_part = noise_row_sq - within / m
    out = {}
    for name, per_row in (("var_xfeps", within), ("var_xeps", row_part)):
        out[name] = per_row.mean(axis=0)
        out[name + "_se"] = per_row.std(axis=0, ddof=1) / np.sqrt(n)
    return out


def jackknife_se(loo: np.ndarray) -> np.ndarray:
    """Jackknife standard error from leave-one-out estimates along axis 0."""
    n = loo.shape[0]
    dev = loo - loo.mean(axis=0)
    return np.sqrt((n - 1) / n * np.sum(dev**2, axis=0))


def two_way_mean_se(x: np.ndarray):
    """Mean over a crossed grid x (n data draws, m feature draws, ...), its seed-to-seed standard
    deviation over all pairs, and the standard error of the grand mean: pairs sharing a draw are
    correlated, so SE^2 = var(row means)/n + var(column means)/m (the delete-a-row plus
    delete-a-column jackknife), not std^2/(n m)."""
    x = np.asarray(x, dtype=float)
    n, m = x.shape[:2]
    rows, cols = x.mean(axis=1), x.mean(axis=0)
    se = np.sqrt(rows.var(axis=0, ddof=1) / n + cols.var(axis=0, ddof=1) / m)
    return x.mean(axis=(0, 1)), x.reshape(n * m, *x.shape[2:]).std(axis=0, ddof=1), se


def mean_and_se(x: np.ndarray):
    """Mean over draws (axis 0), seed-to-seed standard deviation and standard error of the mean.
    NaN entries (e.g. GCV at lambda = 0) propagate."""
    x = np.asarray(x, dtype=float)
    n = x.shape[0]
    mean = x.mean(axis=0)
    std = x.std(axis=0, ddof=1) if n > 1 else np.full_like(mean, np.nan)
    return mean, std, std / np.sqrt(n)


def relative_deviation(sim: np.ndarray, theory: np.ndarray) -> np.ndarray:
    """``|sim - theory| / |theory|``; NaN where the theory value is 0 (no relative scale)."""
    sim, theory = np.asarray(sim, dtype=float), np.asarray(theory, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(theory != 0, np.abs(sim - theory) / np.abs(theory), np.nan)


AGREEMENT_COLUMNS = [
    "experiment", "quantity", "theory_quantity", "n_points",
    "median_rel_dev", "max_rel_dev", "median_abs_dev_over_se", "chi2_per_point",
]


def chi2_per_point(sim, theory, se) -> float:
    """mean((sim - theory)/se)^2 over the finite points: about 1 when theory is right and the
    standard errors are honest; it uses every point, so it catches errors that medians dilute."""
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (np.asarray(sim) - np.asarray(theory)) / np.asarray(se)
    z = z[np.isfinite(z)]
    return float(np.mean(z**2)) if z.size else float("nan")


def agreement_rows(experiment: str, sim, theory) -> list[dict]:
    """Simulation-vs-theory rows for one experiment: theory is read at the simulated points (P, or the
    (alpha_F, N) grid of a width sweep), every point of the quantity counted."""
    rows = []
    for sname, tname in agreement_pairs(sim.data_vars, theory.data_vars):
        s_da = sim[sname]
        at = {d: s_da[d].values.astype(theory[d].dtype) for d in s_da.dims if d in theory.dims}
        t = theory[tname].sel(at).transpose(*s_da.dims).values.ravel()
        s = s_da.values.ravel()
        se = sim[sname + "_se"].values.ravel() if sname + "_se" in sim else np.full_like(s, np.nan)
        ok = np.isfinite(s) & np.isfinite(t) & (t != 0)
        if not ok.any():
            continue
        rel = relative_deviation(s[ok], t[ok])
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.abs(s[ok] - t[ok]) / se[ok]
        rows.append({
            "experiment": experiment,
            "quantity": sname,
            "theory_quantity": tname,
            "n_points": int(ok.sum()),
            "median_rel_dev": float(np.median(rel)),
            "max_rel_dev": float(np.max(rel)),
            "median_abs_dev_over_se": float(np.nanmedian(z)) if np.isfinite(z).any() else float("nan"),
            "chi2_per_point": chi2_per_point(s[ok], t[ok], se[ok]),
        })
    return rows
