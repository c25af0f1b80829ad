"""Random-matrix spectra of docs/figures.md section A: samplers and limiting densities.

Samplers take ``entropy``, a tuple of non-negative ints, and draw from
``np.random.default_rng(np.random.SeedSequence(list(entropy)))``.  Sampled eigenvalues are returned
sorted ascending, float64.

Densities (all vectorized over the evaluation grid):

* ``semicircle_density``            Wigner semicircle on [-2, 2] (docs/theory.md §2).
* ``marchenko_pastur_density``      continuous part of MP for q = D/P; the atom is
  ``marchenko_pastur_zero_mass(q)`` = max(0, 1 - 1/q).
* ``product_wishart_density``       eigenvalues of XᵀX for X = X_1 ... X_L (docs/figures.md A4, S-transform
  cubic); the atom is ``product_wishart_zero_mass(widths)``.
* ``silverstein_density``           limiting density of the sample covariance of data with population
  spectrum eta (deterministic equivalent, docs/theory.md §2); continuous part only.
* ``binned_silverstein_density``    that density averaged over histogram bins (the expected histogram).
* ``population_powerlaw_density``   continuum version of eta_k = k^(-b), k = 1..N.
* ``ks_distance``                   Kolmogorov-Smirnov distance between samples and a density (+ atom at 0).

The figure datasets of section A built from them are plotting/spectra_data.py's.
"""

from __future__ import annotations

import numpy as np
from scipy.integrate import cumulative_trapezoid
from scipy.optimize import brentq

from .errors import ConvergenceError, not_eigenvalues

__all__ = [
    "ConvergenceError",
    "wigner_eigenvalues",
    "wishart_eigenvalues",
    "product_wishart_eigenvalues",
    "semicircle_density",
    "marchenko_pastur_density",
    "marchenko_pastur_zero_mass",
    "marchenko_pastur_edges",
    "product_wishart_density",
    "product_wishart_zero_mass",
    "silverstein_density",
    "binned_silverstein_density",
    "population_powerlaw_density",
    "ks_distance",
]


# ---------------------------------------------------------------------------------------------
# Samplers
# ---------------------------------------------------------------------------------------------


def _rng(entropy) -> np.random.Generator:
    ent = [int(e) for e in np.atleast_1d(np.asarray(entropy, dtype=object))]
    if any(e < 0 for e in ent):
        raise ValueError(f"entropy must be non-negative ints, got {entropy!r}")
    return np.random.default_rng(np.random.SeedSequence(ent))


def _gram_eigenvalues(X: np.ndarray, scale: float, n_out: int, rank: int) -> np.ndarray:
    """Eigenvalues of scale * XᵀX (n_out of them) computed from the smaller Gram matrix.

    XᵀX and XXᵀ share their nonzero eigenvalues, so the larger one is the smaller one's spectrum
    padded with zeros.  Eigenvalues beyond the known rank are set to exact zeros (they are round-off),
    and tiny negative round-off is clipped, so the atom at 0 is exact.
    """
    n_rows, n_cols = X.shape
    gram = X @ X.T if n_rows < n_cols else X.T @ X
    ev = np.linalg.eigvalsh(scale * gram)
    ev = np.maximum(ev, 0.0)
    n_zero = ev.size - rank
    if n_zero > 0:
        ev[:n_zero] = 0.0
    out = np.zeros(n_out)
    out[n_out - ev.size:] = ev
    return out


def wigner_eigenvalues(N: int, entropy) -> np.ndarray:
    """Eigenvalues (ascending) of A = G/√N, G an N×N standard Gaussian matrix.

    ``np.linalg.eigvalsh`` reads only the lower triangle, so the matrix diagonalized is the symmetric
    matrix whose upper triangle mirrors the lower one of A: off-diagonal entries of variance 1/N, as
    the semicircle on [-2, 2] needs (this is the "symmetrized as in eigh" of docs/figures.md A1).

    Parameters
    ----------
    N : int
        Matrix size.
    entropy : tuple of int
        Non-negative ints seeding ``np.random.SeedSequence`` (the same entropy gives the same matrix).

    Returns
    -------
    numpy.ndarray
        The N eigenvalues, ascending, float64.

    Examples
    --------
    >>> ev = wigner_eigenvalues(400, (0, 1))
    >>> ev.shape, bool(np.all(np.diff(ev) >= 0))
    ((400,), True)
    >>> [round(float(e), 2) for e in ev[[0, -1]]]  # near the semicircle's edges -2 and 2
    [-2.01, 2.03]
    """
    N = int(N)
    G = _rng(entropy).standard_normal((N, N))
    return np.linalg.eigvalsh(G / np.sqrt(N))


