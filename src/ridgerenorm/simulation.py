"""Exact, vectorized CPU simulation of ridge regression (THEORY.md §3, §7).

Design choices that matter for speed and reproducibility:
- One draw of P_max rows per data draw; every smaller P uses its leading rows (common random numbers),
  so the Gram matrix X X^T (P < D) or the covariance X^T X (P >= D, accumulated over row blocks) is
  formed once per draw, not once per P.
- Every BLAS/LAPACK call runs on one thread; parallelism comes from our own thread pool (the calls
  release the GIL).  OpenBLAS's own threading changes the last bits of GEMM (edge tiles take other
  kernels depending on the thread partition), of matrix-vector products and of factorizations, so large
  products are cut into fixed 256-row blocks (blocked_matmul) and fits are spread over draws: the
  partition depends on the shapes only, never on the thread count.
- Each fit factorizes once: Cholesky plus a triangular inverse for lambda > 0 (tr (A)^-1 = |L^-1|_F^2
  gives df1 and the GCV kappa), eigh for lambda = 0 or when Cholesky fails.  Together with one
  SeedSequence per (experiment, draw), every draw's numbers are identical whatever --cores, block
  size or chunking is used.
- Errors are exact population risks |beta - w|^2_Sigma, kept as whitened error vectors so the merge
  step can form unbiased variance components across draws.
- Small problems are overhead-bound, not flop-bound (C2: 10^4 fits of 100 x 100 per job), so one
  long-lived pool serves every call, small fits go to it in runs, the big arrays (features, Gram and
  covariance snapshots) are allocated once per feature group and reused by every data draw, and the
  next draw's rows are generated while the current draw's fits run.  None of this changes the
  arithmetic: the outputs are bit-identical to the one-task-per-fit, fresh-array version.
"""

from __future__ import annotations

import functools
import sys
import time
import zlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.linalg
from threadpoolctl import threadpool_limits

__all__ = ["seed_sequence", "simulate_linear_ridge", "Progress"]

STREAM_DATA = 0  # X and label noise of data draw i
STREAM_FEATURES = 1  # feature weights of feature draw j (random-feature models)


def experiment_key(name: str) -> int:
    """Stable 32-bit integer for an experiment name (crc32 is fixed across Python versions)."""
    return zlib.crc32(name.encode("utf-8"))


def seed_sequence(root_seed: int, experiment: str, stream: int, *index: int) -> np.random.SeedSequence:
    """The random stream of one draw, keyed by (root seed, experiment, stream, draw index or indices:
    the additive feature noise of a pair is keyed by (data draw, feature draw))."""
    return np.random.SeedSequence([int(root_seed), experiment_key(experiment), int(stream), *map(int, index)])


class Progress:
    """Writes 'done/total, elapsed, remaining' lines to a stream (the rule's log).  A simulation that
    splits its work further (feature groups) sets `total` itself."""

    def __init__(self, total: int, label: str, stream=sys.stderr):
        self.total, self.label, self.stream = total, label, stream
        self.start = time.perf_counter()

    def update(self, done: int) -> None:
        elapsed = time.perf_counter() - self.start
        remaining = elapsed / done * (self.total - done) if done else float("nan")
        print(
            f"[{self.label}] draws {done}/{self.total}  elapsed {elapsed:7.1f} s  remaining ~{remaining:7.1f} s",
            file=self.stream,
            flush=True,
        )


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


def _matmul_each(products, threads: int) -> None:
    """out = A @ B for every (A, B, out), each one whole single-threaded product (the same BLAS call
    numpy's stacked matmul makes per matrix, so the bits are those of one stacked call), over the pool."""

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


def _split_grid(P_grid, n_features: int):
    """Ascending integer sample sizes, P_max, which P solve through the P x P Gram (P < n_features;
    the rest through the n x n covariance), and the largest such P (0 if none)."""
    P_grid = np.asarray(P_grid, dtype=np.int64)
    if P_grid.ndim != 1 or P_grid.size == 0 or np.any(np.diff(P_grid) <= 0):
        raise ValueError("P_grid must be a non-empty, strictly ascending 1-D array")
    dual = P_grid < n_features
    return P_grid, int(P_grid[-1]), dual, int(P_grid[dual].max()) if dual.any() else 0


def bytes_per_draw(D: int, P_grid) -> float:
    """Peak memory one data draw needs: its rows, Gram or covariance, and the stored error vectors."""
    P_grid, P_max, dual, Pd = _split_grid(P_grid, D)
    return 8.0 * (P_max * (D + 3) + Pd * Pd + _covariance_copies(dual) * D * D + P_grid.size * D * 2)


def _covariance_copies(dual) -> int:
    """D x D (or N x N) matrices _grams holds: the running covariance plus one scaled snapshot per P
    solved through it (0 when every P goes through the Gram)."""
    n_primal = int((~dual).sum())
    return n_primal + 1 if n_primal else 0


