"""The data of the random-matrix figures of docs/figures.md section A (their figure kinds' builders).

Each builder samples its matrices and evaluates the limiting densities of ridgerenorm.densities; the figure
kinds (plotting/__init__.py) name them, and plotting/spectra.py draws what they return.  This module imports
no plotting library, so a data job's code stamp does not follow the drawing code.

Figure builders ``build_<kind>(spec, entropy) -> xarray.Dataset``; ``spec`` is a plain dict, keys
not listed are ignored (so the whole figure entry of the config can be passed)::

    wigner (A1)
        N           int            matrix size (2000)
        bins        int            histogram bins over xlim (50)
        xlim        [lo, hi]       histogram / theory range ([-2.5, 2.5])
        grid_points int, optional  theory grid size (default 1001)
    white_wishart (A2)
        N           int            dimension D of the data (3000)
        q           q-grid         list of q, or {"logspace": [a, b, n]} (q = 10^linspace(a, b, n)); P = int(N/q)
        bins        int            histogram bins per q, spanning that q's nonzero eigenvalues (50)
        grid_points int, optional  theory points per q (default 1001)
    structured_wishart (A3)
        N           int            dimension D (1000)
        alpha       float          eta_k = k^(-alpha) (1.2)
        q           q-grid         as for white_wishart
        bins        edges          histogram bin edges: a list, or {"logspace": [a, b, n]} = np.logspace(a, b, n)
                                   (n edges); or an int = that many log-spaced bins over the nonzero eigenvalues
        grid_points int, optional  points of the shared log-spaced theory grid (default 800); the grid spans
                                   [first edge * 1e-4, last edge] so the KS distance sees the whole support
        eps         float, optional relative broadening of the Silverstein solve (default 1e-6)
    deep_wishart (A4)
        widths      [w_0, ..., w_L] layer widths ([200, 1000, 6000])
        lam_max     float          histogram / theory range [0, lam_max] (100)
        bins        int            histogram bins over [0, lam_max] (100)
        grid_points int, optional  theory grid size (default 4001)

Datasets (every variable and coordinate has ``long_name`` and ``units``; ``units = "1"`` means
dimensionless; densities are per unit eigenvalue, which is dimensionless too, so their units are "1" and
their long_name ends "(density per unit eigenvalue)"; with the atoms they are normalized over all D
eigenvalues)::

    wigner          dims eig_index (N), grid, edge (bins+1)
                    eigenvalue(eig_index), lam(grid), density(grid), bin_edges(edge), ks_distance()
    white_wishart   dims q, eig_index (N), grid, edge
                    P(q), q_eff(q) = N/P, zero_mass(q), lambda_minus(q), lambda_plus(q),
                    eigenvalue(q, eig_index), lam(q, grid) [per-q grid, clustered at the MP edges],
                    density(q, grid), bin_edges(q, edge), ks_distance(q), ks_distance_nonzero(q)
    structured_wishart  dims q, eig_index (N), k (N), grid, edge
                    eta(k), P(q), q_eff(q), zero_mass(q), eigenvalue(q, eig_index), lam(grid),
                    population_density(grid), density(q, grid) [Silverstein], bin_edges(edge),
                    ks_distance(q) [vs Silverstein + atom], ks_distance_nonzero(q),
                    ks_distance_population(q) [vs population density], density_binned(q, bin)
                    [binned_silverstein_density over each bin], bin_center(bin)
    deep_wishart    dims eig_index (widths[-1]), grid, edge, layer (len(widths))
                    widths(layer), eigenvalue(eig_index), lam(grid), density(grid), zero_mass(),
                    bin_edges(edge), ks_distance(), ks_distance_nonzero()

ks_distance compares all eigenvalues with density + atom; ks_distance_nonzero compares the nonzero
eigenvalues with the continuous density divided by its exact mass 1 - atom (not diluted by the atom).
Per-q panels draw from entropy + (i,) for the i-th q, so panels are independent and reproducible.
Dataset attrs: title, kind, figure, entropy (int array), spec_json.
"""

from __future__ import annotations

import json

import numpy as np
import xarray as xr

