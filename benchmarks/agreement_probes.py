"""Measurements behind docs/agreement.md: one probe per quick-scale disagreement, each a small standalone run
of the package's own simulation, estimators and theory.

    PYTHONPATH=src python benchmarks/agreement_probes.py d1|c2|c4|e2|b4

d1 and c2 re-run the quick experiments at their own seed and names (same draws as the pipeline); b4 reads
results/quick/simulation/b4_blocks.nc (build the quick scale first).  Run times on one core: d1 ~1 min,
c2 ~10 s, c4 ~3 min, e2 ~4 min, b4 ~1 s.
"""

from __future__ import annotations

import sys

import numpy as np

from ridgerenorm import theory
from ridgerenorm.estimators import label_noise_components, two_way_components
from ridgerenorm.features import LinearFeatures
from ridgerenorm.models.random_features import rf_error_statistics, simulate_random_features
from ridgerenorm.spectra import population

QUICK_SEED = 20240501


def ratios_and_z(components, th, name):
    """Estimate/theory and (estimate - theory)/SE of `name` for each dict of components, stacked (runs, P)."""
    ratios, zs = [], []
    for c in components:
        ratios.append(c[name] / th[name].values)
        zs.append((c[name] - th[name].values) / c[name + "_se"])
    return np.array(ratios), np.array(zs)


def pair_mean(G):
    """Mean of the off-diagonal entries of a symmetric m x m Gram (Bias^2 = mean over pairs j != j' of
    <f_j, f_j'>) and its delete-one-feature-draw jackknife standard error."""
    m = G.shape[0]
    off = G.sum() - np.trace(G)
    loo = np.array([(off - 2 * (G[j].sum() - G[j, j])) / ((m - 1) * (m - 2)) for j in range(m)])
    return off / (m * (m - 1)), float(np.sqrt((m - 1) / m * np.sum((loo - loo.mean()) ** 2)))


def d1():
    """Var_Xeps of D1 (additive-noise features, D = 100, N = 50) at the quick seed, with more draws of each kind
    (draw i and feature draw j keep their streams, so the 6 x 6 grid is a corner of the larger ones), then
    200 independent 6 x 6 replicates at P = 545, 885, 1438."""
    D, N = 100, 50
    eta, w = population({"kind": "isotropic", "D": D}, {"kind": "flat", "norm": 1.0})
    P = np.unique((D / np.logspace(-2, 2, 20)).astype(int))  # the quick grid: eps depends on its largest P
    th = theory.random_features(eta, w, P, [N], 1e-3, sigma_eps=0.25, sigma_xi=0.5)
    pick = np.isin(P, [545, 885, 1438])
    print("pipeline seed, P =", P[pick])
    for n, m in [(6, 6), (6, 48), (48, 6), (48, 48)]:
        out = simulate_random_features(eta, w, P, np.full(P.size, 1e-3), [N], 0.25, 0.5, range(n), m,
                                       experiment="d1_isotropic", seed=QUICK_SEED)
        c = label_noise_components(out["noise_row_sq"], out["noise_within"], m)
        ratio = c["var_xeps"] / th["var_xeps"].values
        z = (c["var_xeps"] - th["var_xeps"].values) / c["var_xeps_se"]
        print(f"  {n:2d} x {m:2d} draws: Var_Xeps/theory {ratio[pick].round(3)}, z {z[pick].round(1)}")
    P = np.array([545, 885, 1438])
    th = theory.random_features(eta, w, P, [N], 1e-3, sigma_eps=0.25, sigma_xi=0.5)

    def replicate(r):
        out = simulate_random_features(eta, w, P, np.full(3, 1e-3), [N], 0.25, 0.5, range(6), 6,
                                       experiment=f"d1-replicate-{r}", seed=3)
        return label_noise_components(out["noise_row_sq"], out["noise_within"], 6)

    ratios, zs = ratios_and_z((replicate(r) for r in range(200)), th, "var_xeps")
    print(f"200 replicates 6 x 6, P = {P}: mean ratio {ratios.mean(0).round(3)}, sd of ratio {ratios.std(0).round(3)}, "
          f"P(|z| < 2) {np.mean(np.abs(zs) < 2, 0).round(3)}, rms z {np.sqrt(np.mean(zs**2, 0)).round(2)}, "
          f"max |z| {np.abs(zs).max(0).round(1)}")


