"""Linear random features, deep and additive-noise (docs/theory.md §4, §5): ridge on phi(x) = F^T x (+ xi),
two-way design over data draws i x feature draws j.

Simulation: the feature map (features.py, the seam: the fits only see Phi) turns each data draw's rows into
the features of a group of feature draws; groups are sized to fit the memory budget and do not change bits.  Jobs store the clean-label readouts v, not D-dim errors: the merge regenerates each F_j from its seed
and forms the unbiased two-way ANOVA (§7), independent of how the draws were split into jobs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from ..costs import covariance_copies, declared_mb, factor_flops
from ..features import LinearFeatures, product_flops
from ..fits import build_systems, split_grid, systems_flops
from ..limits import MAX_SIZE
from ..parallel import MATMUL_BLOCK, blocked_matmul_many, map_fits, worker_pool
from ..progress import Progress
from ..quantities import attrs
from ..spectra import ridge_values
from ..streams import STREAM_FEATURE_NOISE, fill_rows, seed_sequence
from .base import (FUNCTIONALS, Model, block_provenance, concat_blocks, grid_block, grid_theory_dataset,
                   grid_theory_memory_mb, sample_grid, theory_sample_sizes, two_way_dataset)

__all__ = ["RANDOM_FEATURES", "RF_COMMON_EQUATIONS", "simulate_random_features", "rf_error_statistics",
           "rf_group_bytes", "rf_group_size", "feature_map"]

PER_DRAW = ("eg", "etr", "df1_hat", "kappa_hat", "gcv")


def feature_map(spec: dict) -> LinearFeatures:
    """The feature map of a random-feature experiment spec."""
    return LinearFeatures(int(spec["D"]), tuple(int(x) for x in spec["widths"]), spec["name"], int(spec["seed"]),
                          float(spec.get("weight_exponent", 0.0)))


def rf_group_bytes(D: int, P_grid, N: int, g: int) -> float:
    """Peak memory of one data draw against a group of g feature draws: rows, the group's weights and
    features (and the float32 copies of both the feature product reads), one 256-row block of features per thread (two threads counted), Gram or covariance
    matrices and eigh workspace."""
    P_grid, P_max, dual, Pd = split_grid(P_grid, N)
    block = 2 * MATMUL_BLOCK * N
    rounded = 4.0 * (P_max * D + g * D * N)  # the float32 copies of X and the F_j (features.py)
    return rounded + 8.0 * (P_max * (D + 3) + g * (D * N + P_max * N + block + Pd * Pd
                                                     + (covariance_copies(dual) + 1) * N * N + 3 * N))


def rf_group_size(D: int, P_grid, N: int, m: int, budget_bytes: float) -> int:
    """Largest number of feature draws handled together within the memory budget (at least 1).  The bytes
    grow with g, so bisection finds the same g a count down from m would, in log2(m) steps (a config check
    estimates absurd feature_draws too)."""
    m = int(m)
    if m <= 1 or rf_group_bytes(D, P_grid, N, m) <= budget_bytes:
        return max(m, 1)
    lo, hi = 1, m  # bytes(lo) <= budget or lo == 1; bytes(hi) > budget
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if rf_group_bytes(D, P_grid, N, mid) <= budget_bytes:
            lo = mid
        else:
            hi = mid
    return lo


@dataclass(frozen=True)
class Problem:
    """What stays fixed over a simulation's draws."""

    eta: np.ndarray
    w: np.ndarray
    sqrt_eta: np.ndarray
    P_grid: np.ndarray
    lam_grid: np.ndarray
    sigma_eps: float
    sigma_xi: float
    features: LinearFeatures
    threads: int


@dataclass
class Accumulator:
    """The per-pair outputs and the label-noise sums of each data draw (row i)."""

    out: dict
    noise_sum: np.ndarray  # (n, nP, D') sum over feature draws of the noise error
    noise_sq: np.ndarray  # (n, nP) sum over feature draws of its squared norm