def wishart_eigenvalues(eta, P: int, entropy, *, method: str = "auto") -> np.ndarray:
    """The D eigenvalues (ascending) of XᵀX/P, X of shape P×D with rows N(0, diag(eta)).

    When P < D only the P×P Gram XXᵀ/P is diagonalized; the remaining D-P eigenvalues are returned
    as exact zeros (the atom of mass 1 - P/D).

    method="direct" always draws X.  method="auto" (default) does so only for P < D; for P ≥ D it
    draws XᵀX through the Bartlett decomposition instead, which has exactly the same distribution:
    ZᵀZ ~ Wishart_D(P, I) equals LLᵀ with L lower triangular, L_ii² ~ χ²_{P-i+1} (i = 1..D) and
    L_ij ~ N(0, 1) below the diagonal, so XᵀX = (Σ^½ L)(Σ^½ L)ᵀ.  This costs O(D³) instead of
    O(P D²) (A2's q = 0.1 panel: P = 30000, D = 3000).

    Parameters
    ----------
    eta : array_like, shape (D,)
        Population eigenvalues (the variances of the columns of X), non-negative.
    P : int
        Number of samples (rows of X).
    entropy : tuple of int
        Non-negative ints seeding ``np.random.SeedSequence``.
    method : {"auto", "direct"}
        How XᵀX is drawn (above).

    Returns
    -------
    numpy.ndarray
        The D eigenvalues, ascending, float64; exact zeros beyond the rank min(P, D, #nonzero eta).

    Raises
    ------
    ValueError
        If eta is not a 1-D array of non-negative numbers, or method is unknown.

    Examples
    --------
    >>> ev = wishart_eigenvalues(np.ones(100), 40, (0,))
    >>> ev.shape, int(np.count_nonzero(ev)), float(ev[:60].max())  # P < D: an atom of 60 zeros
    ((100,), 40, 0.0)
    """
    eta = np.asarray(eta, dtype=float)
    if eta.ndim != 1:
        raise ValueError(not_eigenvalues("eta", eta.shape))
    if np.any(eta < 0):
        raise ValueError("eta must be a 1-D array of non-negative variances")
    if method not in ("auto", "direct"):
        raise ValueError(f"method must be 'auto' or 'direct', got {method!r}")
    P, D = int(P), eta.size
    rng = _rng(entropy)
    rank = min(P, D, np.count_nonzero(eta))
    if method == "auto" and P >= D:
        L = np.tril(rng.standard_normal((D, D)), -1)
        L[np.diag_indices(D)] = np.sqrt(rng.chisquare(P - np.arange(D)))
        M = np.sqrt(eta)[:, None] * L
        return _gram_eigenvalues(M.T, 1.0 / P, D, rank)  # (M.T)ᵀ(M.T) = M Mᵀ
    X = rng.standard_normal((P, D)) * np.sqrt(eta)[None, :]
    return _gram_eigenvalues(X, 1.0 / P, D, rank)


def product_wishart_eigenvalues(widths, entropy) -> np.ndarray:
    """The widths[-1] eigenvalues (ascending) of XᵀX, X = X_1 X_2 ... X_L.

    Factor l is widths[l-1] × widths[l] with entries N(0, 1/widths[l-1]).  XᵀX has rank
    min(widths), so (for widths [200, 1000, 6000]) only the 200×200 Gram XXᵀ is diagonalized and the
    other eigenvalues are returned as exact zeros.

    Parameters
    ----------
    widths : sequence of int
        Layer widths [w_0, ..., w_L], at least two, each positive.
    entropy : tuple of int
        Non-negative ints seeding ``np.random.SeedSequence``.

    Returns
    -------
    numpy.ndarray
        The widths[-1] eigenvalues, ascending, float64.

    Examples
    --------
    >>> ev = product_wishart_eigenvalues([20, 50, 300], (0,))
    >>> ev.shape, int(np.count_nonzero(ev))  # rank min(widths) = 20
    ((300,), 20)
    """
    widths = [int(w) for w in widths]
    if len(widths) < 2 or min(widths) < 1:
        raise ValueError(f"widths must list at least two positive ints, got {widths!r}")
    rng = _rng(entropy)
    X = None
    for w_in, w_out in zip(widths[:-1], widths[1:]):
        F = rng.standard_normal((w_in, w_out)) / np.sqrt(w_in)
        X = F if X is None else X @ F
    return _gram_eigenvalues(X, 1.0, widths[-1], min(widths))


