"""A model defined outside the package: ridge regression on z = Q^T x, a fixed random rotation of the data.

It exists to show that a model is one module plus one `register` call.  Ridge is rotation-equivariant (the
fit on z predicts exactly what the fit on x predicts), so its theory is the linear-ridge theory of the same
spectrum, while its simulation runs through the rotated features: a wrong rotation (or a fit that is not
mapped back through Q) would not agree.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from threadpoolctl import threadpool_limits

from ridgerenorm.costs import declared_mb
from ridgerenorm.fits import build_systems
from ridgerenorm.models import Model, SimulationResult, register
from ridgerenorm.models.base import concat_blocks, grid_theory_dataset, sample_grid, summaries, theory_sample_sizes
from ridgerenorm.quantities import attrs
from ridgerenorm.streams import draw_rows

PER_DRAW = ("eg", "etr", "df1_hat", "kappa_hat")


def rotation(D: int, seed: int) -> np.ndarray:
    """A Haar-random orthogonal D x D matrix (QR of a Gaussian matrix, signs fixed)."""
    q, r = np.linalg.qr(np.random.default_rng(seed).standard_normal((D, D)))
    return q * np.sign(np.diag(r))


class RandomRotation(Model):
    name = "toy_rotation"
    description = "ridge on a fixed random rotation of x (a test of the model registry)"
    properties = {"rotation_seed": {"type": "integer", "minimum": 0, "description": "seed of the rotation Q"}}
    required = ("samples", "rotation_seed")
    simulate_keys = ("rotation_seed",)
    error_quantities = ("eg", "etr")
    param_quantities = ("kappa", "df1")

    def simulate(self, spec, population, draws, *, threads, mem_budget_bytes):
        eta, w = population.eta.values, population.w.values
        P, lam = sample_grid(spec)
        Q = rotation(eta.size, spec["rotation_seed"])
        sqrt_eta = np.sqrt(eta)
        out = {name: np.empty((len(draws), P.size)) for name in PER_DRAW}
        with threadpool_limits(limits=1, user_api="blas"):
            X, eps = draw_rows(list(draws), int(P.max()), sqrt_eta, spec["sigma_eps"], spec["name"], spec["seed"],
                               threads)
            systems, flops = build_systems(X @ Q, X @ w, eps, P, threads)
            for t in range(len(draws)):
                for jp in range(P.size):
                    coef, stats = systems.fit(t, jp, float(lam[jp]), eta.size, spec["sigma_eps"])
                    e = sqrt_eta * (Q @ coef.sum(axis=1) - w)  # back to x coordinates
                    out["eg"][t, jp] = e @ e
                    for name in ("etr", "df1_hat", "kappa_hat"):
                        out[name][t, jp] = stats[name]
        data = {name: (("draw", "P"), out[name], attrs(name)) for name in PER_DRAW}
        coords = {"draw": np.arange(draws.start, draws.stop), "P": ("P", P, attrs("P"))}
        seeds = {"root_seed": spec["seed"], "experiment": spec["name"], "rotation_seed": spec["rotation_seed"]}
        return SimulationResult(xr.Dataset(data, coords=coords), flops, 0.0, seeds)

    def merge(self, spec, blocks, population):
        ds = concat_blocks(spec, blocks)
        return xr.Dataset(summaries(ds, PER_DRAW, two_way=False), coords={"P": ds.P, "draw": ds.draw}), {}

    def theory(self, spec, population):
        from ridgerenorm import theory

        P, P_sim = theory_sample_sizes(spec)
        lam = np.full(P.shape, float(spec["ridge"]))
        th = theory.linear_ridge(population.eta.values, population.w.values, P, lam, spec["sigma_eps"])
        return grid_theory_dataset(th, spec, P, P_sim)

    def memory_mb(self, spec, n_draws, mem_budget_bytes, threads):
        D, P = int(spec["D"]), int(self.sample_sizes(spec).max())
        return declared_mb(8.0 * n_draws * (2 * P * D + P * P + D * D), min(P, D), threads)

    def flops(self, spec):
        D, P, n = int(spec["D"]), int(self.sample_sizes(spec).max()), int(spec["draws"])
        return {"gemm": n * 2.0 * P * D * (2 * D), "factor": 0.0, "merge": 0.0, "fits": n * self.sample_sizes(spec).size}

    def equations(self, spec):
        return ["Rotation-equivariant ridge: the theory of docs/theory.md §3 for the same spectrum."]


TOY = register(RandomRotation())
