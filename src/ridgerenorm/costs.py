"""Costs of a simulation: the memory a job declares, the flops it does, and this machine's measured rates.

The models count their own arrays and products (models/*.py); this module holds what they share: the
factorization flop count, the covariance snapshots a fit grid keeps, the scheduler's memory declaration,
and one measurement of the float64 matmul rate used by `ridgerenorm plan` and the benchmark summary alike.
That measurement costs about 15 s, so it is made once per machine and kept (`machine_rates`): in
$RIDGERENORM_CACHE_DIR, else $XDG_CACHE_HOME/ridgerenorm, else ~/.cache/ridgerenorm, keyed by what sets the
rate (CPU model, logical cores, threads, numpy and the BLAS library with its kernel set).
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from .io import atomic_path

__all__ = ["gram_flops", "factor_flops", "covariance_copies", "declared_mb", "matmul_rate", "measured_rates", "machine_rates",
           "rates_cache_file"]


def gram_flops(M: int, K: int) -> float:
    """Flops of the symmetric product A A^T of an M x K matrix as parallel.blocked_gram_many forms it: the
    M(M+1)/2 entries of the lower triangle, 2K flops each (a multiply and an add, as GEMM's 2MNK counts),
    i.e. M(M+1)K, about half of the 2M^2K of a full GEMM.  Rates in GFLOP/s count these flops, so they
    compare directly with the GEMM rate."""
    return float(M) * (M + 1) * K


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


def rates_cache_file() -> Path:
    """Where this machine's measured rates are kept."""
    root = os.environ.get("RIDGERENORM_CACHE_DIR")
    if not root:
        root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ridgerenorm"
    return Path(root) / "machine_rates.json"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith(("model name", "hardware", "cpu model")):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_key(threads: int) -> str:
    """What the measured rates depend on, as one string: CPU, cores, threads, numpy, BLAS and its kernel."""
    from threadpoolctl import threadpool_info

    libs = [lib for lib in threadpool_info() if lib.get("user_api") == "blas"]
    # numpy's own BLAS does the measured matmul (scipy may have loaded another one, or not yet)
    own = [lib for lib in libs if "numpy" in str(lib.get("filepath", ""))] or libs
    blas = sorted(f"{lib.get('internal_api')} {lib.get('version')} {lib.get('architecture')}" for lib in own)
    return " | ".join([_cpu_model(), f"{os.cpu_count()} cores", f"{int(threads)} threads",
                       f"numpy {np.__version__}", *blas])


def machine_rates(threads: int, remeasure: bool = False) -> dict:
    """measured_rates(threads), measured once per machine and kept in rates_cache_file(); the dict also
    says when it was measured ("measured") and whether this call measured it ("fresh").  A cache that
    cannot be read or written only costs a new measurement."""
    path, key = rates_cache_file(), machine_key(threads)
    try:
        table = json.loads(path.read_text())
        if not isinstance(table, dict):
            table = {}
    except (OSError, ValueError):
        table = {}
    hit = table.get(key)
    if not remeasure and isinstance(hit, dict) and all(isinstance(hit.get(k), float) and hit[k] > 0
                                                       for k in ("gemm", "factor")):
        return {**hit, "fresh": False}
    rates = measured_rates(threads)
    rates["measured"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    table[key] = rates
    try:
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")
    except OSError:
        pass
    return {**rates, "fresh": True}