def simulate_random_features(eta, w, P_grid, lam_grid, widths, sigma_eps: float, sigma_xi: float, draws,
                             n_feature_draws: int, *, experiment: str, seed: int, weight_exponent: float = 0.0,
                             threads: int = 1, mem_budget_bytes: float = 16e9, progress: Progress | None = None):
    """Simulate linear (sigma_xi = 0) or additive-noise random-feature ridge regression for data
    draws `draws` x feature draws 0..m-1.

    Per (draw, fdraw, P): eg (population risk |F v - w|^2_Sigma + sigma_xi^2 |v|^2), etr, df1_hat,
    kappa_hat (estimates kappa_1), gcv, and v_clean (N), the clean-label coefficients from which the
    merge step rebuilds the two-way decomposition.  Per (draw, P): noise_row_sq = |mean_j e^eps_ij|^2
    and noise_within = sum_j |e^eps_ij - mean_j e^eps_ij|^2 of the label-noise part.
    """
    eta, w = np.asarray(eta, dtype=float), np.asarray(w, dtype=float)
    draws = list(draws)
    fmap = LinearFeatures(eta.size, tuple(int(x) for x in widths), experiment, seed, weight_exponent)
    D, N, n, m = eta.size, fmap.N, len(draws), int(n_feature_draws)
    P_grid, P_max, _, _ = split_grid(P_grid, N)
    nP = P_grid.size
    prob = Problem(eta, w, np.sqrt(eta), P_grid, np.asarray(lam_grid, dtype=float), sigma_eps, sigma_xi, fmap,
                   threads)
    out = {name: np.empty((n, m, nP)) for name in PER_DRAW}
    out["v_clean"] = np.empty((n, m, nP, N))
    acc = Accumulator(out, np.zeros((n, nP, D + (N if sigma_xi else 0))), np.zeros((n, nP)))
    g = rf_group_size(D, P_grid, N, m, mem_budget_bytes)
    groups = [list(range(s, min(m, s + g))) for s in range(0, m, g)]
    if progress is not None:
        progress.total = n * len(groups)  # one step per (data draw, feature group)
    flops = flops_factor = 0.0
    steps = 0
    pool = worker_pool(threads)
    with threadpool_limits(limits=1, user_api="blas"):
        for group in groups:
            weights = list(pool.map(fmap.weights, group))  # F_j, each (D, N)
            weights32 = fmap.rounded(weights)  # what the feature product multiplies with (features.py)
            flops += len(group) * fmap.weight_flops()
            work = {"Phi": np.empty((len(group), P_max, N)), "X": np.empty((P_max, D)), "eps": np.empty(P_max)}
            rows = pool.submit(fill_rows, work["X"], work["eps"], draws[0], prob.sqrt_eta, sigma_eps, experiment, seed)
            for i, draw in enumerate(draws):
                rows.result()  # this draw's rows are in work["X"], work["eps"]
                next_draw = draws[i + 1] if i + 1 < n else None
                f, f_factor, rows = _draw_group(prob, acc, i, draw, next_draw, group, weights, weights32, work)
                flops += f
                flops_factor += f_factor
                steps += 1
                if progress is not None:
                    progress.update(steps)
    row_mean = acc.noise_sum / m
    out["noise_row_sq"] = np.einsum("ipd,ipd->ip", row_mean, row_mean)
    out["noise_within"] = acc.noise_sq - m * out["noise_row_sq"]
    out["flops"] = flops
    out["flops_features"] = product_flops(n * m, P_max, D, N)  # the float32 part of out["flops"]
    out["flops_factor"] = flops_factor
    out["feature_groups"] = len(groups)
    return out


