"""Linear ridge simulation: exactness, agreement with theory, and reproducibility (docs/theory.md §3, §7)."""

import numpy as np
import pytest

from ridgerenorm import theory
from ridgerenorm.estimators import one_way_components
from ridgerenorm.models.linear_ridge import simulate_linear_ridge
from ridgerenorm.streams import STREAM_DATA, seed_sequence
from ridgerenorm.spectra import population


def draw(seed, name, i, P_max, eta, sigma):
    rng = np.random.default_rng(seed_sequence(seed, name, STREAM_DATA, i))
    X = rng.standard_normal((P_max, eta.size)) * np.sqrt(eta)
    eps = rng.standard_normal(P_max) * sigma
    return X, eps


@pytest.mark.parametrize("lam", [1e-2, 0.0])
def test_matches_direct_ridge_solve(lam):
    """Every per-draw output equals the textbook formula on the same draw (both the P x P and D x D paths)."""
    D, sigma = 40, 0.3
    eta, w = population({"kind": "power_law", "D": D, "alpha": 1.5}, {"kind": "power_law", "r": 0.7})
    P_grid = np.array([7, 25, 39, 41, 90])
    out = simulate_linear_ridge(eta, w, P_grid, np.full(5, lam), sigma, range(3), experiment="t", seed=5)
    for i in range(3):
        X, eps = draw(5, "t", i, P_grid[-1], eta, sigma)
        for j, P in enumerate(P_grid):
            Xp, y = X[:P], X[:P] @ w + eps[:P]
            if P < D:
                beta = Xp.T @ np.linalg.solve(Xp @ Xp.T / P + lam * np.eye(P), y) / P
                beta_c = Xp.T @ np.linalg.solve(Xp @ Xp.T / P + lam * np.eye(P), Xp @ w) / P
            else:
                beta = np.linalg.solve(Xp.T @ Xp / P + lam * np.eye(D), Xp.T @ y / P)
                beta_c = np.linalg.solve(Xp.T @ Xp / P + lam * np.eye(D), Xp.T @ (Xp @ w) / P)
            e = np.sqrt(eta) * (beta - w)
            np.testing.assert_allclose(out["eg"][i, j], e @ e, rtol=1e-7)
            np.testing.assert_allclose(out["e_clean"][i, j], np.sqrt(eta) * (beta_c - w), rtol=1e-6, atol=1e-10)
            np.testing.assert_allclose(out["etr"][i, j], np.mean((y - Xp @ beta) ** 2), rtol=1e-6, atol=1e-12)
            s = np.linalg.eigvalsh(Xp.T @ Xp / P)
            np.testing.assert_allclose(out["df1_hat"][i, j], np.sum(s / (s + lam)) / D if lam else np.linalg.matrix_rank(Xp) / D, rtol=1e-8)


def run_and_compare(spectrum, teacher, grid, lam, sigma, n=24):
    eta, w = population(spectrum, teacher)
    P = np.asarray(grid)
    out = simulate_linear_ridge(eta, w, P, np.full(P.size, lam), sigma, range(n), experiment="agree", seed=11, threads=2)
    th = theory.linear_ridge(eta, w, P, lam, sigma)
    comp = one_way_components(out["e_clean"])
    return eta, w, P, out, th, comp


def test_isotropic_simulation_matches_theory():
    eta, w, P, out, th, comp = run_and_compare(
        {"kind": "isotropic", "D": 200}, {"kind": "flat", "norm": 1.0}, [40, 100, 180, 220, 400, 1000], 1e-2, 0.5
    )
    eg = out["eg"].mean(axis=0)
    rel = np.abs(eg / th.eg.values - 1)
    assert np.median(rel) < 0.04, rel
    np.testing.assert_allclose(comp["bias"] + comp["var_x"], (th.bias + th.var_x).values, rtol=0.15)
    np.testing.assert_allclose(out["noise_sq"].mean(axis=0), th.var_xeps.values, rtol=0.15)
    np.testing.assert_allclose(out["kappa_hat"].mean(axis=0), th.kappa.values, rtol=0.05)
    # A theory without renormalization (kappa -> lam in Bias^2 and gamma) misses by far more than the threshold.
    q = 200 / P
    wrong_eg = (1e-2 / (1 + 1e-2)) ** 2 + 0.25 * q * (1 / (1 + 1e-2)) ** 2
    assert np.median(np.abs(eg / wrong_eg - 1)) > 0.3


def test_powerlaw_simulation_matches_theory_and_not_a_perturbed_kappa():
    eta, w, P, out, th, comp = run_and_compare(
        {"kind": "power_law", "D": 1500, "alpha": 1.5}, {"kind": "power_law", "r": 0.6, "norm": 1.0}, [30, 80, 200, 500], 1e-3, 0.1
    )
    eg = out["eg"].mean(axis=0)
    rel = np.abs(eg / th.eg.values - 1)
    assert np.median(rel) < 0.05, rel
    np.testing.assert_allclose(out["df1_hat"].mean(axis=0), th.df1.values, rtol=0.01)
    # The same formulas at a kappa 20 % off fail the same threshold.
    k = 1.2 * th.kappa.values
    q = 1500 / P
    g = q * theory.df2(eta, k)
    wrong = (k**2 * theory.tf1_prime(eta, w, k) + 0.01 * g) / (1 - g)
    assert np.median(np.abs(eg / wrong - 1)) > 0.05


