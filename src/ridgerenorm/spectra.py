"""Population spectra, teachers and sample grids declared in the experiment config.

A spectrum spec gives the eigenvalues eta of Sigma; a teacher spec gives w in the same eigenbasis.  Each
`kind` is a module of the spectrum-kind registry (spectrum_kinds/: isotropic, power_law, blocks, file,
dataset; teachers flat, power_law, blocks, file, dataset); every teacher takes an optional `norm`: rescale w
to that Euclidean norm (null keeps the kind's own scaling).  The sample grids and the ridge schedule are
grids.py's.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from .grids import grid_q, ridge_values, sample_sizes, width_values
from .spectrum_kinds import dimension, population, structure

__all__ = ["population", "dimension", "sample_sizes", "grid_q", "ridge_values", "width_values",
           "population_dataset", "with_structure"]


def with_structure(ds: xr.Dataset, population: xr.Dataset) -> xr.Dataset:
    """`ds` (a theory file) with the population file's variables that describe its spectrum's shape (those not
    over the eigen-index k, e.g. block_size): a figure reads them from the file it draws."""
    shape = [name for name, v in population.data_vars.items() if "k" not in v.dims]
    return ds.assign({name: population[name] for name in shape}) if shape else ds


def population_dataset(spectrum: dict, teacher: dict) -> xr.Dataset:
    """The population spectrum and teacher as a Dataset over the eigen-index k.

    Parameters
    ----------
    spectrum, teacher : dict
        A spectrum spec and a teacher spec, as ``population`` takes them.

    Returns
    -------
    xarray.Dataset
        Variables eta(k) and w(k); attributes D, teacher_norm (|w|) and signal_power (Σ_k η_k w_k²).

    Examples
    --------
    >>> ds = population_dataset({"kind": "power_law", "D": 100, "alpha": 1.5}, {"kind": "flat"})
    >>> dict(ds.sizes), ds.attrs["D"], ds.attrs["teacher_norm"]
    ({'k': 100}, 100, 10.0)
    """
    eta, w = population(spectrum, teacher)
    k = np.arange(1, eta.size + 1)
    ds = xr.Dataset(
        {
            "eta": ("k", eta, {"long_name": "population eigenvalue of Sigma", "units": "1"}),
            "w": ("k", w, {"long_name": "teacher weight in the eigenbasis of Sigma", "units": "1"}),
        },
        coords={"k": ("k", k, {"long_name": "eigen-index (descending eigenvalue)", "units": "1"})},
    )
    for name, (dims, values, var_attrs) in structure(spectrum).items():
        ds[name] = (dims, values, var_attrs)
    ds.attrs["D"] = int(eta.size)
    ds.attrs["teacher_norm"] = float(np.linalg.norm(w))
    ds.attrs["signal_power"] = float(np.sum(eta * w**2))
    return ds