# ---------------------------------------------------------------------------------------------
# Closed-form densities
# ---------------------------------------------------------------------------------------------


def semicircle_density(x, *, radius: float = 2.0) -> np.ndarray:
    """Semicircle √(R²-x²)·2/(πR²) on [-R, R]; R = 2 is the Wigner law √(4-x²)/(2π).

    Parameters
    ----------
    x : array_like
        Evaluation points.
    radius : float
        Half-width R of the support.

    Returns
    -------
    numpy.ndarray
        The density at x (0 outside [-R, R]), of x's shape.

    Examples
    --------
    >>> semicircle_density([0.0, 2.0, 3.0]).round(6)  # 1/π at 0
    array([0.31831, 0.     , 0.     ])
    >>> from scipy.integrate import quad
    >>> round(quad(semicircle_density, -2, 2)[0], 10)
    1.0
    """
    x = np.asarray(x, dtype=float)
    R = float(radius)
    return 2.0 / (np.pi * R**2) * np.sqrt(np.clip(R**2 - x**2, 0.0, None))


def marchenko_pastur_edges(q: float) -> tuple[float, float]:
    """Support edges λ± = (1 ± √q)² of the Marchenko-Pastur law.

    Parameters
    ----------
    q : float
        Ratio D/P.

    Returns
    -------
    tuple of float
        (λ₋, λ₊).

    Examples
    --------
    >>> [float(e) for e in marchenko_pastur_edges(0.25)]
    [0.25, 2.25]
    """
    s = np.sqrt(float(q))
    return (1.0 - s) ** 2, (1.0 + s) ** 2


def marchenko_pastur_density(lam, q: float) -> np.ndarray:
    """Continuous part √((λ₊-λ)(λ-λ₋))/(2πqλ) of the MP law for q = D/P (mass min(1, 1/q)).

    Zero at λ ≤ 0 (the atom at 0 for q > 1 is ``marchenko_pastur_zero_mass``).

    Parameters
    ----------
    lam : array_like
        Eigenvalues at which to evaluate.
    q : float
        Ratio D/P, positive.

    Returns
    -------
    numpy.ndarray
        The density at lam, of lam's shape.

    Raises
    ------
    ValueError
        If q ≤ 0.

    Examples
    --------
    The continuous part and the atom at 0 hold all the mass:

    >>> from scipy.integrate import quad
    >>> lo, hi = marchenko_pastur_edges(4.0)
    >>> mass = quad(marchenko_pastur_density, lo, hi, args=(4.0,), limit=200)[0]
    >>> round(mass, 8), marchenko_pastur_zero_mass(4.0)
    (0.25, 0.75)
    """
    q = float(q)
    if q <= 0:
        raise ValueError(f"q must be positive, got {q}")
    lam = np.asarray(lam, dtype=float)
    lm, lp = marchenko_pastur_edges(q)
    inside = (lam > lm) & (lam < lp) & (lam > 0)
    safe = np.where(inside, lam, 1.0)
    return np.where(inside, np.sqrt(np.abs((lp - safe) * (safe - lm))) / (2.0 * np.pi * q * safe), 0.0)


def marchenko_pastur_zero_mass(q: float) -> float:
    """Mass of the atom at 0 of the D×D sample covariance: max(0, 1 - 1/q).

    Parameters
    ----------
    q : float
        Ratio D/P.

    Returns
    -------
    float

    Examples
    --------
    >>> marchenko_pastur_zero_mass(0.5), marchenko_pastur_zero_mass(4.0)
    (0.0, 0.75)
    """
    return max(0.0, 1.0 - 1.0 / float(q))


def product_wishart_zero_mass(widths) -> float:
    """Mass of the atom at 0 of XᵀX (widths[-1]×widths[-1], rank min(widths)): 1 - min(widths)/widths[-1].

    Parameters
    ----------
    widths : sequence of int
        Layer widths [w_0, ..., w_L].

    Returns
    -------
    float

    Examples
    --------
    >>> round(product_wishart_zero_mass([200, 1000, 6000]), 6)
    0.966667
    """
    w = np.asarray(widths, dtype=float)
    return float(1.0 - w.min() / w[-1])