def test_bit_identical_across_threads_blocks_and_chunks():
    eta, w = population({"kind": "power_law", "D": 300, "alpha": 1.2}, {"kind": "power_law", "r": 0.5})
    P = np.array([20, 150, 299, 300, 700])
    lam = np.full(P.size, 1e-3)
    kw = dict(experiment="bits", seed=3)
    full = simulate_linear_ridge(eta, w, P, lam, 0.2, range(6), threads=1, **kw)
    threaded = simulate_linear_ridge(eta, w, P, lam, 0.2, range(6), threads=2, mem_budget_bytes=1e5, **kw)
    first = simulate_linear_ridge(eta, w, P, lam, 0.2, range(0, 4), threads=2, **kw)
    second = simulate_linear_ridge(eta, w, P, lam, 0.2, range(4, 6), threads=1, **kw)
    for key in ("eg", "etr", "df1_hat", "kappa_hat", "gcv", "noise_sq", "e_clean"):
        assert np.array_equal(full[key], threaded[key], equal_nan=True), key
        assert np.array_equal(full[key], np.concatenate([first[key], second[key]]), equal_nan=True), key


def test_nested_prefixes_share_the_draw():
    """Adding sample sizes to the grid must not change the numbers at the others (common random numbers)."""
    eta, w = population({"kind": "isotropic", "D": 50}, {"kind": "flat"})
    a = simulate_linear_ridge(eta, w, np.array([20, 80]), np.full(2, 1e-2), 0.1, range(3), experiment="n", seed=1)
    b = simulate_linear_ridge(eta, w, np.array([20, 30, 80]), np.full(3, 1e-2), 0.1, range(3), experiment="n", seed=1)
    np.testing.assert_allclose(a["eg"], b["eg"][:, [0, 2]], rtol=1e-12)


def test_batched_block_products_equal_separate_calls():
    """One pool over the 256-row blocks of many products gives the bits of separate calls (a
    scheduling change, not an arithmetic one), with and without accumulation."""
    from threadpoolctl import threadpool_limits

    from ridgerenorm.parallel import blocked_matmul, blocked_matmul_many

    rng = np.random.default_rng(5)
    pairs = [(rng.standard_normal((m, 70)), rng.standard_normal((70, k))) for m, k in [(600, 40), (90, 130), (257, 1)]]
    with threadpool_limits(limits=1, user_api="blas"):
        separate = [blocked_matmul(A, B, threads=1) for A, B in pairs]
        outs = [np.full((A.shape[0], B.shape[1]), 0.5) for A, B in pairs]
        blocked_matmul_many([(A, B, o) for (A, B), o in zip(pairs, outs)], threads=2, accumulate=True)
        fresh = [np.empty((A.shape[0], B.shape[1])) for A, B in pairs]
        blocked_matmul_many([(A, B, o) for (A, B), o in zip(pairs, fresh)], threads=2)
    for s, o, f, (A, B) in zip(separate, outs, fresh, pairs):
        assert np.array_equal(s, f)
        assert np.array_equal(o, 0.5 + s)
        np.testing.assert_allclose(s, A @ B, rtol=1e-12, atol=1e-12)


def test_blocked_gram_is_symmetric_and_thread_stable():
    """The syrk-based Gram (lower triangle by blocks, mirrored): exactly symmetric, the product A A^T to
    round-off, the same bits on 1, 2 or 3 threads and batched or alone, for a Gram (C-ordered rows) and for
    a covariance accumulated over row segments (A passed as a transposed view)."""
    from threadpoolctl import threadpool_limits

    from ridgerenorm.parallel import blocked_gram_many

    rng = np.random.default_rng(7)
    X = rng.standard_normal((700, 300))
    Y = rng.standard_normal((257, 40))
    with threadpool_limits(limits=1, user_api="blas"):
        runs = []
        for threads in (1, 2, 3):
            K, G = np.empty((700, 700)), np.empty((257, 257))
            blocked_gram_many([(X, K), (Y, G)], threads)
            C = np.zeros((300, 300))
            for rows in (X[:400], X[400:]):
                blocked_gram_many([(rows.T, C)], threads, accumulate=True)
            runs.append((K, G, C))
        alone = np.empty((257, 257))
        blocked_gram_many([(Y, alone)], 1)
    for K, G, C in runs[1:]:
        assert np.array_equal(K, runs[0][0]) and np.array_equal(G, runs[0][1]) and np.array_equal(C, runs[0][2])
    K, G, C = runs[0]
    assert np.array_equal(G, alone)
    for M, ref in ((K, X @ X.T), (G, Y @ Y.T), (C, X.T @ X)):
        assert np.array_equal(M, M.T)
        assert np.abs(M - ref).max() <= 1e-14 * np.abs(ref).max()


def test_systems_flops_counts_what_build_systems_does():
    """The models' flop estimates (systems_flops) equal the count build_systems reports, for a grid with
    Gram and covariance sample sizes: Gram P(P+1)n for the largest dual P = 40, covariance 60 * n(n+5)."""
    from ridgerenorm.fits import build_systems, systems_flops

    rng = np.random.default_rng(2)
    n, P = 50, np.array([10, 40, 55, 60])
    X = rng.standard_normal((3, 60, n))
    _, flops = build_systems(X, rng.standard_normal((3, 60)), rng.standard_normal((3, 60)), P, threads=2)
    assert flops == 3 * systems_flops(P, n) == 3 * (40 * 41 * n + 60 * n * (n + 5))
