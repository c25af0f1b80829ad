"""What every model provides, and the helpers the sample-grid models (linear ridge, random features) share.

A `Model` owns its config keys (a JSON-schema fragment the config schema is assembled from), their defaults
and checks, and the four steps of an experiment: simulate a block of data draws, merge the blocks into
error components, evaluate the theory on a grid, and the memory and flops a simulation job costs.  It also
names the equations its captions list and the quantities it produces (quantities.py describes them).

A model imports the theory package inside its `theory` method and estimators.py inside `merge`, on purpose:
the code stamp a step's results record (deps.py) follows where imports are placed, counting the imports inside
the functions named after the step, so an edit to the theory reruns the theory step and not the simulations.
Importing any one theory module (`from ..theory.solver import ...`) runs theory/__init__.py and so loads them
all: what a simulation needs must not come from the theory package (activations.py holds what the nonlinear
simulation and its theory share).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import xarray as xr

from .. import spectra
from ..quantities import add_derived, attrs

__all__ = ["Model", "SimulationResult", "grid_block", "sample_grid", "theory_sample_sizes", "grid_theory_memory_mb", "concat_blocks",
           "summaries", "grid_theory_dataset", "FUNCTIONALS"]

# docs/theory.md §1: the spectral functionals every theory caption starts from
FUNCTIONALS = ("df₁(κ) = (1/D) Σ_k η_k/(η_k + κ), df₂(κ) = (1/D) Σ_k η_k²/(η_k + κ)², "
               "tf₁′(κ) = Σ_k w_k² η_k/(η_k + κ)², tf₂(κ) = Σ_k w_k² η_k²/(η_k + κ)²; q = D/P.")


@dataclass
class SimulationResult:
    """A simulation block: its Dataset, GEMM and factorization flop counts, and its seed keys."""

    dataset: xr.Dataset
    flops_gemm: float
    flops_factor: float
    seeds: dict
    extra: dict = field(default_factory=dict)


class Model:
    """Base class of a model.  Subclasses set the class attributes and implement the step methods."""

    name: str = ""
    description: str = ""
    caption_name: str = ""  # what a figure caption calls the model ("linear ridge regression")
    properties: dict = {}  # JSON-schema properties of the model's own experiment keys
    required: tuple = ()  # model keys an experiment must give
    # model keys a simulation job's memory grows with, and how a user shrinks each tenfold ("size": divide
    # the number(s), "size_grid": a {logspace} of sizes one decade lower, "count_list": a tenth of the list);
    # the config check (config.py) names the one that matters most when a job does not fit the machine (ties:
    # counts of draws first, then dimensions, in this order)
    size_keys: dict = {}
    simulate_keys: tuple = ()  # model keys the simulate and merge steps receive
    theory_keys: tuple = ()  # model keys the theory step receives
    merge_needs_spectrum: bool = False
    error_quantities: tuple = ()  # error components the merge and theory produce (quantities.py names)
    param_quantities: tuple = ()  # renormalized parameters the theory produces
    derived: tuple = ()  # quantities the theory file adds to the theory's own (quantities.add_derived)

    # ---------------------------------------------------------------- configuration

    def check(self, exp: dict, fail) -> None:
        """Semantic checks the schema cannot express; call fail(key, value, why) on a problem."""

    def resolve(self, exp: dict, D: int) -> None:
        """Fill in defaults in a resolved experiment spec (in place)."""

    def sample_sizes(self, spec: dict) -> np.ndarray:
        """The simulated sample sizes P."""
        return spectra.sample_sizes(spec["samples"], spec["D"])

    # ---------------------------------------------------------------- steps

    def simulate(self, spec: dict, population: xr.Dataset, draws: range, *, threads: int,
                 mem_budget_bytes: float) -> SimulationResult:
        """Simulate the data draws `draws` (a block of 0..draws-1) of an experiment."""
        raise NotImplementedError

    def merge(self, spec: dict, blocks: list, population: xr.Dataset | None) -> tuple[xr.Dataset, dict]:
        """Merged Dataset and provenance extras (seed keys under 'seeds')."""
        raise NotImplementedError

    def theory(self, spec: dict, population: xr.Dataset) -> xr.Dataset:
        """The theory on the experiment's grid, as the file the theory step writes."""
        raise NotImplementedError

    def point_theory(self, spec: dict, eta, w, P, lam) -> xr.Dataset:
        """The theory (the theory package) at sample sizes P and ridges lam (equal-length arrays, one lambda per P)
        for population eigenvalues eta and teacher w, as a Dataset over `point`.  Models whose theory is a
        function of (P, lambda) on a sample grid provide it; `ridgerenorm curve` evaluates it."""
        raise NotImplementedError(f"model {self.name!r} has no theory over (P, lambda)")

    # ---------------------------------------------------------------- costs and captions

    def memory_mb(self, spec: dict, n_draws: int, mem_budget_bytes: float, threads: int) -> int:
        raise NotImplementedError

    def merge_memory_mb(self, spec: dict) -> int | None:
        """Memory (MB) of the merge job, which holds every block at once (not chunked to mem_budget_gb);
        None when the model gives no estimate (a merge whose size the simulation job's already bounds)."""
        return None

    def theory_poles(self, spec: dict) -> list[tuple[int, str]]:
        """(P, why) of each sample size where the theory at ridge 0 is infinite (an interpolation threshold
        whose divergence nothing regularizes); config.config_warnings warns when one lies on the theory grid
        at ridge 0."""
        return []

    def theory_memory_mb(self, spec: dict) -> int | None:
        """Memory (MB) of the theory job; None when the model gives no estimate."""
        return None

    def flops(self, spec: dict) -> dict:
        """{'gemm', 'factor', 'merge', 'fits'} of the whole experiment's simulation."""
        raise NotImplementedError

    def equations(self, spec: dict) -> list[str]:
        """The docs/theory.md equations the theory curves of an experiment evaluate, as caption lines."""
        return []

    def __repr__(self) -> str:
        return f"<model {self.name}>"


