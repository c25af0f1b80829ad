"""Feature maps: the seam between a random-feature model and the ridge fits.

A feature map draws its weights for feature draw j from the features stream and turns rows X into features
Phi.  The fits (fits.py) only see Phi, so a new feature model plugs in here without touching them.
`LinearFeatures` is the map of docs/theory.md §4: phi(x) = F^T x with F = F_1 ... F_L (deep), layer l of
entries N(0, 1/N_{l-1}) and, for structured weights, columns scaled by k^(-alpha_F/2).

The product X F is the only step computed in float32 (FEATURE_DTYPE): it is most of a random-feature
simulation's flops and float32 GEMM runs about twice as fast.  X and F are drawn in float64 and rounded to
float32 once; the features are stored back in float64, so every Gram, covariance, factorization and the
population risk |F v - w|^2_Sigma (with F in float64) stay in float64, where round-off meets ridges as small
as 1e-8.  The rounding is a relative perturbation of each feature of about 1e-7 sqrt(D) ~ 1e-5, orders of
magnitude below the sampling error of any reported mean (benchmarks/zscores.py; docs/performance.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .parallel import MATMUL_BLOCK, worker_pool
from .streams import STREAM_FEATURES, seed_sequence

__all__ = ["feature_weights", "feature_runs", "product_flops", "LinearFeatures"]

FEATURE_DTYPE = np.float32  # the feature product's precision (module docstring)
FEATURE_RUN_FLOPS = 1e8  # flops of the feature products one pool task takes together (~1 ms)


def feature_weights(D: int, widths, j: int, *, experiment: str, seed: int, weight_exponent: float = 0.0):
    """Effective weights F = F_1 ... F_L (D x N_L) of feature draw j.  Layer l is N_{l-1} x N_l with
    entries N(0, 1/N_{l-1}), columns scaled by k^(-alpha_F/2) when weight_exponent alpha_F > 0."""
    rng = np.random.default_rng(seed_sequence(seed, experiment, STREAM_FEATURES, j))
    F = None
    n_in = D
    for n_out in widths:
        layer = rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)
        if weight_exponent:
            layer *= np.arange(1, n_out + 1) ** (-weight_exponent / 2.0)
        F = layer if F is None else F @ layer
        n_in = n_out
    return F


def product_flops(pairs: int, rows: int, D: int, N: int) -> float:
    """Flops of the feature products X F, the float32 step (FEATURE_DTYPE), of `pairs` (data draw, feature
    draw) pairs, each X of `rows` rows and D columns, F of N columns: a simulation's count and the plan's
    estimate of the part of the GEMM flops that runs at the float32 rate."""
    return pairs * 2.0 * rows * D * N


def feature_runs(x_shape, weights) -> list:
    """The (256-row block, feature draw) products of X (rows x D) with each of `weights`, grouped into pool
    tasks of about FEATURE_RUN_FLOPS: a task per 256 x 200 x 100 product cost as much as the product.  The
    grouping changes no bits (every product is computed alone); it only keeps the threads busy."""
    n_rows, D = x_shape
    runs, current, cost = [], [], 0.0
    for start in range(0, n_rows, MATMUL_BLOCK):
        for t in range(len(weights)):
            current.append((start, t))
            cost += 2.0 * min(MATMUL_BLOCK, n_rows - start) * D * weights[t].shape[1]
            if cost >= FEATURE_RUN_FLOPS:
                runs.append(current)
                current, cost = [], 0.0
    if current:
        runs.append(current)
    return runs


@dataclass(frozen=True)
class LinearFeatures:
    """phi(x) = F_j^T x for feature draw j (one or more linear layers)."""

    D: int
    widths: tuple
    experiment: str
    seed: int
    weight_exponent: float = 0.0

    @property
    def N(self) -> int:
        return int(self.widths[-1])

    def weights(self, j: int) -> np.ndarray:
        """F_j (D x N) of feature draw j."""
        return feature_weights(self.D, self.widths, j, experiment=self.experiment, seed=self.seed,
                               weight_exponent=self.weight_exponent)

    def weight_flops(self) -> float:
        """Flops of one draw's layer products F_1 ... F_L."""
        return sum(2.0 * self.D * a * b for a, b in zip(self.widths[:-1], self.widths[1:]))

    @staticmethod
    def rounded(weights) -> list:
        """The float32 copies of [F_1 ... F_g] that `apply` multiplies with (made once per feature group)."""
        return [F.astype(FEATURE_DTYPE) for F in weights]

    def apply(self, X, weights32, Phi, threads: int) -> None:
        """Phi[t] = X F_t for the g feature draws of `weights32` = rounded([F_1 ... F_g]) (each D x N,
        contiguous float32), in fixed 256-row blocks of X rounded to float32, one float32 GEMM per (block,
        draw), stored into the float64 per-draw layout (g, P, N), where every later product reads contiguous
        rows.  Every GEMM has the same shape whatever g is, so the features, and everything after them, do
        not depend on how draws are grouped (one wide X [F_1 ... F_g] product did: OpenBLAS's edge tiles
        moved with g)."""
        X32 = X.astype(FEATURE_DTYPE)
        runs = feature_runs(X.shape, weights32)

        def run(tasks):
            for start, t in tasks:
                Phi[t, start:start + MATMUL_BLOCK] = X32[start:start + MATMUL_BLOCK] @ weights32[t]

        list(worker_pool(threads).map(run, runs))