def _draw_group(prob: Problem, acc: Accumulator, i: int, draw: int, next_draw, group, weights, weights32, work):
    """Fit data draw `draw` (rows in work["X"], work["eps"]) against the feature draws of `group`; fills
    row i of the accumulator (noise sums added in j order, so grouping does not change their bits).
    Once the rows are used, the pool starts generating next_draw's (if any) into the same arrays, beside
    this draw's products and fits.  Returns flop counts and that generation's future (or None)."""
    fmap, threads, sigma_xi = prob.features, prob.threads, prob.sigma_xi
    P_grid, lam_grid, sqrt_eta, w = prob.P_grid, prob.lam_grid, prob.sqrt_eta, prob.w
    D, N, P_max, g = sqrt_eta.size, fmap.N, int(P_grid[-1]), len(group)
    experiment, seed = fmap.experiment, fmap.seed
    pool = worker_pool(threads)
    yc = work["X"] @ w
    eps = work["eps"].copy()  # the next draw's noise overwrites work["eps"] while the fits run
    Phi = work["Phi"]
    fmap.apply(work["X"], weights32, Phi, threads)
    rows = None
    if next_draw is not None:
        rows = pool.submit(fill_rows, work["X"], work["eps"], next_draw, sqrt_eta, prob.sigma_eps, experiment, seed)
    if sigma_xi:
        def add_noise(t):
            rng = np.random.default_rng(seed_sequence(seed, experiment, STREAM_FEATURE_NOISE, draw, group[t]))
            xi = rng.standard_normal((P_max, N))
            xi *= sigma_xi  # in place: this loop draws 10^7-10^8 numbers per data draw and is memory-bound
            Phi[t] += xi

        list(pool.map(add_noise, range(g)))
    systems, f = build_systems(Phi, np.broadcast_to(yc, (g, P_max)), np.broadcast_to(eps, (g, P_max)), P_grid,
                               threads, work)
    f += 2.0 * P_max * D * g * N + 2.0 * P_max * D + 4.0 * g * P_grid.size * D * N

    nP = P_grid.size
    coefs = np.empty((g, nP, N, 2))
    out = acc.out

    def run(fit):
        t, jp = fit
        coefs[t, jp], stats = systems.fit(t, jp, float(lam_grid[jp]), D, prob.sigma_eps)
        for name, value in stats.items():
            out[name][i, group[t], jp] = value

    fits = [(t, jp) for t in range(g) for jp in range(nP)]
    map_fits(run, fits, [min(int(P_grid[jp]), N) for _, jp in fits], threads)
    # beta = F v for every P and both label columns in one GEMM per feature draw (F is read once, not 2 nP times)
    V = coefs.transpose(0, 2, 1, 3).reshape(g, N, 2 * nP)
    betas = np.empty((g, D, 2 * nP))
    blocked_matmul_many([(weights[t], V[t], betas[t]) for t in range(g)], threads)
    for t, j in enumerate(group):
        beta = betas[t].reshape(D, nP, 2)
        e_c = sqrt_eta[:, None] * (beta[:, :, 0] - w[:, None])  # (D, nP)
        e_n = sqrt_eta[:, None] * beta[:, :, 1]
        e_tot = e_c + e_n
        eg = np.einsum("dp,dp->p", e_tot, e_tot)
        if sigma_xi:
            v_tot = coefs[t].sum(axis=2)  # (nP, N)
            eg += sigma_xi**2 * np.einsum("pn,pn->p", v_tot, v_tot)
            e_n = np.concatenate([e_n, sigma_xi * coefs[t, :, :, 1].T], axis=0)
        out["eg"][i, j] = eg
        out["v_clean"][i, j] = coefs[t, :, :, 0]
        acc.noise_sum[i] += e_n.T  # added in j order, so grouping does not change the bits
        acc.noise_sq[i] += np.einsum("dp,dp->p", e_n, e_n)
    return f, g * sum(factor_flops(min(int(P), N), lam) for P, lam in zip(P_grid, lam_grid)), rows