def _draws_per_chunk(D: int, P_grid, n_draws: int, mem_budget_bytes: float) -> int:
    """Data draws a linear-ridge job processes together within the memory budget (at least 1)."""
    return int(max(1, min(n_draws, mem_budget_bytes // bytes_per_draw(D, P_grid))))


def job_memory_mb(spec: dict, n_draws: int, mem_budget_bytes: float, threads: int) -> int:
    """Memory (MB) a simulation job of `n_draws` data draws declares to the scheduler, from its array
    sizes: the chunk or feature group that fits the budget, stored outputs and eigh workspace."""
    from .spectra import sample_sizes

    if spec["model"] == "rf_width_sweep":
        return int(_sweep_sizes(spec)["bytes"] / 1e6 * 1.2) + 300
    D = int(spec["D"])
    P_grid = sample_sizes(spec["samples"], D)
    if spec["model"] == "random_features":
        N, m = int(spec["widths"][-1]), int(spec["feature_draws"])
        g = rf_group_size(D, P_grid, N, m, mem_budget_bytes)
        need = rf_group_bytes(D, P_grid, N, g) + 8.0 * n_draws * m * P_grid.size * (N + 6)
        side = min(int(P_grid.max()), N)
    else:
        need = _draws_per_chunk(D, P_grid, n_draws, mem_budget_bytes) * bytes_per_draw(D, P_grid) + 8.0 * n_draws * P_grid.size * (D + 6)
        side = min(int(P_grid.max()), D)
    workspace = threads * 8.0 * 3 * side * side
    return int((need + workspace) / 1e6 * 1.2) + 300


def _factor_flops(n: int, lam: float) -> float:
    """Nominal flops of one factorization: Cholesky + triangular inverse (2n^3/3) for lam > 0, else
    eigh (counted as 4n^3)."""
    return (2.0 / 3.0) * n**3 if lam > 0 else 4.0 * n**3


def _chol_inverse_trace(A):
    """Cholesky factor of the SPD matrix A and tr(A^-1) = |L^-1|_F^2; None if A is not numerically SPD.
    About 2n^3/3 flops: 5-6x faster than eigh at n = 1000-2000."""
    # LAPACK called directly (what scipy.linalg.cholesky / cho_solve call, without their checks): the
    # wrappers' overhead was a third of a 100 x 100 fit
    L, info = scipy.linalg.lapack.dpotrf(A, lower=1, clean=1)
    if info != 0:
        return None
    Linv, info = scipy.linalg.lapack.dtrtri(L, lower=1)
    if info != 0:
        return None
    return L, float(np.sum(Linv * Linv))


def _cho_solve(L, B):
    """A^-1 B from the lower Cholesky factor L of A."""
    X, info = scipy.linalg.lapack.dpotrs(L, B, lower=1)
    if info != 0:
        raise ValueError(f"dpotrs: illegal argument {-info}")
    return X


def _fit_dual(K, Xp, Y, lam, D):
    """Ridge through the P x P Gram K = Xp Xp^T / P.  Y = [clean, noise] labels (P, 2).
    Returns the coefficients in the columns' space, E_tr, df1_hat, kappa_hat and fit_frac =
    (1/P) tr K (K + lam)^-1."""
    P = K.shape[0]
    chol = _chol_inverse_trace(K + lam * np.eye(P)) if lam > 0 else None
    if chol is not None:
        L, tr_inv = chol
        alpha = _cho_solve(L, Y)
        beta = Xp.T @ alpha / P
        etr = float(np.sum((lam * alpha.sum(axis=1)) ** 2) / P)  # residual = lam (K + lam)^-1 y
        fit_sum = P - lam * tr_inv
        return beta, etr, fit_sum / D, P / tr_inv, fit_sum / P
    s, U = np.linalg.eigh(K)
    s = np.clip(s, 0.0, None)
    a = U.T @ Y
    coef = a / (s + lam)[:, None]
    beta = Xp.T @ (U @ coef) / P  # (n_features, 2)
    fit = s / (s + lam) if lam > 0 else np.ones_like(s)
    resid = (1.0 - fit)[:, None] * a  # lam (K+lam)^-1 y in the eigenbasis
    etr = float(np.sum(resid.sum(axis=1) ** 2) / P)
    return beta, etr, float(fit.sum() / D), 1.0 / float(np.mean(1.0 / (s + lam))), float(fit.sum() / P)


def _fit_primal(C, B, yy, lam, D):
    """Ridge through the n x n covariance C = X^T X / P; B = X^T [clean, noise] / P (n, 2), yy = |y|^2/P.
    Returns coefficients, E_tr and df1_hat (kappa_hat and fit_frac need P: the caller adds them)."""
    n = C.shape[0]
    chol = _chol_inverse_trace(C + lam * np.eye(n)) if lam > 0 else None
    if chol is not None:
        L, tr_inv = chol
        coef = _cho_solve(L, B)
        c_tot = coef.sum(axis=1)
        etr = float(yy - 2.0 * c_tot @ B.sum(axis=1) + c_tot @ (C @ c_tot))
        return coef, etr, (n - lam * tr_inv) / D
    s, V = np.linalg.eigh(C)
    s = np.clip(s, 0.0, None)
    a = V.T @ B
    coef = a / (s + lam)[:, None]
    c_tot = coef.sum(axis=1)
    etr = float(yy - 2.0 * c_tot @ a.sum(axis=1) + np.sum(s * c_tot**2))
    fit = s / (s + lam) if lam > 0 else (s > 0).astype(float)
    return V @ coef, etr, float(fit.sum() / D)


def _draw_chunk(draw_ids, P_max, sqrt_eta, sigma_eps, experiment, seed, threads):
    """Rows X (b, P_max, D) and label noise (b, P_max) of the given data draws, generated in parallel
    (numpy's generators release the GIL).  Rows come first, then noise, so every P uses a prefix."""
    b, D = len(draw_ids), sqrt_eta.size
    X = np.empty((b, P_max, D))
    eps = np.empty((b, P_max))

    def generate(t):
        _fill_rows(X[t], eps[t], draw_ids[t], sqrt_eta, sigma_eps, experiment, seed)

    list(worker_pool(threads).map(generate, range(b)))
    return X, eps


def _fill_rows(X, eps, draw, sqrt_eta, sigma_eps, experiment, seed) -> None:
    """Rows (P_max, D) and label noise (P_max) of one data draw, written into X and eps."""
    rng = np.random.default_rng(seed_sequence(seed, experiment, STREAM_DATA, draw))
    rng.standard_normal(out=X)
    rng.standard_normal(out=eps)
    X *= sqrt_eta
    eps *= sigma_eps


def simulate_linear_ridge(
    eta,
    w,
    P_grid,
    lam_grid,
    sigma_eps: float,
    draws,
    *,
    experiment: str,
    seed: int,
    threads: int = 1,
    mem_budget_bytes: float = 4e9,
    progress: Progress | None = None,
):
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
    P_grid, P_max, dual, Pd = _split_grid(P_grid, D)
    nP = P_grid.size
    sqrt_eta = np.sqrt(eta)

    out = {name: np.empty((n, nP)) for name in ("eg", "etr", "df1_hat", "kappa_hat", "gcv", "noise_sq")}
    out["e_clean"] = np.empty((n, nP, D))
    chunk = _draws_per_chunk(D, P_grid, n, mem_budget_bytes)
    flops = flops_factor = 0.0
    work = {}
    for c0 in range(0, n, chunk):
        idx = list(range(c0, min(n, c0 + chunk)))
        with threadpool_limits(limits=1, user_api="blas"):
            X, eps = _draw_chunk([draws[i] for i in idx], P_max, sqrt_eta, sigma_eps, experiment, seed, threads)
            yc = X @ w  # (b, P_max)
            grams, f = _grams(X, yc, eps, P_grid, dual, Pd, threads, work)
            flops += f + 2.0 * len(idx) * P_max * D
            tasks = [(t, jp) for jp in range(nP) for t in range(len(idx))]

            def run(task):
                t, jp = task
                return task, _fit_one(grams, X, yc, eps, t, jp, int(P_grid[jp]), float(lam_grid[jp]),
                                      bool(dual[jp]), sqrt_eta, w, sigma_eps)

            sides = [min(int(P_grid[jp]), D) for _, jp in tasks]
            for (t, jp), res in map_fits(run, tasks, sides, threads):
                for name, value in res.items():
                    out[name][idx[t], jp] = value
        flops_factor += len(idx) * sum(_factor_flops(min(int(P), D), lam) for P, lam in zip(P_grid, lam_grid))
        if progress is not None:
            progress.update(idx[-1] + 1)
    out["flops"] = flops
    out["flops_factor"] = flops_factor
    return out


def _grams(X, yc, eps, P_grid, dual, Pd, threads, work=None):
    """Gram matrix of the first Pd rows (for every P < D) and covariances accumulated over row
    blocks (for every P >= D), per batch element, through blocked_matmul_many (bit-stable in threads).
    `work` (a dict, kept by the caller across draws of equal shape) holds the arrays for reuse:
    fresh multi-GB arrays per draw cost more in page faults than the arithmetic done in them."""
    b, _, D = X.shape
    work = {} if work is None else work

    def buffer(key, shape):
        if key not in work or work[key].shape != shape:
            work[key] = np.empty(shape)
        return work[key]

    grams = {}
    flops = 0.0
    if Pd:
        grams["K"] = buffer("K", (b, Pd, Pd))
        blocked_matmul_many([(X[t, :Pd], X[t, :Pd].T, grams["K"][t]) for t in range(b)], threads)
        flops += 2.0 * b * Pd * Pd * D
    if (~dual).any():
        C = buffer("C", (b, D, D))
        C[...] = 0.0
        B = np.zeros((b, D, 2))
        B_seg = np.empty((b, D, 2))
        yy = np.zeros(b)
        Y = np.stack([yc, eps], axis=2)  # (b, P_max, 2)
        start = 0
        for jp in np.flatnonzero(~dual):
            P = int(P_grid[jp])
            rows = X[:, start:P]
            blocked_matmul_many([(rows[t].T, rows[t], C[t]) for t in range(b)], threads, accumulate=True)
            _matmul_each([(rows[t].T, Y[t, start:P], B_seg[t]) for t in range(b)], threads)  # read rows once more
            B += B_seg
            yy += np.sum((yc[:, start:P] + eps[:, start:P]) ** 2, axis=1)
            flops += 2.0 * b * (P - start) * D * (D + 2)
            start = P
            grams[jp] = (np.divide(C, P, out=buffer(("C/P", jp), C.shape)), B / P, yy / P)
    return grams, flops


def _fit_one(grams, X, yc, eps, t, jp, P, lam, dual, sqrt_eta, w, sigma_eps) -> dict:
    """All per-draw outputs of draw t at sample size P (runs on one BLAS thread inside the pool)."""
    beta, stats = _ridge_fit(grams, X, yc, eps, t, jp, P, lam, dual, sqrt_eta.size, sigma_eps)
    e_c = sqrt_eta * (beta[:, 0] - w)
    e_n = sqrt_eta * beta[:, 1]
    e_tot = e_c + e_n
    return {"e_clean": e_c, "eg": float(e_tot @ e_tot), "noise_sq": float(e_n @ e_n), **stats}


# ------------------------------------------------------------------------------------------------
# Random features (THEORY.md §4, §5, §7): a grid of data draws i x feature draws j.
# ------------------------------------------------------------------------------------------------

STREAM_FEATURE_NOISE = 2  # additive feature noise xi of the pair (i, j)


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


def rf_group_bytes(D: int, P_grid, N: int, g: int) -> float:
    """Peak memory of one data draw against a group of g feature draws: rows, the group's weights and
    features, one 256-row block of features per thread (two threads counted), Gram or covariance
    matrices and eigh workspace."""
    P_grid, P_max, dual, Pd = _split_grid(P_grid, N)
    block = 2 * MATMUL_BLOCK * N
    return 8.0 * (P_max * (D + 3) + g * (D * N + P_max * N + block + Pd * Pd + (_covariance_copies(dual) + 1) * N * N + 3 * N))


def rf_group_size(D: int, P_grid, N: int, m: int, budget_bytes: float) -> int:
    """Largest number of feature draws handled together within the memory budget (at least 1)."""
    g = m
    while g > 1 and rf_group_bytes(D, P_grid, N, g) > budget_bytes:
        g -= 1
    return g


def simulate_random_features(
    eta,
    w,
    P_grid,
    lam_grid,
    widths,
    sigma_eps: float,
    sigma_xi: float,
    draws,
    n_feature_draws: int,
    *,
    experiment: str,
    seed: int,
    weight_exponent: float = 0.0,
    threads: int = 1,
    mem_budget_bytes: float = 16e9,
    progress: Progress | None = None,
):
    """Simulate linear (sigma_xi = 0) or additive-noise random-feature ridge regression for data
    draws `draws` x feature draws 0..m-1.

    Per (draw, fdraw, P): eg (population risk |F v - w|^2_Sigma + sigma_xi^2 |v|^2), etr, df1_hat,
    kappa_hat (estimates kappa_1), gcv, and v_clean (N), the clean-label coefficients from which the
    merge step rebuilds the two-way decomposition.  Per (draw, P): noise_row_sq = |mean_j e^eps_ij|^2
    and noise_within = sum_j |e^eps_ij - mean_j e^eps_ij|^2 of the label-noise part.
    Feature draws are processed in groups that fit the memory budget; one product X [F_j ...] gives
    the features of a whole group.
    """
    eta, w = np.asarray(eta, dtype=float), np.asarray(w, dtype=float)
    lam_grid = np.asarray(lam_grid, dtype=float)
    draws, widths = list(draws), [int(x) for x in widths]
    D, N, n, m = eta.size, widths[-1], len(draws), int(n_feature_draws)
    P_grid, P_max, dual, Pd = _split_grid(P_grid, N)
    nP = P_grid.size
    out = {name: np.empty((n, m, nP)) for name in ("eg", "etr", "df1_hat", "kappa_hat", "gcv")}
    out["v_clean"] = np.empty((n, m, nP, N))
    noise_sum = np.zeros((n, nP, D + (N if sigma_xi else 0)))
    noise_sq = np.zeros((n, nP))
    g = rf_group_size(D, P_grid, N, m, mem_budget_bytes)
    groups = [list(range(s, min(m, s + g))) for s in range(0, m, g)]
    if progress is not None:
        progress.total = n * len(groups)  # one step per (data draw, feature group)
    flops = flops_factor = 0.0
    steps = 0
    pool = worker_pool(threads)
    sqrt_eta = np.sqrt(eta)
    with threadpool_limits(limits=1, user_api="blas"):
        for group in groups:
            weights = pool.map(lambda j: feature_weights(D, widths, j, experiment=experiment, seed=seed,
                                                         weight_exponent=weight_exponent), group)
            F_grp = np.concatenate(list(weights), axis=1)  # (D, g N)
            flops += len(group) * sum(2.0 * D * a * b for a, b in zip(widths[:-1], widths[1:]))
            work = {"Phi": np.empty((len(group), P_max, N)), "X": np.empty((P_max, D)), "eps": np.empty(P_max)}
            rows = pool.submit(_fill_rows, work["X"], work["eps"], draws[0], sqrt_eta, sigma_eps, experiment, seed)
            for i, draw in enumerate(draws):
                rows.result()  # this draw's rows are in work["X"], work["eps"]
                next_draw = draws[i + 1] if i + 1 < n else None
                f, f_factor, rows = _rf_draw_group(i, draw, next_draw, group, F_grp, work, out, noise_sum, noise_sq,
                                                   eta, w, P_grid, lam_grid, dual, Pd, N, sigma_eps, sigma_xi,
                                                   experiment, seed, threads)
                flops += f
                flops_factor += f_factor
                steps += 1
                if progress is not None:
                    progress.update(steps)
    row_mean = noise_sum / m
    out["noise_row_sq"] = np.einsum("ipd,ipd->ip", row_mean, row_mean)
    out["noise_within"] = noise_sq - m * out["noise_row_sq"]
    out["flops"] = flops
    out["flops_factor"] = flops_factor
    out["feature_groups"] = len(groups)
    return out


def _rf_draw_group(i, draw, next_draw, group, F_grp, work, out, noise_sum, noise_sq, eta, w, P_grid, lam_grid,
                   dual, Pd, N, sigma_eps, sigma_xi, experiment, seed, threads):
    """Fit data draw `draw` (rows in work["X"], work["eps"]) against the feature draws of `group`; fills
    out[...][i, j] and the noise sums of row i (added in j order, so grouping does not change their bits).
    Once the rows are used, the pool starts generating next_draw's (if any) into the same arrays, beside
    this draw's products and fits.  Returns flop counts and that generation's future (or None)."""
    D, P_max, g = eta.size, int(P_grid[-1]), len(group)
    sqrt_eta = np.sqrt(eta)
    yc = work["X"] @ w
    eps = work["eps"].copy()  # the next draw's noise overwrites work["eps"] while the fits run
    Phi = work["Phi"]
    _features(work["X"], F_grp, Phi, threads)
    rows = None
    if next_draw is not None:
        rows = worker_pool(threads).submit(_fill_rows, work["X"], work["eps"], next_draw, sqrt_eta, sigma_eps,
                                           experiment, seed)
    if sigma_xi:
        def add_noise(t):
            rng = np.random.default_rng(seed_sequence(seed, experiment, STREAM_FEATURE_NOISE, draw, group[t]))
            xi = rng.standard_normal((P_max, N))
            xi *= sigma_xi  # in place: this loop draws 10^7-10^8 numbers per data draw and is memory-bound
            Phi[t] += xi

        list(worker_pool(threads).map(add_noise, range(g)))
    grams, f = _grams(Phi, np.broadcast_to(yc, (g, P_max)), np.broadcast_to(eps, (g, P_max)), P_grid, dual, Pd,
                      threads, work)
    f += 2.0 * P_max * D * g * N + 2.0 * P_max * D + 4.0 * g * P_grid.size * D * N

    nP = P_grid.size
    coefs = np.empty((g, nP, N, 2))

    def run(fit):
        t, jp = fit
        P, lam = int(P_grid[jp]), float(lam_grid[jp])
        coefs[t, jp], stats = _ridge_fit(grams, Phi, yc, eps, t, jp, P, lam, bool(dual[jp]), D, sigma_eps)
        for name, value in stats.items():
            out[name][i, group[t], jp] = value

    fits = [(t, jp) for t in range(g) for jp in range(nP)]
    map_fits(run, fits, [min(int(P_grid[jp]), N) for _, jp in fits], threads)
    # beta = F v for every P and both label columns in one GEMM per feature draw (F is read once, not 2 nP times)
    V = coefs.transpose(0, 2, 1, 3).reshape(g, N, 2 * nP)
    betas = np.empty((g, D, 2 * nP))
    blocked_matmul_many([(F_grp[:, t * N:(t + 1) * N], V[t], betas[t]) for t in range(g)], threads)
    for t, j in enumerate(group):
        beta = betas[t].reshape(D, nP, 2)
        e_c = sqrt_eta[:, None] * (beta[:, :, 0] - w[:, None])  # (D, nP)
        e_n = sqrt_eta[:, None] * beta[:, :, 1]
        e_tot = e_c + e_n
        eg = np.einsum("dp,dp->p", e_tot, e_tot)
        if sigma_xi:
            v_tot = coefs[t].sum(axis=2)  # (nP, N)
            eg += sigma_xi**2 * np.einsum("pn,pn->p", v_tot, v_tot)
            e_n = np.concatenate([e_n, sigma_xi * coefs[t, :, :, 1].T], axis=0)
        out["eg"][i, j] = eg
        out["v_clean"][i, j] = coefs[t, :, :, 0]
        noise_sum[i] += e_n.T  # added in j order, so grouping does not change the bits
        noise_sq[i] += np.einsum("dp,dp->p", e_n, e_n)
    return f, g * sum(_factor_flops(min(int(P), N), lam) for P, lam in zip(P_grid, lam_grid)), rows


def _features(X, F_grp, Phi, threads) -> None:
    """Phi[t] = X F_t for the g feature draws of F_grp = [F_1 ... F_g]: each 256-row block of X meets the
    whole group in one GEMM (wide, so fast) and is scattered into the per-draw layout (g, P, N), where
    every later product reads contiguous rows (a strided (P, g N) view cost 30% in those products)."""
    g, _, N = Phi.shape

    def run(start):
        block = X[start:start + MATMUL_BLOCK] @ F_grp
        Phi[:, start:start + MATMUL_BLOCK] = block.reshape(block.shape[0], g, N).transpose(1, 0, 2)

    list(worker_pool(threads).map(run, range(0, X.shape[0], MATMUL_BLOCK)))


def _ridge_fit(grams, Phi, yc, eps, t, jp, P, lam, dual, D, sigma_eps):
    """Coefficients (n_features, 2) for [clean, noise] labels and the per-fit statistics: E_tr, df1_hat,
    kappa_hat and the GCV estimate of the excess risk (kappa_hat/lam)^2 E_tr - sigma_eps^2 (lam > 0)."""
    if dual:
        Y = np.stack([yc[:P], eps[:P]], axis=1) if yc.ndim == 1 else np.stack([yc[t, :P], eps[t, :P]], axis=1)
        coef, etr, df1_hat, kappa_hat, fit_frac = _fit_dual(grams["K"][t, :P, :P] / P, Phi[t, :P], Y, lam, D)
    else:
        Cp, Bp, yyp = grams[jp]
        coef, etr, df1_hat = _fit_primal(Cp[t], Bp[t], yyp[t], lam, D)
        fit_frac = df1_hat * D / P
        n_feat = Cp.shape[-1]
        kappa_hat = lam / (1.0 - fit_frac) if lam > 0 else (0.0 if P > n_feat else np.nan)
    gcv = etr / (1.0 - fit_frac) ** 2 - sigma_eps**2 if lam > 0 else np.nan
    return coef, {"etr": etr, "df1_hat": df1_hat, "kappa_hat": kappa_hat, "gcv": gcv}


def rf_error_statistics(v_clean, eta, w, widths, sigma_xi: float, *, experiment: str, seed: int,
                        weight_exponent: float = 0.0) -> dict:
    """Sufficient statistics for estimators.two_way_components from clean-label coefficients
    v_clean (n, m, nP, N): each F_j is regenerated from its seed and e_ij = Sigma^1/2 (F_j v_ij - w)
    (extended by sigma_xi v_ij for additive-noise features).  Two passes over j in a fixed order, so
    the result depends only on v_clean, never on how the draws were split into jobs."""
    n, m, nP, N = v_clean.shape
    eta, w = np.asarray(eta, dtype=float), np.asarray(w, dtype=float)
    sqrt_eta = np.sqrt(eta)
    D = eta.size

    def errors(j):
        F = feature_weights(D, widths, j, experiment=experiment, seed=seed, weight_exponent=weight_exponent)
        beta = v_clean[:, j] @ F.T  # (n, nP, D) by GEMM
        e = sqrt_eta * (beta - w)
        if sigma_xi:
            e = np.concatenate([e, sigma_xi * v_clean[:, j]], axis=-1)
        return e  # (n, nP, D')

    with threadpool_limits(limits=1, user_api="blas"):
        a = np.empty((n, m, nP))
        b = np.empty((n, m, nP))
        h = np.empty((n, m, nP))
        R = None
        C = []
        for j in range(m):
            e = errors(j)
            R = e.copy() if R is None else R + e
            Cj = e.sum(axis=0)
            C.append(Cj)
            a[:, j] = np.einsum("ipd,ipd->ip", e, e)
            b[:, j] = np.einsum("ipd,pd->ip", e, Cj)
        C = np.stack(C)  # (m, nP, D')
        G = C.sum(axis=0)
        for j in range(m):
            h[:, j] = np.einsum("ipd,ipd->ip", errors(j), R)
    return {
        "a": a, "b": b, "h": h,
        "r": np.einsum("ipd,ipd->ip", R, R),
        "c": np.einsum("jpd,jpd->jp", C, C),
        "g": np.einsum("pd,pd->p", G, G),
        "rg": np.einsum("ipd,pd->ip", R, G),
        "cg": np.einsum("jpd,pd->jp", C, G),
    }


def estimate_flops(spec: dict) -> dict:
    """Flops a whole experiment's simulation will do: 'gemm' (large products, all threads) and
    'factor' (per-fit factorizations, one thread each), counted as the simulation counts them."""
    from .config import ridge_values
    from .spectra import sample_sizes

    if spec["model"] == "rf_width_sweep":
        sizes = _sweep_sizes(spec)
        return {"gemm": sizes["gemm"], "factor": sizes["factor"], "merge": 0.0, "fits": sizes["fits"]}
    D = int(spec["D"])
    P = sample_sizes(spec["samples"], D)
    lam = ridge_values(spec["ridge"], P)
    P_max, n = int(P.max()), int(spec["draws"])
    if spec["model"] == "random_features":
        widths, m = [int(x) for x in spec["widths"]], int(spec["feature_draws"])
        N = widths[-1]
        _, _, dual, Pd = _split_grid(P, N)
        primal_rows = 0 if dual.all() else P_max
        per_pair = (2.0 * P_max * D * N + 2.0 * Pd * Pd * N + 2.0 * primal_rows * N * (N + 2)
                    + 4.0 * P.size * D * N)
        weights = m * sum(2.0 * D * a * b for a, b in zip(widths[:-1], widths[1:]))
        merge = 2 * m * 2.0 * n * P.size * N * D
        factor = n * m * sum(_factor_flops(min(int(p), N), lam_p) for p, lam_p in zip(P, lam))
        return {"gemm": n * m * per_pair + weights, "factor": factor, "merge": merge, "fits": n * m * P.size}
    _, _, dual, Pd = _split_grid(P, D)
    primal_rows = 0 if dual.all() else P_max
    per_draw = 2.0 * P_max * D + 2.0 * Pd * Pd * D + 2.0 * primal_rows * D * (D + 2)
    factor = n * sum(_factor_flops(min(int(p), D), lam_p) for p, lam_p in zip(P, lam))
    return {"gemm": n * per_draw, "factor": factor, "merge": 0.0, "fits": n * P.size}


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
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n_factor, n_factor + 100))
    A = x @ x.T / n_factor + np.eye(n_factor)
    with threadpool_limits(limits=1, user_api="blas"):
        _chol_inverse_trace(A)
        t0 = time.perf_counter()
        _chol_inverse_trace(A)
        factor = _factor_flops(n_factor, 1.0) / (time.perf_counter() - t0) / 1e9
    return {"gemm": matmul_rate(threads), "factor": factor}


def simulate_width_sweep(eta, w, P: int, N_grid, weight_exponents, draws, n_feature_draws: int, *,
                         experiment: str, seed: int, threads: int = 1, progress: Progress | None = None):
    """Minimum-norm (lambda = 0) random features with structured weights F = G diag(k^(-alpha_F/2))/sqrt(D)
    at a fixed sample size P, swept over widths N (nested column prefixes of one G) and exponents alpha_F
    (column rescalings of the same X G): one product X G per (data draw, feature draw) serves them all.

    Returns whitened errors e (n, m, n_alpha, n_N, D) of every pair and eg = |e|^2 (n, m, n_alpha, n_N).
    All data and feature draws are in one call: the two-way decomposition needs every pair.
    """
    eta, w = np.asarray(eta, dtype=float), np.asarray(w, dtype=float)
    N_grid = np.asarray(N_grid, dtype=np.int64)
    alphas = np.asarray(weight_exponents, dtype=float)
    if np.any(np.diff(N_grid) <= 0) or np.any(N_grid == P):
        raise ValueError("N_grid must be strictly ascending and must not contain P (singular at lambda = 0)")
    draws = list(draws)
    D, n, m, N_max = eta.size, len(draws), int(n_feature_draws), int(N_grid[-1])
    sqrt_eta = np.sqrt(eta)
    under = N_grid < P  # N < P: least squares in feature space; else minimum-norm interpolation
    Nu = int(N_grid[under].max()) if under.any() else 0
    k = np.arange(1, N_max + 1, dtype=float)
    scales = k[None, :] ** (-alphas[:, None] / 2.0)  # (n_alpha, N_max)
    e = np.empty((n, m, alphas.size, N_grid.size, D))
    flops = 0.0
    with threadpool_limits(limits=1, user_api="blas"):
        X, _ = _draw_chunk(draws, P, sqrt_eta, 0.0, experiment, seed, threads)  # all data draws (n, P, D)
        Y = X @ w  # (n, P) clean labels
        for j in range(m):
            G = feature_weights(D, [N_max], j, experiment=experiment, seed=seed)  # (D, N_max) = G / sqrt(D)
            for i in range(n):
                Phi = blocked_matmul(X[i], G, threads)  # unscaled features (P, N_max)
                flops += 2.0 * P * D * N_max
                coefs = np.zeros((alphas.size, N_grid.size, N_max))  # c * v: beta = G @ coefs
                if Nu:
                    U = blocked_matmul(Phi[:, :Nu].T, Phi[:, :Nu], threads)
                    u_y = Phi[:, :Nu].T @ Y[i]
                    flops += 2.0 * P * Nu * Nu
                Ks = np.zeros((alphas.size, P, P))
                start = 0
                fits = []
                for jn, N in enumerate(N_grid):
                    N = int(N)
                    if N < P:
                        fits += [("primal", a, jn, N) for a in range(alphas.size)]
                        continue
                    for a in range(alphas.size):  # K_a += Phi diag(c_a^2) Phi^T over the new columns
                        cols = Phi[:, start:N] * scales[a, start:N] ** 2
                        blocked_matmul(cols, Phi[:, start:N].T, threads, out=Ks[a], accumulate=True)
                    flops += 2.0 * alphas.size * P * P * (N - start)
                    start = N
                    fits += [("dual", a, jn, N, Ks[a].copy()) for a in range(alphas.size)]

                def run(fit):
                    kind, a, jn, N = fit[:4]
                    c = scales[a, :N]
                    if kind == "primal":
                        A = U[:N, :N] * np.outer(c, c)
                        return a, jn, N, c * _min_norm_solve(A, c * u_y[:N])
                    alpha = _min_norm_solve(fit[4], Y[i])
                    return a, jn, N, c * c * (Phi[:, :N].T @ alpha)

                for a, jn, N, cv in map_fits(run, fits, [min(fit[3], P) for fit in fits], threads):
                    coefs[a, jn, :N] = cv
                beta = (G @ coefs.reshape(-1, N_max).T).T.reshape(alphas.size, N_grid.size, D)
                e[i, j] = sqrt_eta * (beta - w)
                flops += 2.0 * D * N_max * alphas.size * N_grid.size
                if progress is not None:
                    progress.update(j * n + i + 1)
    return {"e": e, "eg": np.einsum("...d,...d->...", e, e), "flops": flops, "flops_factor": 0.0}


def _min_norm_solve(A, b):
    """Solve the SPD system A x = b (Cholesky; eigh with a relative cutoff if A is numerically singular)."""
    try:
        return scipy.linalg.cho_solve(scipy.linalg.cho_factor(A, lower=True, check_finite=False), b, check_finite=False)
    except np.linalg.LinAlgError:
        s, V = np.linalg.eigh(A)
        keep = s > s.max() * A.shape[0] * np.finfo(float).eps
        return V[:, keep] @ ((V[:, keep].T @ b) / s[keep])


def _sweep_sizes(spec: dict) -> dict:
    """Memory and flops of an rf_width_sweep job (all pairs in one job), as simulate_width_sweep does them."""
    from .config import width_values

    D, P, n, m = int(spec["D"]), int(spec["sample_size"]), int(spec["draws"]), int(spec["feature_draws"])
    N = width_values(spec["width_grid"])
    n_a, N_max = len(spec["weight_exponents"]), int(N.max())
    Nu = int(N[N < P].max()) if (N < P).any() else 0
    per_pair = 2.0 * P * D * N_max + 2.0 * P * Nu * Nu + 2.0 * n_a * P * P * N_max + 2.0 * D * N_max * n_a * N.size
    factor = n * m * n_a * sum(min(int(x), P) ** 3 / 3.0 for x in N)
    memory = 8.0 * (n * P * (D + 1) + D * N_max + 2 * P * N_max + Nu * Nu + n_a * P * P * 2
                    + n_a * N.size * N_max + n * m * n_a * N.size * (D + 4))
    return {"gemm": n * m * per_pair, "factor": factor, "fits": n * m * n_a * N.size, "bytes": memory}
