"""Random-matrix densities, samplers, KS distance, figure datasets and plots of section A."""

import io

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import xarray as xr  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from scipy import stats  # noqa: E402
from scipy.integrate import quad  # noqa: E402

from ridgerenorm import densities as rd  # noqa: E402
from ridgerenorm.plotting import FIGURE_KINDS  # noqa: E402
from ridgerenorm.plotting import spectra as ps  # noqa: E402

# Eigenvalues of random matrices are rigid, so their KS distance to the limit law is far below the
# iid scale 1/sqrt(n); 0.03 leaves room for finite-size edge effects at n of a few hundred.
KS_OK = 0.03


# ----------------------------------------------------------------------------- masses


def test_semicircle_mass_and_values():
    mass, _ = quad(rd.semicircle_density, -2, 2)
    assert mass == pytest.approx(1.0, abs=1e-10)
    assert rd.semicircle_density(0.0) == pytest.approx(1 / np.pi, rel=1e-14)
    assert np.all(rd.semicircle_density([-2.5, -2.0, 2.0, 3.0]) == 0.0)


@pytest.mark.parametrize("q", [0.1, 0.5, 1.0, 2.0, 10.0])
def test_marchenko_pastur_mass(q):
    lm, lp = rd.marchenko_pastur_edges(q)
    cont, _ = quad(rd.marchenko_pastur_density, lm, lp, args=(q,), limit=200, epsabs=1e-13)
    atom = rd.marchenko_pastur_zero_mass(q)
    assert atom == pytest.approx(max(0.0, 1 - 1 / q), abs=1e-15)
    assert cont == pytest.approx(min(1.0, 1 / q), abs=1e-8)
    assert cont + atom == pytest.approx(1.0, abs=1e-8)


@pytest.mark.parametrize(
    "widths, lam_max", [([200, 1000, 6000], 100.0), ([300, 100, 600], 60.0), ([1000, 500], 4.0), ([100, 400, 300, 800], 60.0)]
)
def test_product_wishart_mass(widths, lam_max):
    lam = np.linspace(0.0, lam_max, 50_001)
    dens = rd.product_wishart_density(lam, widths)
    cont = np.trapezoid(dens, lam)
    atom = rd.product_wishart_zero_mass(widths)
    assert atom == pytest.approx(1 - min(widths) / widths[-1], abs=1e-15)
    assert dens[-1] == 0.0  # lam_max lies beyond the support
    assert cont == pytest.approx(min(widths) / widths[-1], rel=2e-5)
    assert cont + atom == pytest.approx(1.0, abs=2e-5)


def _largest_imag_root_density(lam, widths):
    """Reference: per-point np.roots, root with the largest imaginary part (docs/figures.md A4 recipe)."""
    c = widths[-1] / np.asarray(widths[:-1], dtype=float)
    coef = np.array([1.0, 1.0])
    for cl in c:
        coef = np.convolve(coef, [1.0, cl])
    out = np.zeros(len(lam))
    for i, z in enumerate(lam):
        a = coef.copy()
        a[1] -= z
        im = np.roots(a[::-1]).imag.max()
        out[i] = im / (np.pi * z) if im > 1e-7 else 0.0
    return out


def test_product_wishart_branch_tracking():
    lam = np.linspace(0.05, 80, 400)
    # Two factors (A4's cubic): the tracked branch is the complex root of the recipe.
    np.testing.assert_allclose(
        rd.product_wishart_density(lam, [200, 1000, 6000]), _largest_imag_root_density(lam, [200, 1000, 6000]),
        rtol=1e-6, atol=1e-12,
    )
    # Three factors: the quartic has an unphysical complex pair beyond the support (lam > 30 here),
    # which the recipe would count as density; the tracked branch does not.
    w = [100, 400, 300, 800]
    tracked = rd.product_wishart_density(lam, w)
    naive = _largest_imag_root_density(lam, w)
    assert np.all(tracked[lam > 31] == 0) and np.any(naive[lam > 31] > 1e-3)
    ev = rd.product_wishart_eigenvalues(w, (4,))
    assert ev.max() < 31


def test_product_wishart_single_factor_is_marchenko_pastur():
    lam = np.linspace(0, 8, 2001)
    for widths in ([1000, 500], [500, 1000], [300, 900]):
        q = widths[1] / widths[0]
        np.testing.assert_allclose(
            rd.product_wishart_density(lam, widths), rd.marchenko_pastur_density(lam, q), atol=1e-12
        )