# -------------------------------------------------------------------- helpers of the sample-grid models


def sample_grid(spec: dict):
    """Simulated sample sizes P and the ridge at each."""
    P = spectra.sample_sizes(spec["samples"], spec["D"])
    return P, spectra.ridge_values(spec["ridge"], P)


def grid_block(spec: dict, draws: range, P, lam, data: dict, res: dict, streams: str, *, coords: dict | None = None,
               feature_draws: int | None = None, extra: dict | None = None) -> SimulationResult:
    """A sample-grid simulation block (data draws `draws`, sample sizes P with ridge lam): the model's per-draw
    `data` variables with the ridge appended, on coordinates draw and P (then the model's own `coords`), the flop
    counts of `res`, and the seed record naming the root seed, the data draws, the streams and, for a
    feature-averaged model, the feature draws 0..feature_draws."""
    data = {**data, "lam": ("P", lam, attrs("lam"))}
    coords = {"draw": ("draw", np.arange(draws.start, draws.stop)), "P": ("P", P, attrs("P")), **(coords or {})}
    seeds = {"root_seed": spec["seed"], "experiment": spec["name"], "data_draws": [draws.start, draws.stop],
             "streams": streams}
    if feature_draws is not None:
        seeds["feature_draws"] = [0, int(feature_draws)]
    return SimulationResult(xr.Dataset(data, coords=coords), res["flops"], res["flops_factor"], seeds, extra or {})


def theory_sample_sizes(spec: dict):
    """The theory's P: the dense theory grid merged with the simulated P (so agreement reads theory there)."""
    P_sim, _ = sample_grid(spec)
    P_dense = spec["D"] / spectra.grid_q(spec["theory_samples"])
    return np.unique(np.concatenate([P_dense, P_sim.astype(float)])), P_sim


def grid_theory_memory_mb(spec: dict) -> int:
    """Memory (MB) of a theory job on a sample grid: the theory forms (point, D) arrays, at most three at a time
    (measured: 24-25 bytes per point per dimension for linear ridge, linear and nonlinear random features)."""
    from ..costs import declared_mb

    P, _ = theory_sample_sizes(spec)
    return declared_mb(3 * 8.0 * P.size * int(spec["D"]), 0, 0)


