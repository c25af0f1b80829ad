"""Ridge fits behind one contract (docs/theory.md §3, §7).

A batch of row sets (data draws, or feature draws of one data draw) is turned once into its normal-equation
systems for every sample size P of the grid (`build_systems`): the P x P Gram of the leading rows where P is
below the number of columns, otherwise the covariance accumulated over row blocks.  Each fit then goes to
one solver, all with the same contract, as scikit-learn's `_solve_*` functions:

    solver(system, labels, lam) -> Fit(coef, etr, df1_hat, kappa_hat, fit_frac)

- `solve_gram`: dual form through the Gram K = X_P X_P^T / P (P < n);
- `solve_covariance`: primal form through C = X_P^T X_P / P (P >= n);
- `solve_min_norm`: lambda = 0 minimum-norm solve of an SPD system (the width sweep).

Each fit factorizes once: Cholesky plus a triangular inverse for lambda > 0 (tr A^-1 = |L^-1|_F^2 gives df1
and the GCV kappa), eigh for lambda = 0 or when Cholesky fails.  `Systems.fit` is the one dispatch point and
adds the GCV estimate of the excess risk, (kappa_hat/lam)^2 E_tr - sigma_eps^2.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import scipy.linalg

from .parallel import blocked_gram_many, gram_flops, matmul_each

__all__ = ["Fit", "split_grid", "solve_gram", "solve_covariance", "solve_min_norm", "Systems", "build_systems",
           "systems_flops"]


class Fit(NamedTuple):
    coef: np.ndarray  # (n_columns, 2): readout for the [clean, noise] label columns
    etr: float  # training error (1/P)|y - X coef|^2 of the summed labels
    df1_hat: float  # (1/D) tr Sigma_hat (Sigma_hat + lam)^-1
    kappa_hat: float  # lam / (1 - fit_frac): estimates the renormalized ridge of the readout
    fit_frac: float  # (1/P) tr K (K + lam)^-1


def split_grid(P_grid, n_columns: int):
    """Ascending integer sample sizes, P_max, which P solve through the P x P Gram (P < n_columns; the
    rest through the n x n covariance), and the largest such P (0 if none)."""
    P_grid = np.asarray(P_grid, dtype=np.int64)
    if P_grid.ndim != 1 or P_grid.size == 0 or np.any(np.diff(P_grid) <= 0):
        raise ValueError("P_grid must be a non-empty, strictly ascending 1-D array")
    dual = P_grid < n_columns
    return P_grid, int(P_grid[-1]), dual, int(P_grid[dual].max()) if dual.any() else 0


def chol_inverse_trace(A):
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


def cho_solve(L, B):
    """A^-1 B from the lower Cholesky factor L of A."""
    X, info = scipy.linalg.lapack.dpotrs(L, B, lower=1)
    if info != 0:
        raise ValueError(f"dpotrs: illegal argument {-info}")
    return X


def solve_gram(K, Xp, Y, lam, D) -> Fit:
    """Ridge through the P x P Gram K = Xp Xp^T / P; Y = [clean, noise] labels (P, 2).  The coefficients
    are returned in the columns' space (Xp^T alpha / P)."""
    P = K.shape[0]
    chol = chol_inverse_trace(K + lam * np.eye(P)) if lam > 0 else None
    if chol is not None:
        L, tr_inv = chol
        alpha = cho_solve(L, Y)
        beta = Xp.T @ alpha / P
        etr = float(np.sum((lam * alpha.sum(axis=1)) ** 2) / P)  # residual = lam (K + lam)^-1 y
        fit_sum = P - lam * tr_inv
        return Fit(beta, etr, fit_sum / D, P / tr_inv, fit_sum / P)
    s, U = np.linalg.eigh(K)
    s = np.clip(s, 0.0, None)
    a = U.T @ Y
    coef = a / (s + lam)[:, None]
    beta = Xp.T @ (U @ coef) / P  # (n_columns, 2)
    fit = s / (s + lam) if lam > 0 else np.ones_like(s)
    resid = (1.0 - fit)[:, None] * a  # lam (K+lam)^-1 y in the eigenbasis
    etr = float(np.sum(resid.sum(axis=1) ** 2) / P)
    return Fit(beta, etr, float(fit.sum() / D), 1.0 / float(np.mean(1.0 / (s + lam))), float(fit.sum() / P))


def solve_covariance(C, B, yy, lam, D, P) -> Fit:
    """Ridge through the n x n covariance C = X^T X / P; B = X^T [clean, noise] / P (n, 2), yy = |y|^2/P."""
    n = C.shape[0]
    chol = chol_inverse_trace(C + lam * np.eye(n)) if lam > 0 else None
    if chol is not None:
        L, tr_inv = chol
        coef = cho_solve(L, B)
        c_tot = coef.sum(axis=1)
        etr = float(yy - 2.0 * c_tot @ B.sum(axis=1) + c_tot @ (C @ c_tot))
        df1_hat = (n - lam * tr_inv) / D
    else:
        s, V = np.linalg.eigh(C)
        s = np.clip(s, 0.0, None)
        a = V.T @ B
        c = a / (s + lam)[:, None]
        c_tot = c.sum(axis=1)
        etr = float(yy - 2.0 * c_tot @ a.sum(axis=1) + np.sum(s * c_tot**2))
        fit = s / (s + lam) if lam > 0 else (s > 0).astype(float)
        coef, df1_hat = V @ c, float(fit.sum() / D)
    fit_frac = df1_hat * D / P
    kappa_hat = lam / (1.0 - fit_frac) if lam > 0 else (0.0 if P > n else np.nan)
    return Fit(coef, etr, df1_hat, kappa_hat, fit_frac)