from ..densities import (
    BINNED_EPS,
    binned_silverstein_density,
    ks_distance,
    marchenko_pastur_density,
    marchenko_pastur_edges,
    marchenko_pastur_zero_mass,
    population_powerlaw_density,
    product_wishart_density,
    product_wishart_eigenvalues,
    product_wishart_zero_mass,
    semicircle_density,
    silverstein_density,
    wigner_eigenvalues,
    wishart_eigenvalues,
)
from ..grids import sizes_from_q

__all__ = ["build_wigner", "build_white_wishart", "build_structured_wishart", "build_deep_wishart"]


def _values(spec_value) -> np.ndarray:
    """A list, or {"logspace": [a, b, n]} / {"linspace": [a, b, n]} (numpy semantics)."""
    if isinstance(spec_value, dict):
        if len(spec_value) != 1 or next(iter(spec_value)) not in ("logspace", "linspace"):
            raise ValueError(f"expected a list, {{logspace: [a, b, n]}} or {{linspace: [a, b, n]}}, got {spec_value!r}")
        (name, (a, b, n)), = spec_value.items()
        return getattr(np, name)(float(a), float(b), int(n))
    return np.atleast_1d(np.asarray(spec_value, dtype=float))


def _attrs(long_name: str, units: str = "1", **extra) -> dict:
    return {"long_name": long_name, "units": units, **extra}


def _density_attrs(long_name: str, **extra) -> dict:
    # A density per unit eigenvalue has the inverse units of the eigenvalue, which is dimensionless here;
    # "1/eigenvalue" is not a UDUNITS unit, so the units are "1" and the long_name says what it is per.
    return _attrs(long_name + " (density per unit eigenvalue)", "1", **extra)


def _finish(ds: xr.Dataset, kind: str, spec: dict, entropy) -> xr.Dataset:
    # the title and the figure id come from the figure kind's registry entry (plotting.build_data)
    ds.attrs.update(
        kind=kind,
        entropy=np.asarray([int(e) for e in entropy], dtype=np.int64),
        spec_json=json.dumps(spec, sort_keys=True, default=str),
    )
    return ds


_KS_NZ_NAME = "Kolmogorov-Smirnov distance, nonzero samples vs continuous density / (1 - atom)"


def _ks_nonzero(ev, lam, dens, zero_mass):
    # The full KS distance is diluted by the atom (e.g. 29/30 of A4's eigenvalues are 0); this one
    # compares the nonzero eigenvalues with the continuous part normalized by its exact mass.
    return ks_distance(ev[ev != 0], lam, dens / (1.0 - zero_mass))


def _q_grid(spec, D):
    q_nominal = _values(spec["q"])
    P = sizes_from_q(D, q_nominal).astype(np.int64)
    if np.any(P < 1):
        raise ValueError(f"q grid {spec['q']!r} gives P < 1 for N = {D}")
    return q_nominal, P, D / P


def _common_coords(D):
    return {"eig_index": ("eig_index", np.arange(D), _attrs("index of the sorted eigenvalue (ascending)"))}


def build_wigner(spec: dict, entropy) -> xr.Dataset:
    """A1: eigenvalues of a Wigner matrix and the semicircle (see module docstring for keys/layout)."""
    N, bins = int(spec["N"]), int(spec["bins"])
    lo, hi = (float(v) for v in spec.get("xlim", [-2.5, 2.5]))
    ev = wigner_eigenvalues(N, tuple(entropy))
    lam = np.linspace(lo, hi, int(spec.get("grid_points", 1001)))
    dens = semicircle_density(lam)
    ds = xr.Dataset(
        {
            "eigenvalue": ("eig_index", ev, _attrs("eigenvalue of the symmetrized G/sqrt(N)")),
            "density": ("grid", dens, _density_attrs("semicircle density")),
            "bin_edges": ("edge", np.linspace(lo, hi, bins + 1), _attrs("histogram bin edge")),
            "ks_distance": ((), ks_distance(ev, lam, dens), _attrs("Kolmogorov-Smirnov distance, samples vs semicircle")),
        },
        coords={**_common_coords(N), "lam": ("grid", lam, _attrs("eigenvalue (theory grid)"))},
    )
    ds.attrs["N"] = N
    return _finish(ds, "wigner", spec, entropy)


