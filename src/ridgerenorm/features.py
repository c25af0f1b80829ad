"""Feature maps: the seam between a random-feature model and the ridge fits.

A feature map draws its weights for feature draw j from the features stream and turns rows X into features
Phi.  The fits (fits.py) only see Phi, so a new feature model plugs in here without touching them.
`LinearFeatures` is the map of docs/theory.md §4: phi(x) = F^T x with F = F_1 ... F_L (deep), layer l of
entries N(0, 1/N_{l-1}) and, for structured weights, columns scaled by k^(-alpha_F/2).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .parallel import MATMUL_BLOCK, worker_pool
from .streams import STREAM_FEATURES, seed_sequence

__all__ = ["feature_weights", "LinearFeatures"]


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

    def apply(self, X, F_grp, Phi, threads: int) -> None:
        """Phi[t] = X F_t for the g feature draws of F_grp = [F_1 ... F_g]: each 256-row block of X meets the
        whole group in one GEMM (wide, so fast) and is scattered into the per-draw layout (g, P, N), where
        every later product reads contiguous rows (a strided (P, g N) view cost 30% in those products)."""
        g, _, N = Phi.shape

        def run(start):
            block = X[start:start + MATMUL_BLOCK] @ F_grp
            Phi[:, start:start + MATMUL_BLOCK] = block.reshape(block.shape[0], g, N).transpose(1, 0, 2)

        list(worker_pool(threads).map(run, range(0, X.shape[0], MATMUL_BLOCK)))
