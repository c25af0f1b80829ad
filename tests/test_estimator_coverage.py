"""Variance-component estimators and their standard errors on synthetic draws with known components
(docs/theory.md §7, docs/agreement.md).

The draws are generated in the layout the estimators consume: whitened error vectors e[i, j] of data draw i
and feature draw j (two-way), e[i] (one-way), and a replication axis that the estimators broadcast over.
Coverage: over R replicates, the fraction with |estimate - truth| < 2 SE.  With honest standard errors from
k - 1 = 11 jackknife degrees of freedom the expected fraction is P(|t_11| < 2) = 0.93 (0.954 for a normal
z); the binomial standard deviation of a fraction near 0.95 over R = 400 replicates is 0.011, so the band
[0.90, 0.99] is about 3 standard deviations wide on either side.  A standard error that is 30 % too small
gives about 0.86, and one 40 % too large (the uncorrected sum of the two one-way jackknifes, for Var_XF)
gives 0.995 or more, both outside the band.
"""

import numpy as np
import pytest

from ridgerenorm.estimators import (deleted_sums, label_noise_components, one_way_components, two_way_components,
                                    two_way_statistics)

REPS = 400
LOW, HIGH = 0.90, 0.99


def two_way_draws(rng, n, m, D, mu, sa, sb, sc):
    """e_ij = mu + a_i + b_j + c_ij (vectors in R^D), shape (n, m, REPS, D): Bias^2 = |mu|^2,
    Var_X = E|a|^2, Var_F = E|b|^2, Var_XF = E|c|^2."""
    return (mu + sa * rng.standard_normal((n, 1, REPS, D)) + sb * rng.standard_normal((1, m, REPS, D))
            + sc * rng.standard_normal((n, m, REPS, D)))


CASES = {
    # every component present
    "mixed": (0.2, 0.3, 0.25, 0.35),
    # the interaction dominates the spread: Var_XF's SE double counted it before the cell correction
    "interaction-heavy": (0.2, 0.15, 0.1, 0.5),
    # a small interaction: the correction is small
    "interaction-light": (0.3, 0.3, 0.25, 0.1),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_two_way_components_unbiased_and_covered(case):
    mus, sa, sb, sc = CASES[case]
    n = m = 12
    D = 16
    rng = np.random.default_rng(sorted(CASES).index(case) + 10)
    mu = np.full(D, mus)
    truth = {"bias": mu @ mu, "var_x": D * sa**2, "var_f": D * sb**2, "var_xf": D * sc**2}
    out = two_way_components(**two_way_statistics(two_way_draws(rng, n, m, D, mu, sa, sb, sc)))
    for name, value in truth.items():
        est, se = out[name], out[name + "_se"]
        # (a) unbiased: the mean over replicates is within 4 standard errors of the mean of the truth
        assert abs(est.mean() - value) < 4 * est.std() / np.sqrt(REPS), (case, name, est.mean(), value)
        # (b) the jackknife SE tracks the real spread, and |z| < 2 holds about 95 % of the time
        ratio = np.sqrt(np.mean(se**2)) / est.std()
        # The floor max(V_rows, V_cols) is conservative when the interaction swamps a small main effect
        # (Var_F in "interaction-heavy": 1.28); the uncorrected sum gives 1.4-1.6 for Var_XF.
        assert 0.85 < ratio < 1.35, (case, name, ratio)
        cover = np.mean(np.abs(est - value) < 2 * se)
        assert LOW <= cover <= HIGH, (case, name, cover)


def test_two_way_statistics_match_their_definitions():
    rng = np.random.default_rng(4)
    e = rng.standard_normal((4, 5, 3))
    s = two_way_statistics(e)
    R, C, G = e.sum(axis=1), e.sum(axis=0), e.sum(axis=(0, 1))
    np.testing.assert_allclose(s["ge"][2, 3], e[2, 3] @ G, rtol=1e-12)
    np.testing.assert_allclose(s["rc"][1, 4], R[1] @ C[4], rtol=1e-12)


def test_deleted_sums_match_recomputing_without_the_draws():
    """The sums behind the jackknife (delete a data draw, a feature draw, or both), rebuilt from the
    sufficient statistics, equal the sums of the grid with that row and/or column removed."""
    rng = np.random.default_rng(5)
    e = rng.standard_normal((4, 5, 6))

    def sums(x):
        return (np.sum(x * x), np.sum(x.sum(axis=1) ** 2), np.sum(x.sum(axis=0) ** 2), np.sum(x.sum(axis=(0, 1)) ** 2))

    full, rows, cols, cells = deleted_sums(**two_way_statistics(e))
    np.testing.assert_allclose(full, sums(e), rtol=1e-12)
    for i, j in [(0, 0), (2, 3), (3, 4)]:
        np.testing.assert_allclose([x[i] for x in rows], sums(np.delete(e, i, axis=0)), rtol=1e-12)
        np.testing.assert_allclose([x[j] for x in cols], sums(np.delete(e, j, axis=1)), rtol=1e-12)
        np.testing.assert_allclose([x[i, j] for x in cells], sums(np.delete(np.delete(e, i, axis=0), j, axis=1)),
                                   rtol=1e-12)


def test_one_way_components_unbiased_and_covered():
    rng = np.random.default_rng(6)
    n, D = 20, 16
    mu = np.linspace(0.2, -0.1, D)
    scale = np.linspace(0.3, 0.6, D)
    e = mu + scale * rng.standard_normal((n, REPS, D))
    out = one_way_components(e)
    for name, value in (("bias", mu @ mu), ("var_x", scale @ scale)):
        est, se = out[name], out[name + "_se"]
        assert abs(est.mean() - value) < 4 * est.std() / np.sqrt(REPS), (name, est.mean(), value)
        cover = np.mean(np.abs(est - value) < 2 * se)
        assert LOW <= cover <= HIGH, (name, cover)


def test_label_noise_components_unbiased_and_covered():
    """Noise part e_ij = M_j eps_i with M_j = A + B_j: the feature draw changes the map, the data draw the
    noise.  Var_Xeps = E|A eps|^2 = |A|_F^2 and Var_XFeps = E|B_j eps|^2 = D' k sb^2, from the per-row sums the
    simulation keeps."""
    rng = np.random.default_rng(7)
    n = m = 12
    k, Dp, sb = 10, 20, 0.2
    A = 0.3 * rng.standard_normal((Dp, k))
    M = A + sb * rng.standard_normal((REPS, m, Dp, k))
    eps = rng.standard_normal((REPS, n, k))
    e = np.einsum("rjdk,rik->ijrd", M, eps)  # (n, m, REPS, D')
    mean = e.mean(axis=1)
    row_sq = np.einsum("ird,ird->ir", mean, mean)
    within = np.einsum("ijrd,ijrd->ir", e, e) - m * row_sq
    out = label_noise_components(row_sq, within, m)
    for name, value in (("var_xeps", np.sum(A * A)), ("var_xfeps", Dp * k * sb**2)):
        est, se = out[name], out[name + "_se"]
        assert abs(est.mean() - value) < 4 * est.std() / np.sqrt(REPS), (name, est.mean(), value)
        cover = np.mean(np.abs(est - value) < 2 * se)
        assert LOW <= cover <= HIGH, (name, cover)