def c2():
    """C2 at P -> infinity, lambda -> 0, Sigma = I: each fit projects w onto span(F_j), so E_g(F) = |w|^2 -
    |P_F w|^2 and Bias^2 = |mean_F P_F w - w|^2 (unbiased over pairs), for the quick run's 6 feature draws and
    for 400 others; theory 1 - N/D and (1 - N/D)^2."""
    D, N = 100, 50
    _, w = population({"kind": "isotropic", "D": D}, {"kind": "flat", "norm": 1.0})
    fm = LinearFeatures(D, (N,), "c2_isotropic", QUICK_SEED)

    def stats(js):
        proj = []
        for j in js:
            Q, _ = np.linalg.qr(fm.weights(j))
            proj.append(Q @ (Q.T @ w))
        proj = np.array(proj)
        m = len(js)
        eg = w @ w - np.einsum("jd,jd->j", proj, proj)
        S = proj.sum(0) - m * w
        bias = (S @ S - np.sum((proj - w) ** 2)) / (m * (m - 1))
        return eg.mean(), eg.std(ddof=1) / np.sqrt(m), bias

    for label, js in (("the quick run's 6 feature draws", range(6)), ("400 other feature draws", range(6, 406))):
        eg, se, bias = stats(js)
        print(f"{label}: E_g = {eg:.4f} +- {se:.4f} (theory {1 - N / D:.4f}), Bias^2 = {bias:.4f} "
              f"(theory {(1 - N / D) ** 2:.4f})")


def c4():
    """C4 (D = 1500, N = 300, alpha = 2, r = 1.5, lambda = P^-1.5) at small P with 1200 data draws x 6 feature
    draws, and the scatter of 6 x 6 sub-grids (the quick scale's size) of the same draws."""
    D, N, n, m = 1500, 300, 1200, 6
    eta, w = population({"kind": "power_law", "D": D, "alpha": 2.0}, {"kind": "power_law", "r": 1.5, "norm": None})
    P = np.array([1, 2, 4, 8, 16])
    lam = P.astype(float) ** -1.5
    out = simulate_random_features(eta, w, P, lam, [N], 0.0, 0.0, range(n), m, experiment="c4-probe", seed=5)
    fm = LinearFeatures(D, (N,), "c4-probe", 5)
    comp = two_way_components(**rf_error_statistics(out["v_clean"], eta, w, fm, 0.0))
    th = theory.random_features(eta, w, P, [N], lam)
    print("P =", P)
    for q in ("bias", "var_x", "var_f", "var_xf"):
        print(f"  {q}/theory ({n} x {m} draws): {(comp[q] / th[q].values).round(3)} "
              f"+- {(comp[q + '_se'] / th[q].values).round(3)}")
    print(f"  E_g/theory: {(out['eg'].mean(axis=(0, 1)) / th['eg'].values).round(3)}")
    subgrids = (two_way_components(**rf_error_statistics(out["v_clean"][s:s + 6], eta, w, fm, 0.0))
                for s in range(0, n, 6))
    ratios, zs = ratios_and_z(subgrids, th, "var_x")
    print(f"  {len(ratios)} sub-grids of 6 x 6: Var_X/theory median {np.median(ratios, 0).round(3)}, "
          f"10th percentile {np.percentile(ratios, 10, 0).round(3)}, below 0.14: {np.mean(ratios < 0.14, 0).round(3)}, "
          f"min z {zs.min(0).round(1)}")