def _mp_grid(q, n):
    # Points cluster at the edges (cosine spacing) where the square roots vary fastest.
    lm, lp = marchenko_pastur_edges(q)
    u = np.linspace(0.0, 1.0, n)
    return lm + (lp - lm) * 0.5 * (1.0 - np.cos(np.pi * u))


def build_white_wishart(spec: dict, entropy) -> xr.Dataset:
    """A2: sample-covariance eigenvalues of white data vs Marchenko-Pastur, one panel per q."""
    D, bins = int(spec["N"]), int(spec["bins"])
    n_grid = int(spec.get("grid_points", 1001))
    q_nom, P, q_eff = _q_grid(spec, D)
    eta = np.ones(D)
    ev = np.stack([wishart_eigenvalues(eta, p, tuple(entropy) + (i,)) for i, p in enumerate(P)])
    lam = np.stack([_mp_grid(q, n_grid) for q in q_eff])
    dens = np.stack([marchenko_pastur_density(lam[i], q) for i, q in enumerate(q_eff)])
    zero = np.array([marchenko_pastur_zero_mass(q) for q in q_eff])
    edges = np.stack([np.linspace(e[e > 0].min(), e.max(), bins + 1) for e in ev])
    ks = np.array([ks_distance(ev[i], lam[i], dens[i], zero[i]) for i in range(q_eff.size)])
    ks_nz = np.array([_ks_nonzero(ev[i], lam[i], dens[i], zero[i]) for i in range(q_eff.size)])
    lm, lp = np.array([marchenko_pastur_edges(q) for q in q_eff]).T
    ds = xr.Dataset(
        {
            "P": ("q", P, _attrs("number of samples P = int(N/q)")),
            "q_eff": ("q", q_eff, _attrs("effective ratio D/P used by the theory")),
            "zero_mass": ("q", zero, _attrs("mass of the atom at 0, max(0, 1-1/q)")),
            "lambda_minus": ("q", lm, _attrs("lower MP edge (1-sqrt(q))^2")),
            "lambda_plus": ("q", lp, _attrs("upper MP edge (1+sqrt(q))^2")),
            "eigenvalue": (("q", "eig_index"), ev, _attrs("eigenvalue of the sample covariance X^T X/P")),
            "density": (("q", "grid"), dens, _density_attrs("Marchenko-Pastur density, continuous part")),
            "bin_edges": (("q", "edge"), edges, _attrs("histogram bin edge (over the nonzero eigenvalues)")),
            "ks_distance": ("q", ks, _attrs("Kolmogorov-Smirnov distance, samples vs MP (with atom)")),
            "ks_distance_nonzero": ("q", ks_nz, _attrs(_KS_NZ_NAME)),
        },
        coords={
            "q": ("q", q_nom, _attrs("nominal ratio q = N/P")),
            **_common_coords(D),
            "lam": (("q", "grid"), lam, _attrs("eigenvalue (theory grid of each q)")),
        },
    )
    ds.attrs["N"] = D
    return _finish(ds, "white_wishart", spec, entropy)



