"""Nonlinear random features against their Gaussian-equivalent theory (docs/theory.md §9): ridge on
phi(x) = act(F^T x) - mu0, act in {relu, erf}, F with entries N(0, 1/D), two-way design over data draws i x
feature draws j as random_features.

Exact population risk without a test set.  For x ~ N(0, Sigma) the preactivations u = F^T x are jointly
Gaussian with covariance F^T Sigma F, so K = E[phi phi^T] (N x N) and b = E[phi w^T x] (N) have closed forms
(arc-cosine kernel for relu, arcsine kernel for erf; b by Stein's lemma), and a readout v has the excess risk
v^T K v - 2 v^T b + w^T Sigma w (clean test labels).  Each feature is centred by its exact mean mu0(s_i),
s_i = f_i^T Sigma f_i, so E[phi] = 0.

The two-way ANOVA of the clean predictors f_ij(x) = v_ij^T phi_j(x) - w^T x runs in function space: the
inner product of two predictors of feature draws j, j' needs the cross kernel E[phi_j phi_j'^T], which has the
same closed form with c = f_jk^T Sigma f_j'l.  The merge step regenerates every F_j from its seed and forms
the Gram of all n m predictors block by block (one block per pair j <= j'), accumulating the scalar
sufficient statistics of estimators.two_way_components; the label-noise parts use the diagonal (same data
draw) blocks.  Nothing is approximated: Bias^2, Var_X, Var_F, Var_XF, Var_Xeps, Var_XFeps are the unbiased
estimates of the exact function-space decomposition.

Theory: the Gaussian equivalent act(h) - mu0 ~ mu1 h + mu* xi at the mean preactivation variance
s = tr(Sigma)/D, i.e. the additive-noise model of §5 with sigma_xi = mu*/mu1 and ridge lam/mu1^2; the readout
ridge kappa1 is reported in the units of the real features (times mu1^2).  It is theory.equivalent_theory
(theory/nonlinear.py), which the `theory` method calls; the closed forms of the activations (mu0, mu1, mu*
and the kernels) are in activations.py, shared by the simulation and the theory.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.special
from threadpoolctl import threadpool_limits

from ..activations import ACTIVATIONS, _check_activation, gaussian_equivalent, kernel
from ..costs import declared_mb, factor_flops, gram_flops
from ..features import feature_runs, feature_weights
from ..fits import build_systems, split_grid, systems_flops
from ..parallel import MATMUL_BLOCK, gram, map_fits, worker_pool
from ..progress import Progress
from ..quantities import attrs
from ..spectra import ridge_values, sample_sizes
from ..streams import fill_rows
from .base import (FUNCTIONALS, Model, block_provenance, concat_blocks, grid_block, grid_theory_dataset,
                   grid_theory_memory_mb, sample_grid, theory_sample_sizes, two_way_dataset)
from .random_features import RANDOM_FEATURES, RF_COMMON_EQUATIONS, rf_group_bytes

__all__ = ["ACTIVATIONS", "NONLINEAR_RANDOM_FEATURES", "NonlinearFeatures", "gaussian_equivalent", "kernel",
           "simulate_nonlinear_features", "nl_error_statistics", "two_way_statistics_from_blocks"]

PER_DRAW = ("eg", "etr", "df1_hat", "kappa_hat", "gcv")


@dataclass(frozen=True, eq=False)
class NonlinearFeatures:
    """phi(x) = act(F_j^T x) - mu0(s) for feature draw j: one layer F_j (D x N) of entries N(0, 1/D), drawn
    from the features stream exactly as LinearFeatures draws a one-layer F_j, and each feature centred by
    its exact mean (s_k = f_k^T Sigma f_k, so the map knows the population spectrum eta)."""

    D: int
    N: int
    experiment: str
    seed: int
    activation: str
    eta: np.ndarray

    def __post_init__(self):
        _check_activation(self.activation)

    @property
    def widths(self) -> tuple:
        return (int(self.N),)

    def weights(self, j: int) -> np.ndarray:
        """F_j (D x N) of feature draw j."""
        return feature_weights(self.D, self.widths, j, experiment=self.experiment, seed=self.seed)

    def weight_flops(self) -> float:
        return 0.0

    def variances(self, F) -> np.ndarray:
        """s_k = f_k^T Sigma f_k of the N columns of F."""
        return np.asarray(self.eta, dtype=float) @ (F * F)

    def apply(self, X, weights, Phi, threads: int) -> None:
        """Phi[t] = act(X F_t) - mu0 for the feature draws of `weights`, in the fixed 256-row blocks of
        LinearFeatures.apply (one GEMM per (block, draw), the activation applied to the block in place), so
        the bits depend neither on the thread count nor on how draws are grouped."""
        offsets = [gaussian_equivalent(self.activation, self.variances(F))["mu0"] for F in weights]
        runs = feature_runs(X.shape, weights)
        relu = self.activation == "relu"

        def run(tasks):
            for start, t in tasks:
                block = Phi[t, start:start + MATMUL_BLOCK]
                np.matmul(X[start:start + MATMUL_BLOCK], weights[t], out=block)
                if relu:
                    np.maximum(block, 0.0, out=block)
                    block -= offsets[t]
                else:
                    scipy.special.erf(block, out=block)

        list(worker_pool(threads).map(run, runs))

    def moments(self, F, G=None, w=None):
        """Population moments of the features: K = E[phi_F phi_G^T] (G = F when None: then F^T Sigma F is
        the symmetric product of Sigma^1/2 F, formed by syrk) and, with a teacher w, b = E[phi_F w^T x] =
        mu1(s) * (F^T Sigma w) (Stein's lemma).  Returns K or (K, b)."""
        eta = np.asarray(self.eta, dtype=float)
        SF = F * eta[:, None]
        if G is None:
            s = self.variances(F)
            K = kernel(self.activation, s, s, gram((F * np.sqrt(eta)[:, None]).T))
        else:
            K = kernel(self.activation, self.variances(F), self.variances(G), SF.T @ G)
        if w is None:
            return K
        b = gaussian_equivalent(self.activation, self.variances(F))["mu1"] * (SF.T @ np.asarray(w, dtype=float))
        return K, b


def feature_map(spec: dict, eta) -> NonlinearFeatures:
    return NonlinearFeatures(int(spec["D"]), int(spec["widths"][-1]), spec["name"], int(spec["seed"]),
                             spec["activation"], np.asarray(eta, dtype=float))


# -------------------------------------------------------------------- simulation


def nl_group_bytes(D: int, P_grid, N: int, g: int) -> float:
    """Peak memory of one data draw against g feature draws: the random-feature layout plus each draw's
    population kernel K_j and its products."""
    return rf_group_bytes(D, P_grid, N, g) + 8.0 * g * (2 * N * N + D * N)


def nl_group_size(D: int, P_grid, N: int, m: int, budget_bytes: float) -> int:
    g = m
    while g > 1 and nl_group_bytes(D, P_grid, N, g) > budget_bytes:
        g -= 1
    return g


def simulate_nonlinear_features(eta, w, P_grid, lam_grid, N: int, activation: str, sigma_eps: float, draws,
                                n_feature_draws: int, *, experiment: str, seed: int, threads: int = 1,
                                mem_budget_bytes: float = 16e9, progress: Progress | None = None) -> dict:
    """Ridge on phi(x) = act(F_j^T x) - mu0 for data draws `draws` x feature draws 0..m-1.

    Per (draw, fdraw, P): eg (exact excess population risk v^T K_j v - 2 v^T b_j + w^T Sigma w of the total
    readout), etr, df1_hat, kappa_hat, gcv, and the readouts v_clean, v_noise (N) of the clean and the
    label-noise columns, from which the merge forms the two-way decomposition."""
    eta, w = np.asarray(eta, dtype=float), np.asarray(w, dtype=float)
    draws = list(draws)
    D, N, n, m = eta.size, int(N), len(draws), int(n_feature_draws)
    fmap = NonlinearFeatures(D, N, experiment, seed, activation, eta)
    P_grid, P_max, _, _ = split_grid(P_grid, N)
    lam_grid = np.asarray(lam_grid, dtype=float)
    nP = P_grid.size
    sqrt_eta = np.sqrt(eta)
    wSw = float(eta @ (w * w))
    out = {name: np.empty((n, m, nP)) for name in PER_DRAW}
    out["v_clean"] = np.empty((n, m, nP, N))
    out["v_noise"] = np.empty((n, m, nP, N))
    g = nl_group_size(D, P_grid, N, m, mem_budget_bytes)
    groups = [list(range(s, min(m, s + g))) for s in range(0, m, g)]
    if progress is not None:
        progress.total = n * len(groups)
    flops = flops_factor = 0.0
    steps = 0
    pool = worker_pool(threads)
    with threadpool_limits(limits=1, user_api="blas"):
        for group in groups:
            weights = list(pool.map(fmap.weights, group))
            moments = list(pool.map(lambda F: fmap.moments(F, w=w), weights))  # (K_j, b_j), once per draw
            flops += len(group) * (gram_flops(N, D) + 2.0 * D * N)
            work = {"Phi": np.empty((len(group), P_max, N)), "X": np.empty((P_max, D)), "eps": np.empty(P_max)}
            rows = pool.submit(fill_rows, work["X"], work["eps"], draws[0], sqrt_eta, sigma_eps, experiment, seed)
            for i, draw in enumerate(draws):
                rows.result()
                yc = work["X"] @ w
                eps = work["eps"].copy()
                Phi = work["Phi"]
                fmap.apply(work["X"], weights, Phi, threads)
                rows = None
                if i + 1 < n:
                    rows = pool.submit(fill_rows, work["X"], work["eps"], draws[i + 1], sqrt_eta, sigma_eps,
                                       experiment, seed)
                gl = len(group)
                systems, f = build_systems(Phi, np.broadcast_to(yc, (gl, P_max)), np.broadcast_to(eps, (gl, P_max)),
                                           P_grid, threads, work)
                coefs = np.empty((gl, nP, N, 2))

                def fit(job, i=i, group=group, systems=systems, coefs=coefs):
                    t, jp = job
                    coefs[t, jp], stats = systems.fit(t, jp, float(lam_grid[jp]), D, sigma_eps)
                    for name, value in stats.items():
                        out[name][i, group[t], jp] = value

                jobs = [(t, jp) for t in range(gl) for jp in range(nP)]
                map_fits(fit, jobs, [min(int(P_grid[jp]), N) for _, jp in jobs], threads)
                for t, j in enumerate(group):
                    K, b = moments[t]
                    v = coefs[t].sum(axis=2)  # (nP, N) total readout
                    out["eg"][i, j] = np.einsum("pn,pn->p", v @ K, v) - 2.0 * (v @ b) + wSw
                    out["v_clean"][i, j] = coefs[t, :, :, 0]
                    out["v_noise"][i, j] = coefs[t, :, :, 1]
                flops += f + 2.0 * P_max * D * gl * N + 2.0 * P_max * D + gl * nP * 2.0 * N * N
                flops_factor += gl * sum(factor_flops(min(int(P), N), lam) for P, lam in zip(P_grid, lam_grid))
                steps += 1
                if progress is not None:
                    progress.update(steps)
    out["flops"] = flops
    out["flops_factor"] = flops_factor
    out["feature_groups"] = len(groups)
    return out


# -------------------------------------------------------------------- merge: function-space two-way ANOVA


def two_way_statistics_from_blocks(block, n: int, m: int, nP: int) -> dict:
    """The sufficient statistics of estimators.two_way_components from the Gram of the n m errors, given
    block by block: block(j, j2) for j <= j2 returns M (nP, n, n) with M[p, i, i2] = <e_{i j}, e_{i2 j2}> at
    the p-th sample size.  Blocks are visited in a fixed order, so the result depends only on them."""
    a, b, h, T, rc = (np.zeros((n, m, nP)) for _ in range(5))
    c = np.zeros((m, nP))
    for j in range(m):
        for j2 in range(j, m):
            M = block(j, j2)
            diag = np.diagonal(M, axis1=1, axis2=2).T  # (n, nP): <e_ij, e_ij2>
            to_j2 = M.sum(axis=2).T  # (n, nP): <e_ij, C_j2>
            h[:, j] += diag
            T[:, j] += to_j2
            rc[:, j2] += to_j2  # R_i.C_j2 collects <e_ij, C_j2> over j
            if j == j2:
                a[:, j] = diag
                b[:, j] = to_j2
                c[j] = M.sum(axis=(1, 2))
            else:
                to_j = M.sum(axis=1).T  # (n, nP): <C_j, e_ij2>
                h[:, j2] += diag
                T[:, j2] += to_j
                rc[:, j] += to_j
    return {"a": a, "b": b, "h": h, "r": h.sum(axis=1), "c": c, "g": T.sum(axis=(0, 1)), "rg": T.sum(axis=1),
            "cg": T.sum(axis=0), "ge": T, "rc": rc}


def _merge_bytes(spec: dict) -> float:
    """Arrays of the merge: every F_j and the readouts twice (transposed copies), one N x N kernel block."""
    D, N, m = int(spec["D"]), int(spec["widths"][-1]), int(spec["feature_draws"])
    nP = sample_sizes(spec["samples"], D).size
    return 8.0 * (m * D * N + 4 * int(spec["draws"]) * m * nP * N + 3 * N * N)


def nl_error_statistics(v_clean, v_noise, eta, w, fmap: NonlinearFeatures):
    """Two-way statistics of the clean predictors f_ij = v_ij^T phi_j - w^T x in L2(N(0, Sigma)), and the
    label-noise sums per data draw: noise_row_sq[i] = |mean_j g_ij|^2 and noise_within[i] = sum_j |g_ij -
    mean_j g_ij|^2 of the noise predictors g_ij = v^noise_ij^T phi_j.  Each F_j is regenerated from its seed;
    the cross kernel of every pair j <= j2 is formed once."""
    n, m, nP, N = v_clean.shape
    eta, w = np.asarray(eta, dtype=float), np.asarray(w, dtype=float)
    wSw = float(eta @ (w * w))
    with threadpool_limits(limits=1, user_api="blas"):
        Fs = [fmap.weights(j) for j in range(m)]
        bs = [fmap.moments(F, w=w)[1] for F in Fs]
        Vc = np.ascontiguousarray(v_clean.transpose(1, 2, 0, 3))  # (m, nP, n, N)
        Vn = np.ascontiguousarray(v_noise.transpose(1, 2, 0, 3))
        noise_pairs = np.zeros((n, nP))
        noise_sq = np.zeros((n, nP))

        def block(j, j2):
            K = fmap.moments(Fs[j], Fs[j2] if j2 != j else None)
            AK = Vc[j] @ K  # (nP, n, N)
            M = AK @ Vc[j2].transpose(0, 2, 1)
            M -= (Vc[j] @ bs[j])[:, :, None]
            M -= (Vc[j2] @ bs[j2])[:, None, :]
            M += wSw
            nn = np.einsum("pin,pin->ip", Vn[j] @ K, Vn[j2])
            noise_pairs[...] += nn if j == j2 else 2.0 * nn
            if j == j2:
                noise_sq[...] += nn
            return M

        stats = two_way_statistics_from_blocks(block, n, m, nP)
    row_sq = noise_pairs / m**2
    return stats, row_sq, noise_sq - m * row_sq


EQUATIONS = [
    "Features φ(x) = σ(Fᵀx) − μ₀(s_k), F_{ik} ~ N(0, 1/D), s_k = f_kᵀΣf_k (docs/theory.md §9).",
    "Simulation: exact population risk vᵀKv − 2vᵀb + wᵀΣw with K from the arc-cosine (ReLU) or arcsine (erf) "
    "kernel of FᵀΣF and b = E[σ′]·FᵀΣw (Stein); Bias²/Var by the unbiased two-way ANOVA in L²(N(0, Σ)).",
    "Gaussian equivalent at s = tr Σ/D: σ(h) − μ₀ ≈ μ₁h + μ*ξ; the additive-noise theory (§5) with "
    "σ_ξ = μ*/μ₁ and ridge λ/μ₁²; κ₁ reported ×μ₁².",
]


class NonlinearRandomFeatures(Model):
    name = "nonlinear_random_features"
    description = "one-layer ReLU/erf random features, exact risk, against the Gaussian-equivalent theory (§9)"
    caption_name = "nonlinear random features"
    properties = {
        "widths": RANDOM_FEATURES.properties["widths"],  # shared keys: the same schema as random_features
        "feature_draws": RANDOM_FEATURES.properties["feature_draws"],
        "activation": {"enum": list(ACTIVATIONS), "description": "nonlinearity of the features (relu or erf)"},
    }
    required = ("samples", "widths", "feature_draws", "activation")
    simulate_keys = ("widths", "feature_draws", "activation")
    theory_keys = ("widths", "activation")
    merge_needs_spectrum = True
    error_quantities = RANDOM_FEATURES.error_quantities
    param_quantities = RANDOM_FEATURES.param_quantities
    derived = RANDOM_FEATURES.derived

    def check(self, exp, fail):
        if "widths" in exp and len(exp["widths"]) != 1:
            fail("widths", exp["widths"], "nonlinear random features have one layer: give widths: [N]")

    def theory_poles(self, spec):
        # the nonlinearity's part mu* acts as feature noise: the features have rank N whatever D, and the
        # ridgeless Gaussian-equivalent theory diverges at P = N (tests/test_absurd_configs.py)
        N = int(spec["widths"][-1])
        return [(N, f"the ridgeless theory (its Gaussian equivalent) is infinite at the interpolation threshold "
                    f"P = N = {N}")]

    def simulate(self, spec, population, draws, *, threads, mem_budget_bytes):
        P, lam = sample_grid(spec)
        m, N = int(spec["feature_draws"]), int(spec["widths"][-1])
        label = f"{spec['name']} draws {draws.start}:{draws.stop} (draw x feature group)"
        res = simulate_nonlinear_features(
            population.eta.values, population.w.values, P, lam, N, spec["activation"], spec["sigma_eps"], draws, m,
            experiment=spec["name"], seed=spec["seed"], threads=threads, mem_budget_bytes=mem_budget_bytes,
            progress=Progress(len(draws), label))
        pair = ("draw", "fdraw", "P")
        data = {name: (pair, res[name], attrs(name)) for name in PER_DRAW}
        data["v_clean"] = (pair + ("n",), res["v_clean"], {"long_name": "clean-label readout weights v", "units": "1"})
        data["v_noise"] = (pair + ("n",), res["v_noise"],
                           {"long_name": "label-noise readout weights (noisy minus clean)", "units": "1"})
        return grid_block(spec, draws, P, lam, data, res, "data=0 (X, eps), features=1 (F_j)",
                          coords={"k": ("k", population.k.values), "fdraw": ("fdraw", np.arange(m))},
                          feature_draws=m)

    def merge(self, spec, blocks, population):
        from ..estimators import label_noise_components, two_way_components

        ds = concat_blocks(spec, blocks)
        fmap = feature_map(spec, population.eta.values)
        stats, row_sq, within = nl_error_statistics(ds["v_clean"].values, ds["v_noise"].values,
                                                    population.eta.values, population.w.values, fmap)
        comp = two_way_components(**stats)
        comp.update(label_noise_components(row_sq, within, ds.sizes["fdraw"]))
        return two_way_dataset(spec, ds, comp, PER_DRAW), block_provenance(spec, blocks)

    def theory(self, spec, population):
        from .. import theory

        P, P_sim = theory_sample_sizes(spec)
        lam = ridge_values(spec["ridge"], P)
        th = theory.equivalent_theory(population.eta.values, population.w.values, P, int(spec["widths"][-1]), lam,
                                      spec["activation"], spec["sigma_eps"])
        return grid_theory_dataset(th, spec, P, P_sim, self.derived)

    def memory_mb(self, spec, n_draws, mem_budget_bytes, threads):
        D = int(spec["D"])
        P_grid = self.sample_sizes(spec)
        N, m = int(spec["widths"][-1]), int(spec["feature_draws"])
        g = nl_group_size(D, P_grid, N, m, mem_budget_bytes)
        need = nl_group_bytes(D, P_grid, N, g) + 8.0 * n_draws * m * P_grid.size * (2 * N + 5)
        return declared_mb(max(need, _merge_bytes(spec)), min(int(P_grid.max()), N), threads)

    def merge_memory_mb(self, spec):
        return declared_mb(_merge_bytes(spec), 0, 0)

    def theory_memory_mb(self, spec):
        return grid_theory_memory_mb(spec)

    def flops(self, spec):
        D = int(spec["D"])
        P, lam = sample_grid(spec)
        P_max, n, m, N = int(P.max()), int(spec["draws"]), int(spec["feature_draws"]), int(spec["widths"][-1])
        per_pair = 2.0 * P_max * D * N + systems_flops(P, N) + 2.0 * P.size * N * N
        pairs = m * (m + 1) / 2
        kernels = (pairs - m) * 2.0 * D * N * N + m * gram_flops(N, D)  # the m blocks j = j2 by syrk
        merge = kernels + pairs * P.size * (4.0 * n * N * N + 2.0 * n * n * N)
        factor = n * m * sum(factor_flops(min(int(p), N), lam_p) for p, lam_p in zip(P, lam))
        return {"gemm": n * m * per_pair + m * (gram_flops(N, D) + 2.0 * D * N), "factor": factor, "merge": merge, "fits": n * m * P.size}

    def equations(self, spec):
        lines = [FUNCTIONALS + " All functionals of the data spectrum at κ₂."] + EQUATIONS
        if "spectrum" in spec and "teacher" in spec:
            from ..spectra import population

            s = float(population(spec["spectrum"], spec["teacher"])[0].mean())
            ge = {k: float(v) for k, v in gaussian_equivalent(spec["activation"], s).items()}
            lines.append(f"{spec['activation']}: s = {s:.4g}, μ₀ = {ge['mu0']:.4g}, μ₁ = {ge['mu1']:.4g}, "
                         f"μ* = {ge['mu_star']:.4g}, σ_ξ = μ*/μ₁ = {ge['mu_star'] / ge['mu1']:.4g}.")
        lines.append("With λ' = λ/μ₁²: λ' = κ₁'(1 − q·d̄f₁(κ₂)), κ₁' = κ₂(N/D − d̄f₁(κ₂)), d̄f₁(κ) = df₁(κ) + σ_ξ²/κ "
                     "(also in ∂ and γ₁); κ₁ = μ₁² κ₁'.")
        return lines + RF_COMMON_EQUATIONS[:3]  # the §4-§5 components, at the equivalent sigma_xi and ridge

NONLINEAR_RANDOM_FEATURES = NonlinearRandomFeatures()
