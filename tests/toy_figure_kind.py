"""A figure kind defined outside the package: the sorted sample of n standard normal draws against the
normal quantiles (a Q-Q plot), with its own data builder.

It exists to show that a figure kind is one module plus one `register` call: its plot function, its data
builder, the schema of its params, the memory of its data job and the words of its data file's title all
sit in the one registry entry below, and nothing of the package names it.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib.figure import Figure
from scipy.special import ndtri

from ridgerenorm.limits import MAX_SIZE
from ridgerenorm.plotting import FigureKind, register

NAME = "toy_normal_qq"
MAX_DRAWS = 10**6  # the schema's cap (a job far larger than any machine is tested through the memory check)


def build(params: dict, entropy) -> xr.Dataset:
    """The sorted sample of params['n'] standard normal draws and the normal quantiles at (i + 1/2)/n."""
    n = int(params["n"])
    sample = np.sort(np.random.default_rng(np.random.SeedSequence(list(entropy))).standard_normal(n))
    quantile = ndtri((np.arange(n) + 0.5) / n)
    return xr.Dataset(
        {"sample": ("rank", sample, {"long_name": "sorted standard normal draw", "units": "1"}),
         "quantile": ("rank", quantile, {"long_name": "standard normal quantile at (rank + 1/2)/n", "units": "1"})},
        coords={"rank": ("rank", np.arange(n), {"long_name": "rank of the draw (ascending)", "units": "1"})},
    )


def job_bytes(params: dict) -> float:
    """Peak bytes of the data job: the sample, the quantiles and the sort's copy."""
    return 8.0 * 3 * float(params["n"])


def plot(spec: dict, data: dict) -> Figure:
    (ds,) = data["data"]
    fig = Figure(figsize=(3.4, 2.8), layout="constrained")
    ax = fig.subplots()
    ax.plot(ds["quantile"].values, ds["quantile"].values, color="black", label="theory: y = x", gid="identity")
    ax.plot(ds["quantile"].values, ds["sample"].values, "o", ms=2, label=f"sample, n = {ds.sizes['rank']}",
            gid="sample")
    ax.set_xlabel("normal quantile")
    ax.set_ylabel("sorted sample")
    ax.legend()
    return fig


KIND = register(FigureKind(
    NAME, f"{__name__}:plot", builder=f"{__name__}:build",
    title="toy normal sample of figure {figure}: sorted draws against the normal quantiles",
    equations=("Q-Q plot: the i-th smallest of n draws against Φ⁻¹((i + 1/2)/n).",),
    params={"type": "object", "required": ["n"], "additionalProperties": False,
            "properties": {"n": {"type": "integer", "minimum": 2, "maximum": min(MAX_DRAWS, MAX_SIZE)}}},
    memory=job_bytes, memory_key="n", guides=("identity",),
))
