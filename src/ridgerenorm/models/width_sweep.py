"""Random features with structured weights swept over width N and weight exponent alpha_F at a fixed sample
size P, ridgeless (figure C7; docs/theory.md §4 structured weights, docs/figures.md C7).

Simulation: minimum-norm (lambda = 0) fits with F = G diag(k^(-alpha_F/2))/sqrt(D); widths are nested column
prefixes of one G and exponents are column rescalings of the same X G, so one product X G per (data draw,
feature draw) serves every (alpha_F, N).  All pairs run in one job: the two-way decomposition needs them all.
"""

from __future__ import annotations

import math

import numpy as np
import xarray as xr
from threadpoolctl import threadpool_limits

from ..features import feature_weights
from ..fits import solve_min_norm
from ..limits import MAX_SIZE
from ..parallel import blocked_matmul, map_fits
from ..progress import Progress
from ..quantities import add_derived, attrs
from ..spectra import width_values
from ..streams import draw_rows
from .base import FUNCTIONALS, Model, SimulationResult
from .random_features import RF_COMMON_EQUATIONS

__all__ = ["WIDTH_SWEEP", "simulate_width_sweep", "theory_widths"]

SWEEP_DIMS = ("alpha_F", "N")
THEORY_POINTS = 80  # widths of the dense theory grid (log-spaced over the width_grid range)
STATISTICS = ("a", "r", "c", "g", "rg", "cg", "b", "h", "ge", "rc")


def simulate_width_sweep(eta, w, P: int, N_grid, weight_exponents, draws, n_feature_draws: int, *,
                         experiment: str, seed: int, threads: int = 1, progress: Progress | None = None):
    """Minimum-norm random features at a fixed sample size P, swept over widths N_grid and exponents.

    Returns whitened errors e (n, m, n_alpha, n_N, D) of every pair and eg = |e|^2 (n, m, n_alpha, n_N).
    """
    eta, w = np.asarray(eta, dtype=float), np.asarray(w, dtype=float)
    N_grid = np.asarray(N_grid, dtype=np.int64)
    alphas = np.asarray(weight_exponents, dtype=float)
    if np.any(np.diff(N_grid) <= 0) or N_grid[0] <= P:
        raise ValueError("N_grid must be strictly ascending, every width above P (minimum-norm interpolation)")
    draws = list(draws)
    D, n, m, N_max = eta.size, len(draws), int(n_feature_draws), int(N_grid[-1])
    sqrt_eta = np.sqrt(eta)
    k = np.arange(1, N_max + 1, dtype=float)
    scales = k[None, :] ** (-alphas[:, None] / 2.0)  # (n_alpha, N_max)
    e = np.empty((n, m, alphas.size, N_grid.size, D))
    flops = 0.0
    with threadpool_limits(limits=1, user_api="blas"):
        X, _ = draw_rows(draws, P, sqrt_eta, 0.0, experiment, seed, threads)  # all data draws (n, P, D)
        Y = X @ w  # (n, P) clean labels
        for j in range(m):
            G = feature_weights(D, [N_max], j, experiment=experiment, seed=seed)  # (D, N_max) = G / sqrt(D)
            for i in range(n):
                Phi = blocked_matmul(X[i], G, threads)  # unscaled features (P, N_max)
                flops += 2.0 * P * D * N_max
                coefs = np.zeros((alphas.size, N_grid.size, N_max))  # c * v: beta = G @ coefs
                Ks = np.zeros((alphas.size, P, P))
                start = 0
                fits = []
                for jn, N in enumerate(N_grid):
                    N = int(N)
                    for a in range(alphas.size):  # K_a += Phi diag(c_a^2) Phi^T over the new columns
                        cols = Phi[:, start:N] * scales[a, start:N] ** 2
                        blocked_matmul(cols, Phi[:, start:N].T, threads, out=Ks[a], accumulate=True)
                    flops += 2.0 * alphas.size * P * P * (N - start)
                    start = N
                    fits += [(a, jn, N, Ks[a].copy()) for a in range(alphas.size)]

                def run(fit):  # minimum-norm interpolation: v = diag(c^2) Phi^T K^-1 y
                    a, jn, N, K = fit
                    return a, jn, N, scales[a, :N] ** 2 * (Phi[:, :N].T @ solve_min_norm(K, Y[i]))

                for a, jn, N, cv in map_fits(run, fits, [P] * len(fits), threads):
                    coefs[a, jn, :N] = cv
                beta = (G @ coefs.reshape(-1, N_max).T).T.reshape(alphas.size, N_grid.size, D)
                e[i, j] = sqrt_eta * (beta - w)
                flops += 2.0 * D * N_max * alphas.size * N_grid.size
                if progress is not None:
                    progress.update(j * n + i + 1)
    return {"e": e, "eg": np.einsum("...d,...d->...", e, e), "flops": flops, "flops_factor": 0.0}