def e2():
    """E2 erf (D = 1000, N = 250, alpha = 1.8, r = 1.2, lambda = 1e-8) at P -> infinity: v_j = (K_j + lambda)^-1
    b_j for 20 feature draws; Bias^2 (mean over pairs j != j') and Var_F of the exact erf predictors and of the
    same-size Gaussian-equivalent model (mu1 F^T Sigma F + mu*^2 I, noise independent across draws), against the
    theory; Sigma scaled by c and w by 1/sqrt(c) moves only s = tr Sigma / D."""
    from ridgerenorm.activations import gaussian_equivalent
    from ridgerenorm.models.nonlinear_features import NonlinearFeatures

    D, N, m, alpha, r, lam = 1000, 250, 20, 1.8, 1.2, 1e-8
    k = np.arange(1, D + 1)
    for c in (0.25, 1.0, 4.0):
        eta, w = c * k**-alpha, k ** (-(1 + alpha * (2 * r - 1)) / 2) / np.sqrt(c)
        fm = NonlinearFeatures(D, N, "e2-probe", 7, "erf", eta)
        s = eta.mean()
        ge = gaussian_equivalent("erf", s)
        mu1, mu_star = float(ge["mu1"]), float(ge["mu_star"])
        Fs = [fm.weights(j) for j in range(m)]
        wSw = eta @ (w * w)
        line = [f"s = {s:.3g}"]
        grams = {}
        for kind in ("exact", "equivalent"):
            def kern(j, j2):
                if kind == "exact":
                    return fm.moments(Fs[j], Fs[j2])
                lin = mu1**2 * ((Fs[j] * eta[:, None]).T @ Fs[j2])
                return lin + mu_star**2 * np.eye(N) if j == j2 else lin

            bs = [mu1 * ((F * eta[:, None]).T @ w) if kind == "equivalent" else fm.moments(F, w=w)[1] for F in Fs]
            vs = [np.linalg.solve(kern(j, j) + lam * np.eye(N), bs[j]) for j in range(m)]
            G = np.empty((m, m))
            for j in range(m):
                for j2 in range(j, m):
                    G[j, j2] = G[j2, j] = vs[j] @ kern(j, j2) @ vs[j2] - vs[j] @ bs[j] - vs[j2] @ bs[j2] + wSw
            grams[kind] = G
            bias, se = pair_mean(G)
            line.append(f"{kind}: Bias^2 {bias:.3g} +- {se:.2g}, Var_F {np.trace(G) / m - bias:.3g}")
        bias, se = pair_mean(grams["exact"] - grams["equivalent"])
        line.append(f"exact - equivalent (same F): {bias:.3g} +- {se:.2g}")
        th = theory.equivalent_theory(eta, w, np.array([1e9]), N, np.array([lam]), "erf")
        line.append(f"theory: Bias^2 {float(th['bias'].values[0]):.3g}, Var_F {float(th['var_f'].values[0]):.3g}")
        print(" | ".join(line), flush=True)


def b4():
    """B4 GCV against the simulated E_g, draw by draw, from the quick build's file."""
    import xarray as xr

    s = xr.open_dataset("results/quick/simulation/b4_blocks.nc")
    g, e = s.gcv_per_draw.values, s.eg_per_draw.values
    d = g - e
    print("P", s.P.values)
    print("mean GCV / mean E_g      ", (g.mean(0) / e.mean(0)).round(2))
    print("z of the paired difference", (d.mean(0) / (d.std(0, ddof=1) / np.sqrt(len(g)))).round(1))
    print("spread/mean per draw: GCV", (g.std(0, ddof=1) / g.mean(0)).round(2))
    print("                      E_g", (e.std(0, ddof=1) / e.mean(0)).round(2))


if __name__ == "__main__":
    probes = {"d1": d1, "c2": c2, "c4": c4, "e2": e2, "b4": b4}
    if len(sys.argv) != 2 or sys.argv[1] not in probes:
        raise SystemExit(f"usage: agreement_probes.py {{{'|'.join(probes)}}}")
    probes[sys.argv[1]]()