def solve_min_norm(A, b):
    """Solve the SPD system A x = b (Cholesky; eigh with a relative cutoff if A is numerically singular)."""
    try:
        return scipy.linalg.cho_solve(scipy.linalg.cho_factor(A, lower=True, check_finite=False), b, check_finite=False)
    except np.linalg.LinAlgError:
        s, V = np.linalg.eigh(A)
        keep = s > s.max() * A.shape[0] * np.finfo(float).eps
        return V[:, keep] @ ((V[:, keep].T @ b) / s[keep])


@dataclass
class Systems:
    """The normal-equation systems of a batch of b row sets at every P of the grid: `gram` (b, Pd, Pd) for
    the P solved in dual form, `covariance[jp]` = (C/P, B/P, yy/P) for the others.  `rows` (b, P_max, n),
    `clean` and `noise` (b, P_max) are the rows and the two label columns the systems were built from."""

    P_grid: np.ndarray
    dual: np.ndarray
    rows: np.ndarray
    clean: np.ndarray
    noise: np.ndarray
    gram: np.ndarray | None = None
    covariance: dict = field(default_factory=dict)

    def fit(self, t: int, jp: int, lam: float, D: int, sigma_eps: float):
        """Fit batch element t at the jp-th sample size: the solver's coefficients (n, 2) and the per-fit
        statistics E_tr, df1_hat, kappa_hat and the GCV estimate (NaN at lam = 0)."""
        P = int(self.P_grid[jp])
        if self.dual[jp]:
            Y = np.stack([self.clean[t, :P], self.noise[t, :P]], axis=1)
            fit = solve_gram(self.gram[t, :P, :P] / P, self.rows[t, :P], Y, lam, D)
        else:
            C, B, yy = self.covariance[jp]
            fit = solve_covariance(C[t], B[t], yy[t], lam, D, P)
        gcv = fit.etr / (1.0 - fit.fit_frac) ** 2 - sigma_eps**2 if lam > 0 else np.nan
        return fit.coef, {"etr": fit.etr, "df1_hat": fit.df1_hat, "kappa_hat": fit.kappa_hat, "gcv": gcv}


def systems_flops(P_grid, n_columns: int) -> float:
    """Flops build_systems does for one row set: the Gram of the leading rows (symmetric rank-k), the
    covariance accumulated over all P_max rows when some P is solved in primal form, and X^T [clean, noise]."""
    P_grid, P_max, dual, Pd = split_grid(P_grid, n_columns)
    primal_rows = 0 if dual.all() else P_max
    return gram_flops(Pd, n_columns) + primal_rows * (gram_flops(n_columns, 1) + 4.0 * n_columns)


def build_systems(X, clean, noise, P_grid, threads, work=None):
    """Systems of the row sets X (b, P_max, n) with labels clean, noise (b, P_max), through
    blocked_gram_many (bit-stable in the thread count), and their flop count (systems_flops).  `work` (a dict, kept
    by the caller across draws of equal shape) holds the arrays for reuse: fresh multi-GB arrays per draw
    cost more in page faults than the arithmetic done in them."""
    b, _, n = X.shape
    P_grid, _, dual, Pd = split_grid(P_grid, n)
    work = {} if work is None else work

    def buffer(key, shape):
        if key not in work or work[key].shape != shape:
            work[key] = np.empty(shape)
        return work[key]

    systems = Systems(P_grid, dual, X, clean, noise)
    flops = 0.0
    if Pd:
        systems.gram = buffer("K", (b, Pd, Pd))
        blocked_gram_many([(X[t, :Pd], systems.gram[t]) for t in range(b)], threads)
        flops += b * gram_flops(Pd, n)
    if (~dual).any():
        C = buffer("C", (b, n, n))
        C[...] = 0.0
        B = np.zeros((b, n, 2))
        B_seg = np.empty((b, n, 2))
        yy = np.zeros(b)
        Y = np.stack([clean, noise], axis=2)  # (b, P_max, 2)
        start = 0
        for jp in np.flatnonzero(~dual):
            P = int(P_grid[jp])
            rows = X[:, start:P]
            blocked_gram_many([(rows[t].T, C[t]) for t in range(b)], threads, accumulate=True)
            matmul_each([(rows[t].T, Y[t, start:P], B_seg[t]) for t in range(b)], threads)  # read rows once more
            B += B_seg
            yy += np.sum((clean[:, start:P] + noise[:, start:P]) ** 2, axis=1)
            flops += b * (P - start) * (gram_flops(n, 1) + 4.0 * n)
            start = P
            systems.covariance[jp] = (np.divide(C, P, out=buffer(("C/P", jp), C.shape)), B / P, yy / P)
    return systems, flops
