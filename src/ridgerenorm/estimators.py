"""Estimators that turn per-draw simulation output into error components (THEORY.md §7).

Predictors are handled through their whitened error vectors e_i = Sigma^(1/2) (beta_i - w), so the
Sigma metric becomes the Euclidean one: |beta_i - w|^2_Sigma = |e_i|^2.
"""

from __future__ import annotations

import numpy as np

__all__ = ["one_way_components", "jackknife_se", "mean_and_se", "relative_deviation"]


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


def jackknife_se(loo: np.ndarray) -> np.ndarray:
    """Jackknife standard error from leave-one-out estimates along axis 0."""
    n = loo.shape[0]
    dev = loo - loo.mean(axis=0)
    return np.sqrt((n - 1) / n * np.sum(dev**2, axis=0))


def mean_and_se(x: np.ndarray):
    """Mean over draws (axis 0), seed-to-seed standard deviation and standard error of the mean.
    NaN entries (e.g. GCV at lambda = 0) propagate."""
    x = np.asarray(x, dtype=float)
    n = x.shape[0]
    mean = x.mean(axis=0)
    std = x.std(axis=0, ddof=1) if n > 1 else np.full_like(mean, np.nan)
    return mean, std, std / np.sqrt(n)


def relative_deviation(sim: np.ndarray, theory: np.ndarray) -> np.ndarray:
    """|sim - theory| / |theory|; NaN where the theory value is 0 (no relative scale)."""
    sim, theory = np.asarray(sim, dtype=float), np.asarray(theory, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(theory != 0, np.abs(sim - theory) / np.abs(theory), np.nan)


# Simulated quantity -> theory quantity it estimates (GCV estimates the excess risk E_g).
AGREEMENT_QUANTITIES = {
    "eg": "eg",
    "etr": "etr",
    "bias": "bias",
    "var_x": "var_x",
    "var_xeps": "var_xeps",
    "df1_hat": "df1",
    "kappa_hat": "kappa",
    "gcv": "eg",
}
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
    """Simulation-vs-theory rows for one experiment: theory is read at the simulated P."""
    th = theory.sel(P=sim.P.values.astype(float))
    rows = []
    for sname, tname in AGREEMENT_QUANTITIES.items():
        if sname not in sim or tname not in th:
            continue
        s, t = sim[sname].values, th[tname].values
        se = sim[sname + "_se"].values if sname + "_se" in sim else np.full_like(s, np.nan)
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


def write_agreement_csv(pairs: dict, path) -> list[dict]:
    """Rows for every experiment in `pairs` (name -> (simulation, theory)), written as CSV."""
    import csv

    from .io import atomic_path

    rows = [r for name in sorted(pairs) for r in agreement_rows(name, *pairs[name])]
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=AGREEMENT_COLUMNS)
        writer.writeheader()
        for r in rows:
            writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()})
    return rows