def test_population_powerlaw_mass():
    for b, N in [(1.2, 1000), (2.0, 10_000)]:
        mass, _ = quad(rd.population_powerlaw_density, N ** (-b), 1.0, args=(b, N), limit=200,
                       points=np.logspace(-b * np.log10(N), 0, 12)[1:-1])
        assert mass == pytest.approx(1.0, rel=1e-8)
    assert rd.population_powerlaw_density(2.0, 1.2, 1000) == 0.0


# ----------------------------------------------------------------------------- Silverstein


@pytest.mark.parametrize("q", [0.25, 1.0, 4.0])
def test_silverstein_reduces_to_marchenko_pastur(q):
    x = np.logspace(-3, np.log10(20), 400)
    eps = 1e-8
    s = rd.silverstein_density(x, np.ones(50), q, eps=eps)
    mp = rd.marchenko_pastur_density(x, q)
    # Lorentzian broadening of relative width eps: error ~ sqrt(eps) near the square-root edges.
    assert np.max(np.abs(s - mp)) < 30 * np.sqrt(eps) * mp.max()
    inner = mp > 0.05 * mp.max()
    np.testing.assert_allclose(s[inner], mp[inner], rtol=1e-5)


@pytest.mark.parametrize("q", [0.1, 1.0, 10.0])
def test_silverstein_mass_powerlaw(q):
    eta = np.arange(1, 1001) ** -1.2
    x = np.geomspace(1e-12, 20, 2000)
    dens = rd.silverstein_density(x, eta, q)
    assert np.trapezoid(dens, x) == pytest.approx(min(1.0, 1.0 / q), rel=5e-3)
    assert np.all(dens >= 0)


def test_silverstein_nonpositive_x_and_errors():
    out = rd.silverstein_density(np.array([-1.0, 0.0, 1.0]), np.ones(5), 0.5)
    assert out[0] == 0.0 and out[1] == 0.0 and out[2] > 0
    with pytest.raises(ValueError):
        rd.silverstein_density([1.0], np.ones(5), -1.0)
    with pytest.raises(ValueError):
        rd.silverstein_density([1.0], np.array([1.0, -1.0]), 0.5)
    # An unreachable tolerance must surface as a ConvergenceError, not as a silent wrong answer.
    with pytest.raises(rd.ConvergenceError, match="did not converge"):
        rd.silverstein_density(np.linspace(0.1, 3, 5), np.ones(5), 0.5, tol=1e-30)


def test_silverstein_at_paper_scale():
    # Its speed is measured by benchmarks/micro.py, not asserted here.
    eta = np.arange(1, 10_001) ** -1.2
    x = np.geomspace(1e-8, 10, 400)
    dens = rd.silverstein_density(x, eta, 0.5)
    assert np.trapezoid(dens, x) == pytest.approx(1.0, rel=1e-2)


# ----------------------------------------------------------------------------- KS distance


def test_ks_distance_matches_scipy_without_atom():
    x = np.random.default_rng(3).uniform(size=500)
    grid = np.linspace(0, 1, 11)
    ours = rd.ks_distance(x, grid, np.ones_like(grid))
    assert ours == pytest.approx(stats.kstest(x, "uniform").statistic, abs=1e-12)


def test_ks_distance_atom_and_ties():
    grid = np.linspace(0, 1, 101)
    half = np.r_[np.zeros(500), (np.arange(500) + 0.5) / 500]
    assert rd.ks_distance(half, grid, 0.5 * np.ones_like(grid), atom_at_zero=0.5) < 2e-3
    # Same samples against a law without the atom: the jump of 1/2 at 0 is missed.
    assert rd.ks_distance(half, grid, np.ones_like(grid)) == pytest.approx(0.5, abs=2e-3)
    # All mass in the atom but no zero samples: the jump at 0 (not a sample point) is detected.
    assert rd.ks_distance([0.5, 0.6], grid, np.zeros_like(grid), atom_at_zero=1.0) == pytest.approx(1.0)


def test_ks_wigner_right_and_wrong():
    ev = rd.wigner_eigenvalues(400, (11,))
    grid = np.linspace(-3, 3, 3001)
    assert rd.ks_distance(ev, grid, rd.semicircle_density(grid)) < KS_OK
    assert rd.ks_distance(ev, grid, rd.semicircle_density(grid, radius=2.3)) > KS_OK