def build_structured_wishart(spec: dict, entropy) -> xr.Dataset:
    """A3: sample-covariance eigenvalues of power-law data, population density and Silverstein density."""
    D, alpha = int(spec["N"]), float(spec["alpha"])
    n_grid = int(spec.get("grid_points", 800))
    eps = float(spec.get("eps", 1e-6))
    q_nom, P, q_eff = _q_grid(spec, D)
    eta = np.arange(1, D + 1, dtype=float) ** (-alpha)
    ev = np.stack([wishart_eigenvalues(eta, p, tuple(entropy) + (i,)) for i, p in enumerate(P)])
    bins = spec["bins"]
    if isinstance(bins, (int, np.integer)):
        nz = ev[ev > 0]
        edges = np.geomspace(nz.min(), nz.max(), int(bins) + 1)
    else:
        edges = _values(bins)
    lam = np.geomspace(edges[0] * 1e-4, edges[-1], n_grid)
    pop = population_powerlaw_density(lam, alpha, D)
    dens = np.stack([silverstein_density(lam, eta, q, eps) for q in q_eff])
    zero = np.array([marchenko_pastur_zero_mass(q) for q in q_eff])
    ks = np.array([ks_distance(ev[i], lam, dens[i], zero[i]) for i in range(q_eff.size)])
    ks_nz = np.array([_ks_nonzero(ev[i], lam, dens[i], zero[i]) for i in range(q_eff.size)])
    ks_pop = np.array([ks_distance(ev[i], lam, pop) for i in range(q_eff.size)])
    binned = np.stack([binned_silverstein_density(edges, eta, q) for q in q_eff])
    ds = xr.Dataset(
        {
            "density_binned": (("q", "bin"), binned,
                               _density_attrs("Silverstein density averaged over each histogram bin (smoothed at "
                                              "1 % of lambda, so the resolved top eigenvalues do not show as a comb)",
                                              eps=BINNED_EPS)),
            "eta": ("k", eta, _attrs("population eigenvalue eta_k = k^-alpha")),
            "P": ("q", P, _attrs("number of samples P = int(N/q)")),
            "q_eff": ("q", q_eff, _attrs("effective ratio D/P used by the theory")),
            "zero_mass": ("q", zero, _attrs("mass of the atom at 0, max(0, 1-1/q)")),
            "eigenvalue": (("q", "eig_index"), ev, _attrs("eigenvalue of the sample covariance X^T X/P")),
            "population_density": ("grid", pop, _density_attrs("continuum population density ~ lam^(-1-1/alpha)")),
            "density": (("q", "grid"), dens,
                        _density_attrs("limiting density of the sample covariance (Silverstein), continuous part",
                                       eps=eps)),
            "bin_edges": ("edge", edges, _attrs("histogram bin edge (log-spaced)")),
            "ks_distance": ("q", ks, _attrs("Kolmogorov-Smirnov distance, samples vs Silverstein density (with atom)")),
            "ks_distance_nonzero": ("q", ks_nz, _attrs(_KS_NZ_NAME)),
            "ks_distance_population": ("q", ks_pop, _attrs("Kolmogorov-Smirnov distance, samples vs population density")),
        },
        coords={
            "q": ("q", q_nom, _attrs("nominal ratio q = N/P")),
            "k": ("k", np.arange(1, D + 1), _attrs("population eigen-index")),
            **_common_coords(D),
            "lam": ("grid", lam, _attrs("eigenvalue (log-spaced theory grid)")),
            "bin_center": ("bin", np.sqrt(edges[1:] * edges[:-1]), _attrs("geometric centre of a histogram bin")),
        },
    )
    ds.attrs.update(N=D, alpha=alpha)
    return _finish(ds, "structured_wishart", spec, entropy)


def build_deep_wishart(spec: dict, entropy) -> xr.Dataset:
    """A4: eigenvalues of XᵀX for a product of white factors vs the S-transform density."""
    widths = [int(w) for w in spec["widths"]]
    lam_max, bins = float(spec["lam_max"]), int(spec["bins"])
    ev = product_wishart_eigenvalues(widths, tuple(entropy))
    lam = np.linspace(0.0, lam_max, int(spec.get("grid_points", 4001)))
    dens = product_wishart_density(lam, widths)
    zero = product_wishart_zero_mass(widths)
    ds = xr.Dataset(
        {
            "widths": ("layer", np.asarray(widths, dtype=np.int64), _attrs("layer width")),
            "eigenvalue": ("eig_index", ev, _attrs("eigenvalue of X^T X, X = X_1 ... X_L")),
            "density": ("grid", dens, _density_attrs("product-Wishart density, continuous part")),
            "zero_mass": ((), zero, _attrs("mass of the atom at 0, 1 - min(widths)/widths[-1]")),
            "bin_edges": ("edge", np.linspace(0.0, lam_max, bins + 1), _attrs("histogram bin edge")),
            "ks_distance": ((), ks_distance(ev, lam, dens, zero),
                            _attrs("Kolmogorov-Smirnov distance, samples vs product-Wishart law (with atom)")),
            "ks_distance_nonzero": ((), _ks_nonzero(ev, lam, dens, zero), _attrs(_KS_NZ_NAME)),
        },
        coords={
            "layer": ("layer", np.arange(len(widths)), _attrs("layer index (0 = input)")),
            **_common_coords(widths[-1]),
            "lam": ("grid", lam, _attrs("eigenvalue (theory grid)")),
        },
    )
    return _finish(ds, "deep_wishart", spec, entropy)