def _poly_newton(t, z, coef, tol=1e-14, max_iter=60):
    """Damped Newton on p(t) = Σ coef_k t^k - z t for every point at once; returns t and |p(t)|.

    Only points that have not converged are iterated; a step that increases |p| is halved.
    """
    def p_dp(tt, zz):
        val = np.zeros_like(tt)
        der = np.zeros_like(tt)
        for a in coef[::-1]:  # Horner over the degree, not over grid points
            der = der * tt + val
            val = val * tt + a
        return val - zz * tt, der - zz

    t = t.copy()
    val, der = p_dp(t, z)
    act = np.arange(t.size)
    for _ in range(max_iter):
        if act.size == 0:
            break
        ta, za, va, da = t[act], z[act], val[act], der[act]
        step = va / np.where(da == 0, 1.0, da)
        tn = ta - step
        vn, dn = p_dp(tn, za)
        worse = np.flatnonzero(np.abs(vn) > np.abs(va))
        for _ in range(30):
            if worse.size == 0:
                break
            step[worse] *= 0.5
            tn[worse] = ta[worse] - step[worse]
            vn[worse], dn[worse] = p_dp(tn[worse], za[worse])
            worse = worse[np.abs(vn[worse]) > np.abs(va[worse])]
        t[act], val[act], der[act] = tn, vn, dn
        moving = np.abs(tn - ta) > tol * np.maximum(np.abs(tn), 1e-300)
        act = act[moving & (vn != 0)]
    return t, np.abs(val)


def product_wishart_density(lam, widths) -> np.ndarray:
    """Continuous part of the spectral density of XᵀX, X = X_1 ... X_L (docs/figures.md A4).

    With c_l = w_L/w_{l-1} (w_L = widths[-1]) the S-transforms of the white factors multiply, so
    t(z) = ∫ λ/(z-λ) dμ solves z t = (1+t) Π_l (1 + c_l t), and the density is ``|Im t|/(πλ)`` at
    z = λ + i0⁺ (for real z inside the support the physical root and its conjugate form a complex pair;
    docs/figures.md's "root with Im t > 0" is that conjugate).  Because the atom at 0 does not contribute to
    t, this density integrates to min(widths)/widths[-1]; the atom is ``product_wishart_zero_mass``.

    Root selection: for two factors (the cubic of A4) the physical root is the only complex one inside
    the support, but for L ≥ 3 factors the polynomial can also have an unphysical complex pair outside
    the support, so "largest imaginary part" is not enough.  The physical branch is therefore tracked,
    for all grid points at once, from z = λ + iY with Y large (where it is the root t ≈ 1/z near 0)
    down to Y ≈ 0 by Newton continuation, then polished at Y = 0.  Raises ConvergenceError if the
    final residual is not small or the branch left the lower half-plane (Im t ≤ 0 for Im z > 0).

    Parameters
    ----------
    lam : array_like
        Eigenvalues at which to evaluate.
    widths : sequence of int
        Layer widths [w_0, ..., w_L], at least two, each positive.

    Returns
    -------
    numpy.ndarray
        The continuous density at lam, of lam's shape.

    Raises
    ------
    ValueError
        If widths are not at least two positive numbers.
    ConvergenceError
        If the continuation does not reach the physical root.

    Examples
    --------
    The continuous part holds the mass 1 - atom:

    >>> lam = np.linspace(0.0, 100.0, 20001)
    >>> mass = np.trapezoid(product_wishart_density(lam, [200, 1000, 6000]), lam)
    >>> round(float(mass), 5), round(1 - product_wishart_zero_mass([200, 1000, 6000]), 5)
    (0.03333, 0.03333)
    """
    w = np.asarray(widths, dtype=float)
    if w.ndim != 1 or w.size < 2 or np.any(w <= 0):
        raise ValueError(f"widths must list at least two positive numbers, got {widths!r}")
    lam = np.asarray(lam, dtype=float)
    flat = lam.ravel()
    c = w[-1] / w[:-1]
    # Ascending coefficients of (1+t) Π (1 + c_l t); the loop runs over layers only.
    coef = np.array([1.0, 1.0])
    for cl in c:
        coef = np.convolve(coef, [1.0, cl])
    scale = 1.0 + c.sum() + (np.abs(flat).max() if flat.size else 0.0)
    Y = 100.0 * scale
    z = flat + 1j * Y
    t, _ = _poly_newton(1.0 / (z - 1.0 - c.sum()), z, coef)
    while Y > 1e-10 * scale:
        Y *= 0.3
        z = flat + 1j * Y
        t, _ = _poly_newton(t, z, coef)
    if np.any(t.imag > 1e-8 * np.maximum(np.abs(t), 1.0)):
        raise ConvergenceError("product_wishart_density: continuation left the physical branch")
    t, res = _poly_newton(t, flat.astype(complex), coef)
    terms = np.abs(np.polynomial.polynomial.polyval(np.abs(t), np.abs(coef))) + np.abs(flat * t)
    if np.any(res > 1e-9 * terms):
        i = int(np.argmax(res / terms))
        raise ConvergenceError(f"product_wishart_density: no root at lambda={flat[i]:.4g} (residual {res[i]:.2e})")
    im = np.abs(t.imag)
    # Real roots keep round-off imaginary parts (~1e-8|t| near the double roots at the edges).
    ok = (im > 1e-7 * np.maximum(np.abs(t), 1.0)) & (flat > 0)
    dens = np.where(ok, im / (np.pi * np.where(ok, flat, 1.0)), 0.0)
    return dens.reshape(lam.shape)


