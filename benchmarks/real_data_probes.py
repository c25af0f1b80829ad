"""Measurements behind docs/figures.md R1: where Gaussian equivalence holds or fails on the digits, and why.

    PYTHONPATH=src python benchmarks/real_data_probes.py [draws]     (needs scikit-learn; ~1 min at 400 draws)

Ridge (lambda = 1e-3) on the noiseless linear teacher x B (the labels' least-squares fit), training rows drawn
with replacement, so the theory's i.i.d. sampling from the population holds exactly, E_g over theory at P
from 4 to 1014 for three kinds of rows with the same covariance diag(eta) and teacher:

  digits       the real images (in the eigenbasis of their covariance);
  independent  the same coordinates, each permuted independently over the images: every coordinate keeps its
               own distribution (the rare pixels' heavy tails included), the dependence between coordinates
               is gone;
  gaussian     Gaussian rows, models/linear_ridge.py (exact population risk).

Then the statistics of the rows: the kurtosis of each coordinate, and the dispersion (coefficient of variation)
of the quadratic form x^T (Sigma + kappa)^-1 x over the rows, which a deterministic equivalent needs to
concentrate, at kappa = 0.1, 0.01, 0.001 (the renormalized ridge falls through this range as P grows).
"""

from __future__ import annotations

import sys

import numpy as np

from ridgerenorm import theory
from ridgerenorm.estimators import mean_and_se
from ridgerenorm.models.linear_ridge import simulate_linear_ridge
from ridgerenorm.models.real_data import simulate_real_data
from ridgerenorm.spectrum_kinds.digits import rows_of

SEED = 20240501
P_GRID = np.unique((64 / np.logspace(-1.2, 1.2, 12) + 1e-9).astype(np.int64))
LAM = 1e-3


def independent_coordinates(Z, seed=SEED):
    rng = np.random.default_rng(seed)
    return np.stack([rng.permutation(Z[:, k]) for k in range(Z.shape[1])], axis=1)


def quadratic_form_cv(Z, eta, kappa):
    s = np.sum(Z**2 / (eta + kappa), axis=1)
    return s.std() / s.mean()


def main(draws: int = 400) -> None:
    r = rows_of({"target": "linear"})
    w = np.sqrt(np.sum(r.B**2, axis=1))
    lam = np.full(P_GRID.size, LAM)
    th = theory.linear_ridge(r.eta, w, P_GRID, lam, 0.0)
    kappa = th["kappa"].values
    print("P      " + " ".join(f"{p:>7d}" for p in P_GRID))
    print("kappa  " + " ".join(f"{k:7.1e}" for k in kappa))
    Zi = independent_coordinates(r.Z)
    runs = {"digits": simulate_real_data(r.Z, r.Y, r.B, P_GRID, lam, range(draws), sampling="iid",
                                         experiment="probe_digits", seed=SEED)["eg"],
            "independent": simulate_real_data(Zi, Zi @ r.B, r.B, P_GRID, lam, range(draws), sampling="iid",
                                              experiment="probe_independent", seed=SEED)["eg"],
            "gaussian": simulate_linear_ridge(r.eta, w, P_GRID, lam, 0.0, range(draws), experiment="probe_gaussian",
                                              seed=SEED)["eg"]}
    for name, eg in runs.items():
        m, _, se = mean_and_se(eg)
        t = th["eg"].values
        print(f"{name:<12} E_g/theory " + " ".join(f"{x:7.3f}" for x in m / t))
        print(f"{'':<12} z          " + " ".join(f"{x:7.1f}" for x in (m - t) / se))
    positive = r.eta > r.eta[0] * 1e-12
    kurt = np.mean(r.Z[:, positive] ** 4, axis=0) / r.eta[positive] ** 2
    print(f"kurtosis of the {positive.sum()} coordinates of nonzero variance: median {np.median(kurt):.2f}, "
          f"top ten directions {kurt[:10].min():.2f}-{kurt[:10].max():.2f}, largest {kurt.max():.0f} "
          f"(Gaussian: 3)")
    rng = np.random.default_rng(SEED)
    G = rng.standard_normal((200000, r.eta.size)) * np.sqrt(r.eta)
    for k in (1e-1, 1e-2, 1e-3):
        print(f"CV of x^T (Sigma + {k:g})^-1 x: digits {quadratic_form_cv(r.Z, r.eta, k):.3f}, independent "
              f"{quadratic_form_cv(Zi, r.eta, k):.3f}, gaussian {quadratic_form_cv(G, r.eta, k):.3f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 400)