def rf_error_statistics(v_clean, eta, w, fmap: LinearFeatures, sigma_xi: float) -> dict:
    """Sufficient statistics for estimators.two_way_components from clean-label coefficients
    v_clean (n, m, nP, N): each F_j is regenerated from its seed and e_ij = Sigma^1/2 (F_j v_ij - w)
    (extended by sigma_xi v_ij for additive-noise features).  Two passes over j in a fixed order, so
    the result depends only on v_clean, never on how the draws were split into jobs."""
    n, m, nP, N = v_clean.shape
    eta, w = np.asarray(eta, dtype=float), np.asarray(w, dtype=float)
    sqrt_eta = np.sqrt(eta)

    def errors(j):
        beta = v_clean[:, j] @ fmap.weights(j).T  # (n, nP, D) by GEMM
        e = sqrt_eta * (beta - w)
        if sigma_xi:
            e = np.concatenate([e, sigma_xi * v_clean[:, j]], axis=-1)
        return e  # (n, nP, D')

    with threadpool_limits(limits=1, user_api="blas"):
        a, b, h, ge, rc = (np.empty((n, m, nP)) for _ in range(5))
        R = None
        C = []
        for j in range(m):
            e = errors(j)
            R = e.copy() if R is None else R + e
            Cj = e.sum(axis=0)
            C.append(Cj)
            a[:, j] = np.einsum("ipd,ipd->ip", e, e)
            b[:, j] = np.einsum("ipd,pd->ip", e, Cj)
        C = np.stack(C)  # (m, nP, D')
        G = C.sum(axis=0)
        for j in range(m):
            e = errors(j)
            h[:, j] = np.einsum("ipd,ipd->ip", e, R)
            ge[:, j] = np.einsum("ipd,pd->ip", e, G)
            rc[:, j] = np.einsum("ipd,pd->ip", R, C[j])
    return {
        "a": a, "b": b, "h": h, "ge": ge, "rc": rc,
        "r": np.einsum("ipd,ipd->ip", R, R),
        "c": np.einsum("jpd,jpd->jp", C, C),
        "g": np.einsum("pd,pd->p", G, G),
        "rg": np.einsum("ipd,pd->ip", R, G),
        "cg": np.einsum("jpd,pd->jp", C, G),
    }


RF_COMMON_EQUATIONS = [
    "∂ = Σ_l df₁/(N_l/D − df₁); ρ = 1/(1 + ((df₁ − df₂)/df₁)·∂); γ₂ = q·df₂; "
    "γ₁ = q·df₁·(1 − ((df₁ − df₂)/df₁)·ρ).",
    "Bias² = κ₂² tf₁′; Var_X = Bias²·γ₂/(1 − γ₂); Var_F = (1 − ρ)·κ₂·tf₂; "
    "Signal = (κ₂² tf₁′ ρ + κ₂ tf₁ (1 − ρ))/(1 − γ₁); Var_XF = Signal − Bias² − Var_X − Var_F.",
    "Noise = σ_ε² γ₁/(1 − γ₁); Var_Xε = σ_ε² γ₂/(1 − γ₂); Var_XFε = Noise − Var_Xε; "
    "E_g = Signal + Noise; E_tr = (λ/κ₁)² (E_g + σ_ε²).",
    "Simulation: exact population risk of β = F v, split by the unbiased two-way ANOVA over data × feature "
    "draws (docs/theory.md §7); κ̂ from the feature Gram estimates κ₁.",
]