@pytest.mark.parametrize("q", [0.5, 2.0])
def test_ks_marchenko_pastur_right_and_wrong(q):
    D = 400
    P = int(D / q)
    ev = rd.wishart_eigenvalues(np.ones(D), P, (5, int(10 * q)))
    assert np.count_nonzero(ev == 0) == max(0, D - P)

    def ks(qq):
        lm, lp = rd.marchenko_pastur_edges(qq)
        grid = lm + (lp - lm) * 0.5 * (1 - np.cos(np.pi * np.linspace(0, 1, 4001)))
        return rd.ks_distance(ev, grid, rd.marchenko_pastur_density(grid, qq), rd.marchenko_pastur_zero_mass(qq))

    assert ks(D / P) < KS_OK
    assert ks(1.5 * D / P) > KS_OK


@pytest.mark.parametrize("q", [0.5, 2.0])
def test_ks_silverstein_right_and_wrong(q):
    D = 300
    P = int(D / q)
    eta = np.arange(1, D + 1) ** -1.2
    ev = rd.wishart_eigenvalues(eta, P, (7, int(10 * q)))
    grid = np.geomspace(1e-10, 10, 1500)

    def ks(qq):
        return rd.ks_distance(ev, grid, rd.silverstein_density(grid, eta, qq), rd.marchenko_pastur_zero_mass(qq))

    assert ks(D / P) < KS_OK
    assert ks(2.0 * D / P) > KS_OK
    # The population spectrum alone (the paper's dashed line) is also rejected.
    assert rd.ks_distance(ev, grid, rd.population_powerlaw_density(grid, 1.2, D)) > KS_OK


def test_ks_product_wishart_right_and_wrong():
    widths = [60, 300, 1800]
    ev = rd.product_wishart_eigenvalues(widths, (2,))
    assert ev.size == 1800 and np.count_nonzero(ev) == 60
    grid = np.linspace(0, 150, 30001)

    def ks_nonzero(w):
        dens = rd.product_wishart_density(grid, w) / (1 - rd.product_wishart_zero_mass(w))
        return rd.ks_distance(ev[ev > 0], grid, dens)

    assert ks_nonzero(widths) < 2 * KS_OK  # only 60 nonzero eigenvalues
    assert ks_nonzero([60, 600, 1800]) > 2 * KS_OK
    full = rd.ks_distance(ev, grid, rd.product_wishart_density(grid, widths), rd.product_wishart_zero_mass(widths))
    assert full < KS_OK


# ----------------------------------------------------------------------------- samplers


def test_samplers_are_seeded_and_sorted():
    a = rd.wigner_eigenvalues(50, (1, 2))
    assert np.array_equal(a, rd.wigner_eigenvalues(50, (1, 2)))
    assert not np.array_equal(a, rd.wigner_eigenvalues(50, (1, 3)))
    assert np.all(np.diff(a) >= 0)
    with pytest.raises(ValueError):
        rd.wigner_eigenvalues(5, (-1,))


def test_wishart_bartlett_matches_direct_in_law():
    # method="auto" draws X^T X through the Bartlett decomposition when P >= D; its eigenvalues must
    # follow the same law as the direct draw (trace and KS against the Silverstein density).
    D, P = 200, 600
    eta = np.linspace(0.2, 2.0, D)
    grid = np.geomspace(1e-4, 10, 1500)
    dens = rd.silverstein_density(grid, eta, D / P)
    for method in ("auto", "direct"):
        ev = np.concatenate([rd.wishart_eigenvalues(eta, P, (s,), method=method) for s in range(5)])
        assert ev.mean() == pytest.approx(eta.mean(), rel=0.01)
        assert rd.ks_distance(ev, grid, dens) < 0.02


def test_wishart_pads_zeros_when_p_below_d():
    ev = rd.wishart_eigenvalues(np.ones(100), 30, (0,))
    assert ev.size == 100 and np.count_nonzero(ev) == 30 and np.all(ev[:70] == 0)


# ----------------------------------------------------------------------------- builders and plots