def _sizes(spec: dict) -> dict:
    """Memory and flops of a width-sweep job (all pairs in one job), as simulate_width_sweep does them."""
    D, P, n, m = int(spec["D"]), int(spec["sample_size"]), int(spec["draws"]), int(spec["feature_draws"])
    N = width_values(spec["width_grid"])
    n_a, N_max = len(spec["weight_exponents"]), int(N.max())
    per_pair = 2.0 * P * D * N_max + 2.0 * n_a * P * P * N_max + 2.0 * D * N_max * n_a * N.size
    factor = n * m * n_a * N.size * P ** 3 / 3.0
    memory = 8.0 * (n * P * (D + 1) + D * N_max + 2 * P * N_max + n_a * P * P * 2
                    + n_a * N.size * N_max + n * m * n_a * N.size * (D + 4))
    return {"gemm": n * m * per_pair, "factor": factor, "fits": n * m * n_a * N.size, "bytes": memory}


def theory_widths(spec: dict) -> np.ndarray:
    """Widths of the theory curve: THEORY_POINTS log-spaced over the width_grid range plus the simulated
    widths (all above P, so the ridgeless risk is finite on the whole grid)."""
    N_sim = width_values(spec["width_grid"])
    a, b, _ = spec["width_grid"]["logspace"]
    N = np.unique(np.concatenate([np.logspace(a, b, THEORY_POINTS).astype(np.int64), N_sim]))
    return N


def _alpha_coord(spec):
    return ("alpha_F", np.asarray(spec["weight_exponents"], dtype=float),
            {"long_name": "feature-weight exponent alpha_F (column scale k^-alpha_F/2)", "units": "1"})