def population_powerlaw_density(lam, b: float, N: int) -> np.ndarray:
    """Continuum density of η_k = k^(-b), k = 1..N: ∝ λ^(-1-1/b) on [N^(-b), 1], normalized to 1.

    (#{k: η_k > λ} = λ^(-1/b), so the normalized density is λ^(-1-1/b)/(b (N-1)).)

    Parameters
    ----------
    lam : array_like
        Eigenvalues at which to evaluate.
    b : float
        Exponent of the power law.
    N : int
        Number of population eigenvalues.

    Returns
    -------
    numpy.ndarray
        The density at lam (0 outside [N^(-b), 1]), of lam's shape.

    Examples
    --------
    >>> population_powerlaw_density([0.5, 2.0], 1.0, 100).round(6)
    array([0.040404, 0.      ])
    """
    lam = np.asarray(lam, dtype=float)
    b, N = float(b), float(N)
    inside = (lam >= N ** (-b)) & (lam <= 1.0)
    safe = np.where(inside, lam, 1.0)
    return np.where(inside, safe ** (-1.0 - 1.0 / b) / (b * (N - 1.0)), 0.0)


# ---------------------------------------------------------------------------------------------
# Silverstein (deterministic-equivalent) density of a sample covariance
# ---------------------------------------------------------------------------------------------
#
# Writing g = -(κ/z)(1/D)Σ 1/(η+κ), Silverstein's equation g = (1/D)Σ 1/(η(1-q-qzg) - z) becomes the
# ridge equation of docs/theory.md §3 continued to λ = -z:
#     Φ(κ) = κ (1 - q m₁(κ)) + z = 0,   m₁ = (1/D) Σ η/(η+κ),   Φ' = 1 - q (1/D) Σ η²/(η+κ)².
# κ stays bounded in both regimes (κ → κ₀ > 0 when q > 1, κ ~ -z/(1-q) when q < 1), and 1/κ is the
# Stieltjes transform of the P×P companion Gram, so the physical root is the one with Im κ < 0.
# For q > 1, 1/(qκ) is g without the atom at 0, which removes the atom's ε-Lorentzian exactly.

_CHUNK = 1 << 21  # complex (grid, D) block size per evaluation, bounds memory


