"""Linear ridge regression (docs/theory.md §3): ridge on x itself, one-way design over data draws.

Simulation: one draw of P_max rows per data draw; every smaller P uses its leading rows (common random
numbers), so the Gram X X^T (P < D) or the covariance X^T X (P >= D, accumulated over row blocks) is formed
once per draw, not once per P (fits.build_systems).  Errors are exact population risks |beta - w|^2_Sigma,
kept as whitened error vectors so the merge can form unbiased Bias^2 and Var_X across draws (§7).
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from threadpoolctl import threadpool_limits

from ..costs import covariance_copies, declared_mb, factor_flops
from ..fits import build_systems, split_grid, systems_flops
from ..parallel import map_fits
from ..progress import Progress
from ..quantities import attrs
from ..spectra import ridge_values
from ..streams import draw_rows
from .base import (FUNCTIONALS, Model, block_provenance, concat_blocks, grid_block, grid_theory_dataset,
                   grid_theory_memory_mb, sample_grid, summaries, theory_sample_sizes)

__all__ = ["LINEAR_RIDGE", "simulate_linear_ridge", "bytes_per_draw"]

PER_DRAW = ("eg", "etr", "df1_hat", "kappa_hat", "gcv")


def bytes_per_draw(D: int, P_grid) -> float:
    """Peak memory one data draw needs: its rows, Gram or covariance, and the stored error vectors."""
    P_grid, P_max, dual, Pd = split_grid(P_grid, D)
    return 8.0 * (P_max * (D + 3) + Pd * Pd + covariance_copies(dual) * D * D + P_grid.size * D * 2)


def _draws_per_chunk(D: int, P_grid, n_draws: int, mem_budget_bytes: float) -> int:
    """Data draws a job processes together within the memory budget (at least 1)."""
    return int(max(1, min(n_draws, mem_budget_bytes // bytes_per_draw(D, P_grid))))


def simulate_linear_ridge(eta, w, P_grid, lam_grid, sigma_eps: float, draws, *, experiment: str, seed: int,
                          threads: int = 1, mem_budget_bytes: float = 4e9, progress: Progress | None = None):
    """Simulate ridge regression for data draws `draws` (iterable of draw indices).

    P_grid: ascending integer sample sizes; lam_grid: ridge per P (same length).
    Returns a dict of arrays over (draw, P): eg, etr, df1_hat, kappa_hat, gcv, noise_sq (= |e_noise|^2),
    and e_clean over (draw, P, k), the whitened clean-label error Sigma^(1/2)(beta_clean - w); plus
    'flops' (GEMM flop count) and 'flops_factor' (nominal factorization flops).
    """
    eta, w = np.asarray(eta, dtype=float), np.asarray(w, dtype=float)
    lam_grid = np.asarray(lam_grid, dtype=float)
    draws = list(draws)
    D, n = eta.size, len(draws)
    P_grid, P_max, _, _ = split_grid(P_grid, D)
    nP = P_grid.size
    sqrt_eta = np.sqrt(eta)

    out = {name: np.empty((n, nP)) for name in PER_DRAW + ("noise_sq",)}
    out["e_clean"] = np.empty((n, nP, D))
    chunk = _draws_per_chunk(D, P_grid, n, mem_budget_bytes)
    flops = flops_factor = 0.0
    work = {}
    for c0 in range(0, n, chunk):
        idx = list(range(c0, min(n, c0 + chunk)))
        with threadpool_limits(limits=1, user_api="blas"):
            X, eps = draw_rows([draws[i] for i in idx], P_max, sqrt_eta, sigma_eps, experiment, seed, threads)
            yc = X @ w  # (b, P_max)
            systems, f = build_systems(X, yc, eps, P_grid, threads, work)
            flops += f + 2.0 * len(idx) * P_max * D
            tasks = [(t, jp) for jp in range(nP) for t in range(len(idx))]

            def run(task):
                t, jp = task
                beta, stats = systems.fit(t, jp, float(lam_grid[jp]), D, sigma_eps)
                e_c = sqrt_eta * (beta[:, 0] - w)
                e_n = sqrt_eta * beta[:, 1]
                e_tot = e_c + e_n
                return task, {"e_clean": e_c, "eg": float(e_tot @ e_tot), "noise_sq": float(e_n @ e_n), **stats}

            sides = [min(int(P_grid[jp]), D) for _, jp in tasks]
            for (t, jp), res in map_fits(run, tasks, sides, threads):
                for name, value in res.items():
                    out[name][idx[t], jp] = value
        flops_factor += len(idx) * sum(factor_flops(min(int(P), D), lam) for P, lam in zip(P_grid, lam_grid))
        if progress is not None:
            progress.update(idx[-1] + 1)
    out["flops"] = flops
    out["flops_factor"] = flops_factor
    return out


class LinearRidge(Model):
    name = "linear_ridge"
    description = "ridge regression on x (docs/theory.md §3)"
    caption_name = "linear ridge regression"
    required = ("samples",)
    error_quantities = ("eg", "etr", "bias", "var_x", "var_xeps")
    param_quantities = ("kappa", "df1", "df2", "gamma")

    def simulate(self, spec, population, draws, *, threads, mem_budget_bytes):
        P, lam = sample_grid(spec)
        label = f"{spec['name']} draws {draws.start}:{draws.stop}"
        res = simulate_linear_ridge(population.eta.values, population.w.values, P, lam, spec["sigma_eps"], draws,
                                    experiment=spec["name"], seed=spec["seed"], threads=threads,
                                    mem_budget_bytes=mem_budget_bytes, progress=Progress(len(draws), label))
        data = {name: (("draw", "P"), res[name], attrs(name)) for name in PER_DRAW}
        data["noise_sq"] = (("draw", "P"), res["noise_sq"],
                            {"long_name": "|Sigma^1/2 beta_noise|^2 of one draw", "units": "1"})
        data["e_clean"] = (("draw", "P", "k"), res["e_clean"],
                           {"long_name": "whitened clean-label error Sigma^1/2 (beta - w)", "units": "1"})
        return grid_block(spec, draws, P, lam, data, res, "data=0 (X, eps), features=1 (F_j), feature noise=2 (xi_ij)",
                          coords={"k": ("k", population.k.values)})

    def merge(self, spec, blocks, population):
        from ..estimators import mean_and_se, one_way_components

        ds = concat_blocks(spec, blocks)
        out = summaries(ds, PER_DRAW, two_way=False)
        m, _, se = mean_and_se(ds["noise_sq"].values)
        out["var_xeps"], out["var_xeps_se"] = ("P", m, attrs("var_xeps")), ("P", se, attrs("var_xeps_se"))
        comp = one_way_components(ds["e_clean"].values)
        for name in ("bias", "var_x"):
            out[name] = ("P", comp[name], attrs(name))
            out[name + "_se"] = ("P", comp[name + "_se"], attrs(name + "_se"))
        out["lam"] = ("P", ds["lam"].values, attrs("lam"))
        P = ds.P.values
        coords = {"P": ("P", P, attrs("P")), "draw": ("draw", ds.draw.values),
                  "q": ("P", spec["D"] / P, {"long_name": "q = D/P", "units": "1"})}
        return xr.Dataset(out, coords=coords), block_provenance(spec, blocks)

    def theory(self, spec, population):
        P, P_sim = theory_sample_sizes(spec)
        lam = ridge_values(spec["ridge"], P)
        th = self.point_theory(spec, population.eta.values, population.w.values, P, lam)
        return grid_theory_dataset(th, spec, P, P_sim)

    def point_theory(self, spec, eta, w, P, lam):
        from .. import theory

        return theory.linear_ridge(eta, w, P, lam, spec["sigma_eps"])

    def memory_mb(self, spec, n_draws, mem_budget_bytes, threads):
        D = int(spec["D"])
        P_grid = self.sample_sizes(spec)
        need = (_draws_per_chunk(D, P_grid, n_draws, mem_budget_bytes) * bytes_per_draw(D, P_grid)
                + 8.0 * n_draws * P_grid.size * (D + 6))
        return declared_mb(need, min(int(P_grid.max()), D), threads)

    def merge_memory_mb(self, spec):
        # every draw's whitened errors (draw, P, D): the blocks read, their concatenation and two temporaries
        # of one_way_components (measured 33 bytes per draw, P and dimension)
        return declared_mb(4 * 8.0 * int(spec["draws"]) * self.sample_sizes(spec).size * int(spec["D"]), 0, 0)

    def theory_memory_mb(self, spec):
        return grid_theory_memory_mb(spec)

    def theory_poles(self, spec):
        # Var_Xeps = sigma_eps^2 gamma/(1 - gamma) with gamma = 1 at P = D, lambda = 0
        if spec.get("sigma_eps", 0.0) > 0:
            return [(int(spec["D"]), f"with label noise sigma_eps = {spec['sigma_eps']:g} the theory is infinite "
                                     f"at P = D = {spec['D']} (q = 1)")]
        return []

    def flops(self, spec):
        D = int(spec["D"])
        P, lam = sample_grid(spec)
        P_max, n = int(P.max()), int(spec["draws"])
        per_draw = 2.0 * P_max * D + systems_flops(P, D)
        factor = n * sum(factor_flops(min(int(p), D), lam_p) for p, lam_p in zip(P, lam))
        return {"gemm": n * per_draw, "factor": factor, "merge": 0.0, "fits": n * P.size}

    def equations(self, spec):
        return [
            FUNCTIONALS,
            "Renormalized ridge: λ = κ(1 − q·df₁(κ)); γ = q·df₂(κ).",
            "Bias² = κ² tf₁′(κ); Var_X = Bias²·γ/(1 − γ); Var_Xε = σ_ε² γ/(1 − γ); "
            "E_g = (κ² tf₁′ + σ_ε² γ)/(1 − γ); E_tr = (λ/κ)² (E_g + σ_ε²).",
            "Markers for κ: κ̂ = λ/(1 − (1/P) tr Σ̂(Σ̂ + λ)⁻¹); GCV = (κ̂/λ)² E_tr − σ_ε².",
        ]


LINEAR_RIDGE = LinearRidge()