class WidthSweep(Model):
    name = "rf_width_sweep"
    description = "ridgeless random features with structured weights, swept over width and alpha_F (C7)"
    caption_name = "random features, width sweep"
    properties = {
        "sample_size": {"$ref": "#/$defs/positive_int", "description": "the fixed number of samples P"},
        "width_grid": {"description": "widths N = unique integers of 10^linspace(a, b, n)", "type": "object",
                       "required": ["logspace"], "additionalProperties": False,
                       "properties": {"logspace": {"$ref": "#/$defs/range3"}}},
        "weight_exponents": {"type": "array", "minItems": 1, "items": {"type": "number", "minimum": 0},
                             "description": "the alpha_F values (structured weights k^(-alpha_F/2))"},
        "feature_draws": {"type": "integer", "minimum": 3, "maximum": MAX_SIZE,
                          "description": "feature-weight draws (G)"},
    }
    required = ("sample_size", "width_grid", "weight_exponents", "feature_draws")
    size_keys = {"feature_draws": "size", "weight_exponents": "count_list", "width_grid": "size_grid",
                 "sample_size": "size"}
    simulate_keys = ("feature_draws", "sample_size", "width_grid", "weight_exponents")
    theory_keys = ("sample_size", "width_grid", "weight_exponents")
    error_quantities = ("eg", "bias", "var_x", "var_f", "var_xf", "var_f_xf")
    param_quantities = ("kappa1", "kappa2")

    def check(self, exp, fail):
        if exp.get("ridge") != 0:
            fail("ridge", exp.get("ridge"), "rf_width_sweep is minimum-norm least squares: ridge must be 0")
        if exp.get("sigma_eps", 0) != 0:
            fail("sigma_eps", exp.get("sigma_eps"), "rf_width_sweep supports clean labels only (0)")
        if "block" in exp and "draws" in exp and exp["block"] != exp["draws"]:
            fail("block", exp["block"], "rf_width_sweep runs every (data, feature) pair in one job: block must equal draws")
        if "width_grid" in exp:
            a, b, _ = exp["width_grid"]["logspace"]
            if min(a, b) < 0 or max(a, b) > math.log10(MAX_SIZE):
                fail("width_grid", exp["width_grid"], f"widths 10^a..10^b must lie in [1, {MAX_SIZE:.0e}]: "
                                                      f"a and b in [0, {math.log10(MAX_SIZE):g}]")
        if "width_grid" in exp and "sample_size" in exp and width_values(exp["width_grid"])[0] <= exp["sample_size"]:
            fail("width_grid", exp["width_grid"], f"smallest width {width_values(exp['width_grid'])[0]} must exceed "
                                                  f"sample_size ({exp['sample_size']}): the fit interpolates (N > P)")

    def resolve(self, exp, D):
        exp["samples"] = [D / exp["sample_size"]]  # one sample size (keeps P-based helpers working)
        exp.setdefault("theory_samples", exp["samples"])

    def sample_sizes(self, spec):
        return np.array([int(spec["sample_size"])])

    def simulate(self, spec, population, draws, *, threads, mem_budget_bytes):
        if len(draws) != spec["draws"]:
            raise SystemExit(f"error: --draws {draws.start}:{draws.stop}: rf_width_sweep needs all {spec['draws']} "
                             "data draws in one job")
        from ..estimators import two_way_statistics

        m = int(spec["feature_draws"])
        res = simulate_width_sweep(
            population.eta.values, population.w.values, int(spec["sample_size"]), width_values(spec["width_grid"]),
            spec["weight_exponents"], draws, m, experiment=spec["name"], seed=spec["seed"], threads=threads,
            progress=Progress(len(draws) * m, f"{spec['name']} (data x feature draw)"))
        stats = two_way_statistics(res["e"])
        pair, row, col = ("draw", "fdraw") + SWEEP_DIMS, ("draw",) + SWEEP_DIMS, ("fdraw",) + SWEEP_DIMS
        doc = {"long_name": "two-way sufficient statistic of the whitened errors (estimators.two_way_components)",
               "units": "1"}
        dims = {"a": pair, "b": pair, "h": pair, "ge": pair, "rc": pair, "r": row, "rg": row, "c": col, "cg": col,
                "g": SWEEP_DIMS}
        data = {"eg": (pair, res["eg"], attrs("eg")), **{k: (dims[k], v, doc) for k, v in stats.items()}}
        coords = {"draw": ("draw", np.asarray(draws)), "fdraw": ("fdraw", np.arange(m)), "alpha_F": _alpha_coord(spec),
                  "N": ("N", width_values(spec["width_grid"]), {"long_name": "number of features N", "units": "1"})}
        seeds = {"root_seed": spec["seed"], "experiment": spec["name"], "data_draws": [draws[0], draws[-1] + 1],
                 "feature_draws": [0, m], "streams": "data=0 (X), features=1 (G_j)"}
        return SimulationResult(xr.Dataset(data, coords=coords), res["flops"], res["flops_factor"], seeds)

    def merge(self, spec, blocks, population):
        from ..estimators import two_way_components, two_way_mean_se

        (ds,) = blocks
        comp = add_derived(two_way_components(**{k: ds[k].values for k in STATISTICS}), ("var_f_xf",))
        out = {name: (SWEEP_DIMS, comp[name], attrs(name)) for name in comp}
        m_eg, s_eg, se_eg = two_way_mean_se(ds["eg"].values)
        out.update(eg=(SWEEP_DIMS, m_eg, attrs("eg")), eg_std=(SWEEP_DIMS, s_eg, attrs("eg_std")),
                   eg_se=(SWEEP_DIMS, se_eg, attrs("eg_se")))
        merged = xr.Dataset(out, coords={"alpha_F": ds.alpha_F, "N": ds.N, "P": int(spec["sample_size"])})
        extra = {"simulation_wall_time_s": float(ds.attrs.get("wall_time_s", 0.0)),
                 "flops_total": float(ds.attrs.get("flops_gemm", 0.0)), "n_blocks": 1,
                 "block_commands": [ds.attrs["command"]]}
        return merged, extra

    def theory(self, spec, population):
        from .. import theory

        P = float(spec["sample_size"])
        N = theory_widths(spec)
        names = ("kappa1", "kappa2", "bias", "var_x", "var_f", "var_xf", "eg")
        vals = {k: np.empty((len(spec["weight_exponents"]), N.size)) for k in names}
        for ia, alpha_f in enumerate(spec["weight_exponents"]):
            for jn, n_feat in enumerate(N):
                ws = [np.arange(1, n_feat + 1) ** -float(alpha_f)] if alpha_f else None
                th = theory.random_features(population.eta.values, population.w.values, P, [int(n_feat)], 0.0,
                                            weight_spectra=ws)
                for k in names:
                    vals[k][ia, jn] = float(th[k])
        add_derived(vals, ("var_f_xf",))
        data = {k: (SWEEP_DIMS, v, attrs(k)) for k, v in vals.items()}
        data["c"] = ("alpha_F", np.array([theory.finite_width_exponent(x) for x in spec["weight_exponents"]]),
                     {"long_name": "finite-width exponent c (Var_F ~ N^-c as N -> infinity, N << D)", "units": "1"})
        coords = {"alpha_F": _alpha_coord(spec), "N": ("N", N, attrs("P", long_name="number of features N")),
                  "simulated": ("N", np.isin(N, width_values(spec["width_grid"])),
                                {"long_name": "N is on the simulation grid"}), "P": P}
        return xr.Dataset(data, coords=coords)

    def memory_mb(self, spec, n_draws, mem_budget_bytes, threads):
        return int(_sizes(spec)["bytes"] / 1e6 * 1.2) + 300

    def flops(self, spec):
        sizes = _sizes(spec)
        return {"gemm": sizes["gemm"], "factor": sizes["factor"], "merge": 0.0, "fits": sizes["fits"]}

    def equations(self, spec):
        return [FUNCTIONALS + " All functionals of the data spectrum at κ₂.",
                "Structured weights F = G diag(√s)/√D, s_k = k^(−α_F) (our own derivation, docs/theory.md §4): each "
                "factor N/D − df₁ becomes df₁·κ_F with df_s(κ_F) = df₁·D/N, and in ∂ the term "
                "df₁/(N/D − df₁) becomes df₂_s(κ_F)/(df_s(κ_F) − df₂_s(κ_F)).",
                "λ = 0 with P < N (minimum-norm interpolation): κ₂ solves df₁(κ₂) = P/D; Var_F + Var_XF "
                "against the dashed N^(−c) guides, c from the weight exponent α_F."] + list(RF_COMMON_EQUATIONS)


WIDTH_SWEEP = WidthSweep()
