"""Time the pipeline's small, interactive pieces (what the tests check for correctness only).

    python benchmarks/micro.py            # one line per item: best of 3 wall times

- Silverstein density at paper scale (D = 10^4 power-law spectrum, 400 grid points).
- Linear-ridge and random-feature theory on a 200-point sample grid at D = 10^4 (the theory rule's work).
- Building the paper-scale DAG (`snakemake -n --forceall`), which `snakemake` does before every run.
- The small-matrix random-feature simulation (C2's shapes: D = 200, N = 100, P up to 2*10^4, 4 data x
  25 feature draws), overhead-bound rather than flop-bound, as GFLOP/s against the 2-thread matmul rate.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import numpy as np

from ridgerenorm import densities, theory
from ridgerenorm.costs import matmul_rate
from ridgerenorm.models.random_features import simulate_random_features

ROOT = Path(__file__).resolve().parents[1]


def best_of(fn, repeats: int = 3) -> float:
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    eta = np.arange(1, 10_001, dtype=float) ** -1.2
    w = np.arange(1, 10_001, dtype=float) ** -0.5
    x = np.geomspace(1e-8, 10, 400)
    P = np.unique(np.round(np.logspace(0, 4, 200))).astype(float)
    items = {
        "silverstein_density D=1e4, 400 points": lambda: densities.silverstein_density(x, eta, 0.5),
        "theory.linear_ridge D=1e4, 200 P": lambda: theory.linear_ridge(eta, w, P, 1e-5, 0.1),
        "theory.random_features D=1e4, N=2000, 200 P": lambda: theory.random_features(eta, w, P, [2000], 1e-5, 0.1),
        "paper dry run (snakemake -n --forceall)": lambda: subprocess.run(
            ["snakemake", "-n", "--forceall", "--quiet"], cwd=ROOT, check=True, capture_output=True),
    }
    for name, fn in items.items():
        print(f"{name:48s} {best_of(fn, repeats=1 if 'dry run' in name else 3):8.2f} s")

    eta_c2, w_c2 = np.ones(200), np.full(200, 200**-0.5)
    P_c2 = np.unique(np.round(np.logspace(0.3, 4.3, 20))).astype(int)
    flops = {}

    def rf_small():
        out = simulate_random_features(eta_c2, w_c2, P_c2, np.full(P_c2.size, 1e-3), [100], 0.25, 0.0,
                                       range(4), 25, experiment="micro", seed=0, threads=2)
        flops["total"] = out["flops"] + out["flops_factor"]

    seconds = best_of(rf_small)
    rate = flops["total"] / seconds / 1e9
    print(f"{'random features, C2 shapes, 4 x 25 draws':48s} {seconds:8.2f} s  {rate:6.1f} GFLOP/s "
          f"({rate / matmul_rate(2):.0%} of the 2-thread matmul rate)")


if __name__ == "__main__":
    main()
