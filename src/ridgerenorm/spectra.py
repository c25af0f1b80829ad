"""Population spectra, teachers and sample grids declared in the experiment config.

A spectrum spec gives the eigenvalues eta of Sigma; a teacher spec gives w in the same eigenbasis.
Kinds (docs/figures.md conventions):
  spectrum  isotropic  {D}                  eta_k = 1
            power_law  {D, alpha}           eta_k = k^-alpha
            blocks     {sizes, values}      eta constant on consecutive blocks
  teacher   flat       {}                   w_k = 1
            power_law  {r}                  w_k = k^(-(1 + alpha (2r - 1))/2) (needs a power_law spectrum)
            blocks     {values}             w constant on the spectrum's blocks
  every teacher takes an optional `norm`: rescale w to that Euclidean norm (null keeps w_1 = 1 scaling).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

__all__ = ["population", "dimension", "sample_sizes", "grid_q", "population_dataset"]


def dimension(spectrum: dict) -> int:
    """Input dimension D of a spectrum spec."""
    if spectrum["kind"] == "blocks":
        return int(sum(spectrum["sizes"]))
    return int(spectrum["D"])


def population(spectrum: dict, teacher: dict) -> tuple[np.ndarray, np.ndarray]:
    """The population eigenvalues eta of Sigma (descending) and the teacher w in its eigenbasis, as float64
    arrays of length D: the two arrays the theory API (ridgerenorm.theory) takes.

    spectrum: {"kind": "isotropic", "D": D}, {"kind": "power_law", "D": D, "alpha": a} (eta_k = k^-a) or
        {"kind": "blocks", "sizes": [n1, ...], "values": [v1, ...]} (eta = v_i on n_i consecutive entries).
    teacher: {"kind": "flat"} (w_k = 1), {"kind": "power_law", "r": r} (source exponent; needs a power_law
        spectrum) or {"kind": "blocks", "values": [...]} (needs a blocks spectrum); optional "norm" rescales w
        to that Euclidean norm.

        >>> eta, w = population({"kind": "power_law", "D": 1000, "alpha": 1.5}, {"kind": "power_law", "r": 0.5})

    An unknown kind, or a teacher that does not fit the spectrum, raises ValueError with one line.
    """
    kind = spectrum.get("kind")
    if kind not in ("isotropic", "power_law", "blocks"):
        raise ValueError(f"spectrum kind {kind!r} is unknown (known: blocks, isotropic, power_law)")
    D = dimension(spectrum)
    k = np.arange(1, D + 1, dtype=float)
    if kind == "isotropic":
        eta = np.ones(D)
    elif kind == "power_law":
        eta = k ** (-float(spectrum["alpha"]))
    elif kind == "blocks":
        eta = np.repeat(np.asarray(spectrum["values"], dtype=float), spectrum["sizes"])

    tkind = teacher.get("kind")
    if tkind == "flat":
        w = np.ones(D)
    elif tkind == "power_law":
        if kind != "power_law":
            raise ValueError(f"teacher.kind = 'power_law' needs spectrum.kind = 'power_law', got {kind!r}")
        alpha, r = float(spectrum["alpha"]), float(teacher["r"])
        w = k ** (-(1.0 + alpha * (2.0 * r - 1.0)) / 2.0)
    elif tkind == "blocks":
        if kind != "blocks":
            raise ValueError(f"teacher.kind = 'blocks' needs spectrum.kind = 'blocks', got {kind!r}")
        w = np.repeat(np.asarray(teacher["values"], dtype=float), spectrum["sizes"])
    else:
        raise ValueError(f"teacher kind {tkind!r} is unknown (known: blocks, flat, power_law)")
    norm = teacher.get("norm")
    if norm is not None:
        w = w * (float(norm) / np.linalg.norm(w))
    return eta, w


def grid_q(grid: dict | list) -> np.ndarray:
    """Values of q = D/P from a grid spec: a list, {logspace: [a, b, n]} (q = 10^linspace(a, b, n)) or
    {inverse_linspace: [a, b, n]} (q = 1/linspace(a, b, n), i.e. P/D evenly spaced); optional
    drop_first: true removes the first point (docs/figures.md "without its first point")."""
    if isinstance(grid, (list, tuple)):
        return np.asarray(grid, dtype=float)
    if "logspace" in grid:
        a, b, n = grid["logspace"]
        q = np.logspace(a, b, int(n))
    elif "inverse_linspace" in grid:
        a, b, n = grid["inverse_linspace"]
        q = 1.0 / np.linspace(a, b, int(n))
    else:
        raise ValueError(f"grid = {grid!r}: expected a list, logspace or inverse_linspace")
    if grid.get("drop_first", False):
        q = q[1:]
    return q


def sample_sizes(grid, D: int) -> np.ndarray:
    """Integer sample sizes P = int(D/q), unique and ascending (P >= 1)."""
    P = np.floor(D / grid_q(grid) + 1e-9).astype(np.int64)
    if np.any(P < 1):
        raise ValueError(f"grid {grid!r} gives P < 1 for D = {D}")
    return np.unique(P)


def ridge_values(ridge, P) -> np.ndarray:
    """Lambda at each P: a constant, or P^-l for a {power: l} schedule."""
    P = np.asarray(P, dtype=float)
    if isinstance(ridge, dict):
        return P ** (-float(ridge["power"]))
    return np.full(P.shape, float(ridge))


def width_values(grid: dict) -> np.ndarray:
    """Integer widths of a width_grid spec: unique ints of 10^linspace(a, b, n)."""
    a, b, n = grid["logspace"]
    return np.unique(np.logspace(a, b, int(n)).astype(np.int64))


def population_dataset(spectrum: dict, teacher: dict) -> xr.Dataset:
    """The population spectrum and teacher as a Dataset over the eigen-index k."""
    eta, w = population(spectrum, teacher)
    k = np.arange(1, eta.size + 1)
    ds = xr.Dataset(
        {
            "eta": ("k", eta, {"long_name": "population eigenvalue of Sigma", "units": "1"}),
            "w": ("k", w, {"long_name": "teacher weight in the eigenbasis of Sigma", "units": "1"}),
        },
        coords={"k": ("k", k, {"long_name": "eigen-index (descending eigenvalue)", "units": "1"})},
    )
    ds.attrs["D"] = int(eta.size)
    ds.attrs["teacher_norm"] = float(np.linalg.norm(w))
    ds.attrs["signal_power"] = float(np.sum(eta * w**2))
    return ds
