"""The fixed-partition thread pool and blocked GEMM.

Every BLAS/LAPACK call runs on one thread (callers hold threadpool_limits(1)); parallelism comes from our own
pool, whose tasks release the GIL.  OpenBLAS's own threading changes the last bits of GEMM (edge tiles take
other kernels depending on the thread partition), of matrix-vector products and of factorizations, so large
products are cut into fixed 256-row blocks and fits are spread over the pool: the partition depends on the
shapes only, never on the thread count, and results are bit-identical for any --cores.

Gram and covariance matrices (A A^T) are symmetric, so `blocked_gram_many` computes their lower triangle only
(BLAS syrk on the diagonal blocks, GEMM left of them) and mirrors it: M(M+1)K flops instead of GEMM's 2M^2K.
"""

from __future__ import annotations

import functools
from concurrent.futures import ThreadPoolExecutor

import numpy as np

__all__ = ["MATMUL_BLOCK", "FIT_RUN_COST", "worker_pool", "blocked_matmul", "blocked_matmul_many", "matmul_each",
           "gram", "blocked_gram_many", "gram_flops", "map_fits"]

FIT_RUN_COST = 300.0**3  # side^3 of the fits one pool task takes together (~1 ms of factorization; map_fits)
MATMUL_BLOCK = 256  # rows per GEMM block: fixed, so results do not depend on the thread count


@functools.lru_cache(maxsize=None)
def worker_pool(threads: int) -> ThreadPoolExecutor:
    """One long-lived pool per thread count: the fits and GEMM blocks are many and small (C2 runs
    ~10^4 of them per job), so starting a pool per call cost as much as the work.  Tasks must not wait
    on the pool themselves (that could deadlock it); only the main thread submits."""
    return ThreadPoolExecutor(max_workers=max(1, threads))


def blocked_matmul(A, B, threads: int, out=None, accumulate: bool = False):
    """A @ B for 2-D A (M x K) and B (K x N), computed as fixed 256-row blocks of A spread over a pool of
    `threads` workers, each block a single-threaded GEMM (call under threadpool_limits(1)).  With
    accumulate=True the product is added into `out`."""
    if out is None:
        out = np.zeros((A.shape[0], B.shape[1])) if accumulate else np.empty((A.shape[0], B.shape[1]))
    blocked_matmul_many([(A, B, out)], threads, accumulate)
    return out


def blocked_matmul_many(products, threads: int, accumulate: bool = False) -> None:
    """out = A @ B (or out += A @ B) for every (A, B, out) of `products`, as one pool of the same fixed
    256-row blocks blocked_matmul uses (so the bits are those of separate calls): a batch of small
    products keeps every thread busy where one product alone has a single block."""

    def run(task):
        A, B, out, start = task
        block = A[start:start + MATMUL_BLOCK] @ B
        if accumulate:
            out[start:start + MATMUL_BLOCK] += block
        else:
            out[start:start + MATMUL_BLOCK] = block

    tasks = [(A, B, out, start) for A, B, out in products for start in range(0, A.shape[0], MATMUL_BLOCK)]
    list(worker_pool(threads).map(run, tasks))


def gram(A) -> np.ndarray:
    """A A^T (M x M, exactly symmetric) of a 2-D float64 A (M x K) as one BLAS syrk call: numpy's matmul
    calls syrk (the upper triangle, M(M+1)K flops) and mirrors it whenever its two operands are one buffer
    and its transpose, as here.  Any strided view with a unit stride goes to BLAS uncopied (a covariance's
    column block X[:, I]^T too).  benchmarks/kernels.py times it against GEMM."""
    return np.matmul(A, A.T)


def gram_flops(M: int, K: int) -> float:
    """Flops of the symmetric product A A^T of an M x K matrix as parallel.blocked_gram_many forms it: the
    M(M+1)/2 entries of the lower triangle, 2K flops each (a multiply and an add, as GEMM's 2MNK counts),
    i.e. M(M+1)K, about half of the 2M^2K of a full GEMM.  Rates in GFLOP/s count these flops, so they
    compare directly with the GEMM rate."""
    return float(M) * (M + 1) * K


def blocked_gram_many(products, threads: int, accumulate: bool = False) -> None:
    """out = A A^T (or out += A A^T) for every (A, out) of `products` (A: M x K, out: M x M, C-ordered),
    in the fixed 256-row blocks of blocked_matmul_many: the task of rows I forms the diagonal block
    A_I A_I^T by syrk (`gram`) and the block left of it, A_I A_{<I}^T, by one GEMM, and writes both into
    the lower triangle and, transposed, into the upper one, so `out` is exactly symmetric (with accumulate,
    both triangles add the same numbers in the same order).  The blocks depend on the shapes only, so the
    bits do not depend on the thread count; tasks go to the pool largest first (order changes no bits)."""

    def run(task):
        A, out, start = task
        stop = min(start + MATMUL_BLOCK, A.shape[0])
        rows = A[start:stop]
        diag = gram(rows)
        left = rows @ A[:start].T if start else None
        if accumulate:
            out[start:stop, start:stop] += diag
            if start:
                out[start:stop, :start] += left
                out[:start, start:stop] += left.T
        else:
            out[start:stop, start:stop] = diag
            if start:
                out[start:stop, :start] = left
                out[:start, start:stop] = left.T

    tasks = [(A, out, start) for A, out in products for start in range(0, A.shape[0], MATMUL_BLOCK)]
    tasks.sort(key=lambda task: -task[2])
    list(worker_pool(threads).map(run, tasks))


def matmul_each(products, threads: int) -> None:
    """out = A @ B for every (A, B, out), each one whole single-threaded product (the same BLAS call
    numpy's stacked matmul makes per matrix, so the bits are those of one stacked call), over the pool.
    Beside blocked_matmul_many on purpose: this keeps whole products, that one cuts them into blocks."""

    def run(task):
        A, B, out = task
        np.matmul(A, B, out=out)

    list(worker_pool(threads).map(run, products))


def map_fits(fn, fits, sides, threads: int) -> list:
    """[fn(fit) for fit in fits] over the pool, in order.  Fits of matrix side `sides` go to the pool in
    runs of about FIT_RUN_COST (side^3) each: a task per 100 x 100 fit cost more than the fit itself,
    while fits of side >= 300 still get a task each, so the threads finish together."""
    runs, current, cost = [], [], 0.0
    for fit, side in zip(fits, sides):
        current.append(fit)
        cost += float(side) ** 3
        if cost >= FIT_RUN_COST:
            runs.append(current)
            current, cost = [], 0.0
    if current:
        runs.append(current)
    done = worker_pool(threads).map(lambda run: [fn(fit) for fit in run], runs)
    return [result for run in done for result in run]