class RandomFeatures(Model):
    name = "random_features"
    description = "linear random features, deep and additive-noise (docs/theory.md §4, §5)"
    caption_name = "linear random features"
    properties = {
        "widths": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/positive_int"},
                   "description": "feature-layer widths [N_1, ..., N_L] (N = N_L)"},
        "feature_draws": {"type": "integer", "minimum": 3, "maximum": MAX_SIZE,
                          "description": "feature-weight draws (F)"},
        "sigma_xi": {"type": "number", "minimum": 0, "description": "additive feature-noise std"},
        "sigma_xi_tilde": {"type": "number", "minimum": 0, "description": "sigma_xi * sqrt(D) (the figures' sigma-tilde)"},
        "weight_exponent": {"type": "number", "minimum": 0, "description": "structured weights: column scale k^(-alpha_F/2)"},
    }
    required = ("samples", "widths", "feature_draws")
    size_keys = {"feature_draws": "size", "widths": "size"}
    simulate_keys = ("widths", "feature_draws", "sigma_xi", "weight_exponent")
    theory_keys = ("widths", "sigma_xi", "weight_exponent")
    merge_needs_spectrum = True
    error_quantities = ("eg", "etr", "bias", "var_x", "var_f", "var_xf", "var_f_xf", "var_xeps", "var_xfeps")
    param_quantities = ("kappa2", "kappa1", "gamma2", "gamma1", "df1", "df2", "k2sq_tf1p", "k2_tf1")
    derived = ("var_f_xf", "k2sq_tf1p", "k2_tf1")

    def check(self, exp, fail):
        if "sigma_xi" in exp and "sigma_xi_tilde" in exp:
            fail("sigma_xi_tilde", exp["sigma_xi_tilde"], "give sigma_xi or sigma_xi_tilde, not both")

    def resolve(self, exp, D):
        # the figures give sigma-tilde; the model uses sigma_xi = sigma-tilde / sqrt(D) (docs/figures.md, D)
        tilde = exp.pop("sigma_xi_tilde", None)
        exp["sigma_xi"] = float(tilde) / np.sqrt(D) if tilde is not None else float(exp.get("sigma_xi", 0.0))
        exp.setdefault("weight_exponent", 0.0)

    def simulate(self, spec, population, draws, *, threads, mem_budget_bytes):
        P, lam = sample_grid(spec)
        m = int(spec["feature_draws"])
        label = f"{spec['name']} draws {draws.start}:{draws.stop} (draw x feature group)"
        res = simulate_random_features(
            population.eta.values, population.w.values, P, lam, spec["widths"], spec["sigma_eps"], spec["sigma_xi"],
            draws, m, experiment=spec["name"], seed=spec["seed"], weight_exponent=spec.get("weight_exponent", 0.0),
            threads=threads, mem_budget_bytes=mem_budget_bytes, progress=Progress(len(draws), label))
        pair = ("draw", "fdraw", "P")
        data = {name: (pair, res[name], attrs(name)) for name in PER_DRAW}
        data["v_clean"] = (pair + ("n",), res["v_clean"], {"long_name": "clean-label readout weights v", "units": "1"})
        data["noise_row_sq"] = (("draw", "P"), res["noise_row_sq"],
                                {"long_name": "|mean over feature draws of the noise error|^2", "units": "1"})
        data["noise_within"] = (("draw", "P"), res["noise_within"],
                                {"long_name": "within-row sum of squares of the noise error", "units": "1"})
        return grid_block(spec, draws, P, lam, data, res, "data=0 (X, eps), features=1 (F_j), feature noise=2 (xi_ij)",
                          coords={"k": ("k", population.k.values), "fdraw": ("fdraw", np.arange(m))},
                          feature_draws=m, extra={"flops_gemm32": res["flops_features"]})

    def merge(self, spec, blocks, population):
        from ..estimators import label_noise_components, two_way_components

        ds = concat_blocks(spec, blocks)
        stats = rf_error_statistics(ds["v_clean"].values, population.eta.values, population.w.values,
                                    feature_map(spec), spec["sigma_xi"])
        comp = two_way_components(**stats)
        comp.update(label_noise_components(ds["noise_row_sq"].values, ds["noise_within"].values, ds.sizes["fdraw"]))
        return two_way_dataset(spec, ds, comp, PER_DRAW), block_provenance(spec, blocks)

    def theory(self, spec, population):
        P, P_sim = theory_sample_sizes(spec)
        lam = ridge_values(spec["ridge"], P)
        th = self.point_theory(spec, population.eta.values, population.w.values, P, lam)
        return grid_theory_dataset(th, spec, P, P_sim, self.derived)

    def point_theory(self, spec, eta, w, P, lam):
        from .. import theory

        alpha_f = spec.get("weight_exponent", 0.0)
        spectra_w = [np.arange(1, n + 1) ** -alpha_f for n in spec["widths"]] if alpha_f else None
        return theory.random_features(eta, w, P, spec["widths"], lam, sigma_eps=spec["sigma_eps"],
                                      sigma_xi=spec["sigma_xi"], weight_spectra=spectra_w)

    def memory_mb(self, spec, n_draws, mem_budget_bytes, threads):
        D = int(spec["D"])
        P_grid = self.sample_sizes(spec)
        N, m = int(spec["widths"][-1]), int(spec["feature_draws"])
        g = rf_group_size(D, P_grid, N, m, mem_budget_bytes)
        need = rf_group_bytes(D, P_grid, N, g) + 8.0 * n_draws * m * P_grid.size * (N + 6)
        return declared_mb(need, min(int(P_grid.max()), N), threads)

    def merge_memory_mb(self, spec):
        # the readouts v (draw, fdraw, P, N) read and concatenated; rf_error_statistics' errors of one feature
        # draw, their row sum R and the column sums C (P x D', D' = D (+ N with feature noise)); one F_j
        D, N = int(spec["D"]), int(spec["widths"][-1])
        n, m, nP = int(spec["draws"]), int(spec["feature_draws"]), self.sample_sizes(spec).size
        D_ext = D + (N if spec.get("sigma_xi") else 0)
        return declared_mb(8.0 * (2 * n * m * nP * N + 4 * n * nP * D_ext + m * nP * D_ext + D * N), 0, 0)

    def theory_memory_mb(self, spec):
        return grid_theory_memory_mb(spec)

    def theory_poles(self, spec):
        # At lambda = 0 the theory diverges where P reaches the features' rank: at P = N (the narrowest layer)
        # when N <= D, through Var_F, label noise or not; when every layer is wider than D, feature noise
        # (sigma_xi > 0) keeps the features at rank N, so again at P = N, label noise or not; without it, at
        # P = D through the label noise (tests/test_absurd_configs.py checks each against the theory).
        D, N = int(spec["D"]), min(int(n) for n in spec["widths"])
        if N <= D:
            return [(N, f"the ridgeless theory is infinite at the interpolation threshold P = N = {N}")]
        if spec.get("sigma_xi"):
            return [(N, f"with feature noise sigma_xi = {spec['sigma_xi']:g} the features have rank N: the "
                        f"ridgeless theory is infinite at the interpolation threshold P = N = {N}")]
        if spec.get("sigma_eps", 0.0) > 0:
            return [(D, f"with label noise sigma_eps = {spec['sigma_eps']:g} the ridgeless theory is infinite "
                        f"at P = D = {D} (every width is above D)")]
        return []

    def flops(self, spec):
        D = int(spec["D"])
        P, lam = sample_grid(spec)
        P_max, n = int(P.max()), int(spec["draws"])
        widths, m = [int(x) for x in spec["widths"]], int(spec["feature_draws"])
        N = widths[-1]
        per_pair = 2.0 * P_max * D * N + systems_flops(P, N) + 4.0 * P.size * D * N
        weights = m * sum(2.0 * D * a * b for a, b in zip(widths[:-1], widths[1:]))
        merge = 2 * m * 2.0 * n * P.size * N * D
        factor = n * m * sum(factor_flops(min(int(p), N), lam_p) for p, lam_p in zip(P, lam))
        return {"gemm": n * m * per_pair + weights, "gemm32": product_flops(n * m, P_max, D, N), "factor": factor,
                "merge": merge, "fits": n * m * P.size}

    def equations(self, spec):
        lines = [FUNCTIONALS + " All functionals of the data spectrum at κ₂."]
        if len(spec.get("widths") or []) > 1:
            lines.append("Deep features, widths N_1..N_L: λ = κ₂(1 − q·df₁) Π_{l<L}(D/N_l) Π_l(N_l/D − df₁), "
                         "κ₁ = κ₂ Π_{l<L}(D/N_l) Π_l(N_l/D − df₁) (the inner-layer prefactor, which the authors' "
                         "notebook omits).")
        else:
            lines.append("Renormalized ridges: λ = κ₁(1 − q·df₁(κ₂)), κ₁ = κ₂(N/D − df₁(κ₂)), on the branch where "
                         "every factor is positive.")
        if spec.get("sigma_xi", 0.0):
            lines.append(f"Additive feature noise (σ_ξ = {spec['sigma_xi']:.4g}): df₁ → d̄f₁(κ) = df₁(κ) + σ_ξ²/κ in "
                         "the κ equations, ∂ and γ₁; risk in the metric |Fv − w|²_Σ + σ_ξ²|v|².")
        return lines + list(RF_COMMON_EQUATIONS)


RANDOM_FEATURES = RandomFeatures()