SMALL_SPECS = {
    "wigner": {"N": 300, "bins": 30, "xlim": [-2.5, 2.5]},
    "white_wishart": {"N": 300, "q": {"logspace": [-1, 1, 3]}, "bins": 30},
    "structured_wishart": {"N": 200, "alpha": 1.2, "q": {"logspace": [-1, 1, 3]}, "bins": {"logspace": [-5, 1, 40]},
                           "grid_points": 500},
    "deep_wishart": {"widths": [60, 300, 1800], "lam_max": 150, "bins": 60},
}
EXPECTED_DIMS = {
    "wigner": {"eig_index": 300, "grid": 1001, "edge": 31},
    "white_wishart": {"q": 3, "eig_index": 300, "grid": 1001, "edge": 31},
    "structured_wishart": {"q": 3, "eig_index": 200, "k": 200, "grid": 500, "edge": 40, "bin": 39},
    "deep_wishart": {"eig_index": 1800, "grid": 4001, "edge": 61, "layer": 3},
}
N_AXES = {"wigner": 1, "white_wishart": 1, "structured_wishart": 1, "deep_wishart": 2}


@pytest.fixture(scope="module")
def built():
    return {kind: FIGURE_KINDS[kind].load_builder()(spec, (0, 7)) for kind, spec in SMALL_SPECS.items()}


@pytest.mark.parametrize("kind", list(SMALL_SPECS))
def test_builder_layout(built, kind, tmp_path):
    ds = built[kind]
    assert dict(ds.sizes) == EXPECTED_DIMS[kind]
    for name, var in ds.variables.items():
        assert var.attrs.get("long_name") and var.attrs.get("units"), name
        assert var.dtype.kind in "fi", name
    assert ds.attrs["kind"] == kind
    assert list(ds.attrs["entropy"]) == [0, 7]
    for name in ("eigenvalue", "density", "bin_edges", "ks_distance", "lam"):
        assert name in ds.variables
    if kind == "structured_wishart":  # the bin averages hold the continuous mass 1 - atom (the 1 % smoothing
        # leaks about 2 %; mass below the first bin edge is missing at q = 1, where the density diverges at 0)
        mass = (ds["density_binned"] * np.diff(ds["bin_edges"].values)).sum("bin").values
        cont = 1 - ds["zero_mass"].values
        assert np.all((mass >= 0.95 * cont) & (mass <= 1.03 * cont)), mass / cont
    assert np.all(ds["ks_distance"].values < KS_OK)
    assert np.all(ds["density"].values >= 0)
    # Reproducible and netCDF-serializable.
    again = FIGURE_KINDS[kind].load_builder()(SMALL_SPECS[kind], (0, 7))
    xr.testing.assert_identical(ds, again)
    path = tmp_path / f"{kind}.nc"
    ds.to_netcdf(path)
    xr.testing.assert_allclose(xr.load_dataset(path), ds)


def test_builder_values(built):
    ww = built["white_wishart"]
    np.testing.assert_allclose(ww["q_eff"], 300 / ww["P"])
    np.testing.assert_allclose(ww["zero_mass"], np.maximum(0, 1 - 1 / ww["q_eff"]))
    assert int((ww["eigenvalue"].isel(q=-1) == 0).sum()) == 300 - int(ww["P"][-1])
    sw = built["structured_wishart"]
    assert np.all(sw["ks_distance_population"].values > sw["ks_distance"].values)
    dw = built["deep_wishart"]
    assert float(dw["zero_mass"]) == pytest.approx(1 - 60 / 1800)
    assert float(dw["ks_distance_nonzero"]) < 2 * KS_OK


@pytest.mark.parametrize("kind", list(SMALL_SPECS))
def test_plot_returns_figure(built, kind):
    fig = getattr(ps, f"plot_{kind}")(dict(SMALL_SPECS[kind], kind=kind, id="A0"), {"data": [built[kind]]})
    assert isinstance(fig, Figure)
    assert len(fig.axes) == N_AXES[kind]
    fig.savefig(io.BytesIO(), format="png", dpi=50)
    # A bare Dataset under any role works too; a Dataset of another kind is refused.
    assert len(getattr(ps, f"plot_{kind}")({}, {"x": built[kind]}).axes) == N_AXES[kind]
    other = "wigner" if kind != "wigner" else "deep_wishart"
    with pytest.raises(ValueError):
        getattr(ps, f"plot_{kind}")({}, {"data": [built[other]]})