def concat_blocks(spec: dict, blocks: list) -> xr.Dataset:
    """Simulation blocks concatenated over data draws, checked to cover 0..draws-1."""
    ds = xr.concat(blocks, dim="draw", data_vars="minimal", coords="minimal", compat="override").sortby("draw")
    draws = ds.draw.values
    if not np.array_equal(draws, np.arange(spec["draws"])):
        raise SystemExit(f"error: blocks cover draws {draws.tolist()}, expected 0..{spec['draws'] - 1}")
    return ds


def summaries(ds, names, two_way: bool) -> dict:
    """Mean, seed-to-seed std, standard error and per-draw values over P of per-draw quantities."""
    from ..estimators import mean_and_se, two_way_mean_se

    out = {}
    dims = ("draw", "fdraw", "P") if two_way else ("draw", "P")
    for name in names:
        m, s, se = (two_way_mean_se if two_way else mean_and_se)(ds[name].values)
        out[name] = ("P", m, attrs(name))
        out[name + "_std"] = ("P", s, attrs(name + "_std"))
        out[name + "_se"] = ("P", se, attrs(name + "_se"))
        out[name + "_per_draw"] = (dims, ds[name].values, attrs(name))
    return out


def block_provenance(spec: dict, blocks: list) -> dict:
    """Provenance extras of a merged file: summed simulation time and flops, and the block commands."""
    wall_sim = float(sum(b.attrs.get("wall_time_s", 0.0) for b in blocks))
    flops = float(sum(b.attrs.get("flops_gemm", 0.0) + b.attrs.get("flops_factor", 0.0) for b in blocks))
    seeds = json.loads(blocks[0].attrs["seed_keys"])
    seeds["data_draws"] = [0, int(spec["draws"])]
    return {"simulation_wall_time_s": wall_sim, "flops_total": flops, "n_blocks": len(blocks),
            "block_commands": [b.attrs["command"] for b in blocks], "seeds": seeds}


TWO_WAY_COMPONENTS = ("bias", "var_x", "var_f", "var_xf", "var_f_xf", "var_xeps", "var_xfeps")


def two_way_dataset(spec: dict, ds: xr.Dataset, comp: dict, per_draw) -> xr.Dataset:
    """The merged file of a data x feature-draw model: summaries of the per-draw quantities, the two-way
    components (with Var_F + Var_XF derived) and their standard errors, lambda, and the P, q, draw, fdraw
    coordinates."""
    out = summaries(ds, per_draw, two_way=True)
    add_derived(comp, ("var_f_xf",))
    for name in TWO_WAY_COMPONENTS:
        out[name] = ("P", comp[name], attrs(name))
        out[name + "_se"] = ("P", comp[name + "_se"], attrs(name + "_se"))
    out["lam"] = ("P", ds["lam"].values, attrs("lam"))
    P = ds.P.values
    coords = {"P": ("P", P, attrs("P")), "draw": ("draw", ds.draw.values),
              "q": ("P", spec["D"] / P, {"long_name": "q = D/P", "units": "1"}), "fdraw": ("fdraw", ds.fdraw.values)}
    return xr.Dataset(out, coords=coords)


def grid_theory_dataset(th: xr.Dataset, spec: dict, P, P_sim, derived=()) -> xr.Dataset:
    """A theory Dataset over `point` (the theory package's) as the file over P: the `derived` quantities added, every
    variable described, q and the simulated-grid mask as coordinates."""
    values = add_derived({name: th[name] for name in th.data_vars}, derived)
    th = th.assign(**{k: v for k, v in values.items() if k not in th.data_vars})
    th = th.drop_vars("P").rename({"point": "P"}).assign_coords(P=("P", P, attrs("P")))
    for name in th.data_vars:
        th[name].attrs.update(attrs(name))
    th = th.assign_coords(
        q=("P", spec["D"] / P, {"long_name": "q = D/P", "units": "1"}),
        simulated=("P", np.isin(P, P_sim.astype(float)), {"long_name": "P is on the simulation grid"}),
    )
    th.attrs = {k: (json.dumps(v) if isinstance(v, (list, dict)) else v) for k, v in th.attrs.items()}
    return th