def _phi(kappa, z, eta, q):
    """Φ(κ), Φ'(κ) and m₀ = (1/D) Σ 1/(η+κ), evaluated in row blocks."""
    D = eta.size
    F = np.empty_like(kappa)
    dF = np.empty_like(kappa)
    m0 = np.empty_like(kappa)
    eta2 = eta * eta
    step = max(1, _CHUNK // D)
    for s in range(0, kappa.size, step):
        k = kappa[s:s + step]
        r = 1.0 / (eta[None, :] + k[:, None])
        m1 = (r @ eta) / D
        F[s:s + step] = k * (1.0 - q * m1) + z[s:s + step]
        dF[s:s + step] = 1.0 - q * ((r * r) @ eta2) / D
        m0[s:s + step] = r.sum(axis=1) / D
    return F, dF, m0


def _rel_residual(F, kappa, z, q):
    # Scale of the terms of Φ, so cancellation between them does not count as residual.
    return np.abs(F) / (np.abs(kappa) * (1.0 + q) + np.abs(z))


def _newton(kappa, z, eta, q, tol, max_iter=60, max_halvings=40):
    """Damped Newton on Φ for all points; a step is halved until |Φ| decreases and Im κ < 0.

    Returns κ and a mask of the points whose relative residual reached tol with Im κ < 0.
    """
    kappa = kappa.copy()
    F, dF, _ = _phi(kappa, z, eta, q)
    conv = (_rel_residual(F, kappa, z, q) <= tol) & (kappa.imag < 0)
    act = np.flatnonzero(~conv)
    F, dF = F[act], dF[act]
    for _ in range(max_iter):
        if act.size == 0:
            break
        k0, z0 = kappa[act], z[act]
        step = F / dF
        k_new = k0 - step
        F_new, dF_new = np.empty_like(F), np.empty_like(dF)
        todo = np.arange(act.size)
        for _ in range(max_halvings):
            f, d, _ = _phi(k_new[todo], z0[todo], eta, q)
            F_new[todo], dF_new[todo] = f, d
            good = (np.abs(f) < np.abs(F[todo])) & (k_new[todo].imag < 0)
            todo = todo[~good]
            if todo.size == 0:
                break
            step[todo] *= 0.5
            k_new[todo] = k0[todo] - step[todo]
        # A point whose step could not be made acceptable keeps its old value and is given up.
        stalled = np.zeros(act.size, bool)
        stalled[todo] = True
        k_new[stalled] = k0[stalled]
        kappa[act] = k_new
        done = (_rel_residual(F_new, k_new, z0, q) <= tol) & ~stalled
        conv[act[done]] = True
        keep = ~done & ~stalled
        act, F, dF = act[keep], F_new[keep], dF_new[keep]
    return kappa, conv


def _reseed(kappa, ok, z, eta, q, tol):
    """Restart failed points from their nearest converged neighbour along x (same broadening)."""
    if ok.all() or not ok.any():
        return kappa, ok
    good, bad = np.flatnonzero(ok), np.flatnonzero(~ok)
    j = np.searchsorted(good, bad)
    left, right = good[np.maximum(j - 1, 0)], good[np.minimum(j, good.size - 1)]
    nearest = np.where(np.abs(bad - left) <= np.abs(right - bad), left, right)
    kappa, ok = kappa.copy(), ok.copy()
    kappa[bad], ok[bad] = _newton(kappa[nearest], z[bad], eta, q, tol)
    return kappa, ok


def _continue(kappa, x, s_from, s_to, eta, q, tol, depth=0, max_depth=6):
    """Move the solution from z = x(1 + i s_from) to x(1 + i s_to); points that fail are redone
    through the geometric midpoint (recursively), so hard points get finer steps."""
    new, ok = _newton(kappa, x * (1.0 + 1j * s_to), eta, q, tol)
    bad = np.flatnonzero(~ok)
    if bad.size and depth < max_depth:
        s_mid = np.sqrt(s_from * s_to)
        mid, ok_mid = _continue(kappa[bad], x[bad], s_from, s_mid, eta, q, tol, depth + 1, max_depth)
        fin, ok_fin = _continue(mid, x[bad], s_mid, s_to, eta, q, tol, depth + 1, max_depth)
        new[bad], ok[bad] = fin, ok_mid & ok_fin
    return new, ok


def silverstein_density(x, eta, q: float, eps: float = 1e-6, *, tol: float = 1e-11) -> np.ndarray:
    """Limiting spectral density of Σ̂ = XᵀX/P (D×D) for population eigenvalues eta, q = D/P.

    Solves g(z) = (1/D) Σ_k 1/(η_k(1 - q - q z g) - z) (docs/theory.md §2) at z = x(1 + i·eps) and returns
    Im g/π.  The broadening is relative (ε = eps·x), which resolves a log-spaced grid uniformly; the
    result is the density smoothed by a Lorentzian of relative width eps.  Only the continuous part
    is returned: for q > 1 Σ̂ also has an atom of mass 1 - 1/q at 0 (``marchenko_pastur_zero_mass``),
    which is excluded.  The density is 0 for x ≤ 0.  With eta ≡ 1 this is Marchenko-Pastur.

    All grid points are solved together: damped Newton on the equivalent ridge equation
    κ(1 - q·df₁(κ)) = -z (see the comment above ``_phi``), continued in the imaginary part from
    s = 1 down to eps in factors of 10 (warm start from the previous s, adaptive halving of the step
    for points that fail); points that still fail are restarted from their nearest converged neighbour
    along x.  Raises ConvergenceError if any point misses the residual tolerance.

    Parameters
    ----------
    x : array_like
        Eigenvalues at which to evaluate.
    eta : array_like, shape (D,)
        Population eigenvalues, non-negative.
    q : float
        Ratio D/P, positive.
    eps : float
        Relative broadening of the solve (above).
    tol : float
        Relative residual every point must reach.

    Returns
    -------
    numpy.ndarray
        The continuous density at x, of x's shape.

    Raises
    ------
    ConvergenceError
        If a grid point misses the residual tolerance.

    Examples
    --------
    White data (eta ≡ 1) give Marchenko-Pastur:

    >>> x = np.linspace(0.05, 3.0, 400)
    >>> mp = marchenko_pastur_density(x, 0.5)
    >>> bool(np.abs(silverstein_density(x, np.ones(200), 0.5) - mp).max() < 1e-4)
    True
    """
    eta = np.asarray(eta, dtype=float)
    if eta.ndim != 1 or eta.size == 0:
        raise ValueError(not_eigenvalues("eta", eta.shape))
    if np.any(eta < 0) or not np.all(np.isfinite(eta)):
        raise ValueError("eta must be a non-empty 1-D array of finite non-negative eigenvalues")
    q, eps = float(q), float(eps)
    if q <= 0 or not 0 < eps < 1:
        raise ValueError(f"need q > 0 and 0 < eps < 1, got q={q}, eps={eps}")
    x = np.asarray(x, dtype=float)
    flat = x.ravel()
    out = np.zeros(flat.size)
    pos = np.flatnonzero(flat > 0)
    if pos.size == 0:
        return out.reshape(x.shape)
    xp = flat[pos]

    # κ₀: value of κ at z → 0, the root of q·df₁(κ₀) = 1 for q > 1 (0 for q ≤ 1).
    m_eta = float(eta.mean())
    k0 = 0.0
    if q > 1 and m_eta > 0:
        k0 = brentq(lambda k: q * np.mean(eta / (eta + k)) - 1.0, 0.0, q * m_eta, xtol=1e-300, rtol=1e-14)

    schedule = [1.0]
    while schedule[-1] * 0.1 > eps:
        schedule.append(schedule[-1] * 0.1)
    schedule.append(eps)

    # Initial guess at s = 1, exact in both limits |z| → 0 and |z| → ∞:
    # κ ≈ κ₀ - z/Φ'(κ₀), with Φ' estimated at κ₀ + |z| (→ 1 for large |z|).
    z = xp * (1.0 + 1j * schedule[0])
    r2 = np.empty(xp.size)
    step = max(1, _CHUNK // eta.size)
    for s in range(0, xp.size, step):
        rr = eta[None, :] / (eta[None, :] + k0 + np.abs(z[s:s + step])[:, None])
        r2[s:s + step] = np.mean(rr * rr, axis=1)
    kappa = k0 - z / (1.0 - q * r2)
    kappa = np.where(kappa.imag < 0, kappa, kappa.real - 1j * np.abs(z))
    kappa, ok = _newton(kappa, z, eta, q, tol)
    kappa, ok = _reseed(kappa, ok, z, eta, q, tol)
    for s_from, s_to in zip(schedule[:-1], schedule[1:]):
        kappa, ok = _continue(kappa, xp, s_from, s_to, eta, q, tol)
    z = xp * (1.0 + 1j * schedule[-1])
    kappa, ok = _reseed(kappa, ok, z, eta, q, tol)
    if not ok.all():
        F, _, _ = _phi(kappa, z, eta, q)
        res = _rel_residual(F, kappa, z, q)
        bad = np.flatnonzero(~ok)
        raise ConvergenceError(
            f"silverstein_density: {bad.size} of {xp.size} grid points did not converge "
            f"(q={q:g}, D={eta.size}, eps={eps:g}); first x={xp[bad[0]]:.4g}, "
            f"residual {res[bad[0]]:.2e}, Im kappa {kappa[bad[0]].imag:.2e}"
        )

    if q > 1:
        g = 1.0 / (q * kappa)  # companion transform / q: no atom
    else:
        _, _, m0 = _phi(kappa, z, eta, q)
        g = -(kappa / z) * m0
    out[pos] = np.maximum(g.imag, 0.0) / np.pi
    return out.reshape(x.shape)



BINNED_EPS = 0.01  # relative smoothing of the bin-averaged density (well below a log bin's width)
BINNED_POINTS = 80  # grid points per bin for the bin averages (resolve the 1 % smoothing)


def binned_silverstein_density(edges, eta, q: float) -> np.ndarray:
    """The Silverstein density averaged over each bin [edges[k], edges[k+1]] (trapezoid on BINNED_POINTS
    log-spaced points per bin), solved at z = x(1 + i BINNED_EPS): the expected histogram of a sample
    covariance, which a plot can set against the sampled histogram without resolving every top eigenvalue.

    Parameters
    ----------
    edges : array_like
        Increasing, positive bin edges.
    eta : array_like, shape (D,)
        Population eigenvalues, non-negative.
    q : float
        Ratio D/P, positive.

    Returns
    -------
    numpy.ndarray
        The average density of each of the len(edges) - 1 bins.

    Examples
    --------
    >>> binned_silverstein_density(np.geomspace(0.1, 3.0, 6), np.ones(200), 0.5).round(3)
    array([0.846, 0.795, 0.593, 0.385, 0.162])
    """
    edges = np.asarray(edges, dtype=float)
    out = np.empty(edges.size - 1)
    x = np.concatenate([np.geomspace(a, b, BINNED_POINTS + 1)[:-1] for a, b in zip(edges[:-1], edges[1:])]
                       + [edges[-1:]])
    dens = silverstein_density(x, eta, q, BINNED_EPS)
    for k in range(out.size):
        sl = slice(k * BINNED_POINTS, (k + 1) * BINNED_POINTS + 1)
        out[k] = np.trapezoid(dens[sl], x[sl]) / (edges[k + 1] - edges[k])
    return out



# ---------------------------------------------------------------------------------------------
# Kolmogorov-Smirnov distance
# ---------------------------------------------------------------------------------------------


def ks_distance(samples, grid, density, atom_at_zero: float = 0.0) -> float:
    """``sup_x |F_n(x) - F(x)|`` between the empirical CDF of samples and F = atom·[x ≥ 0] + ∫ density.

    The density is integrated on the (increasing) grid with the trapezoid rule; F is 0 below the grid
    (apart from the atom) and constant above it.  Both one-sided limits are compared at every distinct
    sample value and at 0, which handles ties (e.g. the exact zeros of a rank-deficient Gram) and the
    jump of the atom correctly.

    Parameters
    ----------
    samples : array_like
        The sampled values (any shape, flattened).
    grid : array_like
        Increasing evaluation grid of the density.
    density : array_like
        The (continuous) density on grid.
    atom_at_zero : float
        Mass of a point mass at 0 added to F.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If grid is not increasing, does not match density, or there are no samples.

    Examples
    --------
    Two samples against the uniform law on [0, 1]:

    >>> ks_distance([0.0, 0.5], [0.0, 1.0], [1.0, 1.0])
    0.5
    >>> g = np.linspace(-2, 2, 2001)
    >>> ks_distance(wigner_eigenvalues(1000, (0,)), g, semicircle_density(g)) < 0.01
    True
    """
    samples = np.sort(np.asarray(samples, dtype=float).ravel())
    grid = np.asarray(grid, dtype=float).ravel()
    density = np.asarray(density, dtype=float).ravel()
    if grid.shape != density.shape or grid.size < 2 or np.any(np.diff(grid) <= 0):
        raise ValueError("grid must be increasing and match density in shape")
    if samples.size == 0:
        raise ValueError("no samples")
    n = samples.size
    cdf_grid = cumulative_trapezoid(density, grid, initial=0.0)
    pts = np.unique(np.append(samples, 0.0) if atom_at_zero > 0 else samples)
    cont = np.interp(pts, grid, cdf_grid, left=0.0, right=cdf_grid[-1])
    F_right = cont + atom_at_zero * (pts >= 0)
    F_left = cont + atom_at_zero * (pts > 0)
    Fn_right = np.searchsorted(samples, pts, side="right") / n
    Fn_left = np.searchsorted(samples, pts, side="left") / n
    return float(max(np.abs(Fn_right - F_right).max(), np.abs(Fn_left - F_left).max()))
