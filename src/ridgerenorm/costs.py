"""Costs of a simulation: the memory a job declares, the flops it does, and this machine's measured rates.

The models count their own arrays and products (models/*.py); this module holds what they share: the
factorization flop count, the covariance snapshots a fit grid keeps, the scheduler's memory declaration,
and one measurement of the float64 matmul rate used by `ridgerenorm plan` and the benchmark summary alike.
"""

from __future__ import annotations

import time

import numpy as np
from threadpoolctl import threadpool_limits

__all__ = ["factor_flops", "covariance_copies", "declared_mb", "matmul_rate", "measured_rates"]


def factor_flops(n: int, lam: float) -> float:
    """Nominal flops of one factorization: Cholesky + triangular inverse (2n^3/3) for lam > 0, else
    eigh (counted as 4n^3)."""
    return (2.0 / 3.0) * n**3 if lam > 0 else 4.0 * n**3


def covariance_copies(dual) -> int:
    """n x n matrices fits.build_systems holds: the running covariance plus one scaled snapshot per P
    solved through it (0 when every P goes through the Gram)."""
    n_primal = int((~dual).sum())
    return n_primal + 1 if n_primal else 0


def declared_mb(need_bytes: float, side: int, threads: int) -> int:
    """Memory (MB) a job declares to the scheduler: its arrays plus one factorization workspace per
    thread (3 side^2 doubles), with 20 % and 300 MB of headroom for the interpreter and libraries."""
    workspace = threads * 8.0 * 3 * side * side
    return int((need_bytes + workspace) / 1e6 * 1.2) + 300


def matmul_rate(threads: int, n: int = 3000, repeats: int = 3) -> float:
    """Best-of-`repeats` float64 GEMM rate (n x n times n x n) on `threads` BLAS threads, in GFLOP/s:
    the reference the simulation rates are compared with.  The threads are set here, not inherited:
    Snakemake runs jobs and onstart with OPENBLAS_NUM_THREADS=1."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((n, n)), rng.standard_normal((n, n))
    best = np.inf
    with threadpool_limits(limits=max(1, int(threads)), user_api="blas"):
        a @ b
        for _ in range(repeats):
            t0 = time.perf_counter()
            a @ b
            best = min(best, time.perf_counter() - t0)
    return 2.0 * n**3 / best / 1e9


def measured_rates(threads: int, n_factor: int = 800) -> dict:
    """This machine's float64 GEMM rate on `threads` BLAS threads and its single-thread Cholesky +
    triangular inverse rate, in GFLOP/s."""
    from .fits import chol_inverse_trace

    rng = np.random.default_rng(0)
    x = rng.standard_normal((n_factor, n_factor + 100))
    A = x @ x.T / n_factor + np.eye(n_factor)
    with threadpool_limits(limits=1, user_api="blas"):
        chol_inverse_trace(A)
        t0 = time.perf_counter()
        chol_inverse_trace(A)
        factor = factor_flops(n_factor, 1.0) / (time.perf_counter() - t0) / 1e9
    return {"gemm": matmul_rate(threads), "factor": factor}
