"""A user's population through the workflow: experiments with a `file` spectrum in every model and a `dataset`
spectrum, run by Snakemake from an overlay config whose paths are relative to the overlay's own folder; an
edit to the input file makes exactly that experiment's results stale."""

import json
import os
from pathlib import Path

import numpy as np
import pytest
import yaml

from ridgerenorm import io
from ridgerenorm.spectra import population

from clones import job_counts
from clones import snakemake_at as snakemake
from test_pipeline import workflow_copy

pytestmark = pytest.mark.pipeline
D = 40
SMALL = {"ridge": 1e-3, "sigma_eps": 0.1, "samples": {"logspace": [0, 1, 4]},
         "theory_samples": {"logspace": [0, 1, 30]}, "draws": 4, "block": 4}
RF = {"widths": [20], "feature_draws": 3}
EXPERIMENTS = {
    "user_file_lr": {"model": "linear_ridge", "spectrum": {"kind": "file", "path": "pop.npy", "w_path": "w.npy"},
                     "teacher": {"kind": "file", "norm": 1.0}, **SMALL},
    "user_file_rf": {"model": "random_features", "spectrum": {"kind": "file", "path": "pop.csv"},
                     "teacher": {"kind": "file", "norm": 1.0}, **SMALL, **RF},
    "user_file_nl": {"model": "nonlinear_random_features", "spectrum": {"kind": "file", "path": "pop.nc"},
                     "teacher": {"kind": "flat", "norm": 1.0}, "activation": "relu", **SMALL, **RF},
    "user_file_ws": {"model": "rf_width_sweep", "spectrum": {"kind": "file", "path": "pop.nc"},
                     "teacher": {"kind": "file", "norm": 1.0}, "ridge": 0.0, "sigma_eps": 0.0, "sample_size": 8,
                     "width_grid": {"logspace": [1.2, 1.5, 3]}, "weight_exponents": [0.0, 1.0], "draws": 3,
                     "feature_draws": 3},
    "user_data_lr": {"model": "linear_ridge", "spectrum": {"kind": "dataset", "path": "data.npy", "labels": "y.npy"},
                     "teacher": {"kind": "dataset"}, **{k: v for k, v in SMALL.items() if k != "sigma_eps"}},
    "user_data_rf": {"model": "random_features", "spectrum": {"kind": "dataset", "path": "data.npy",
                                                              "labels": "y.npy"},
                     "teacher": {"kind": "dataset"}, **SMALL, **RF},
}


def write_inputs(folder: Path) -> None:
    eta, w = population({"kind": "power_law", "D": D, "alpha": 1.5}, {"kind": "power_law", "r": 0.8, "norm": None})
    np.save(folder / "pop.npy", eta[::-1])  # ascending: the kind sorts it, w permuted along
    np.save(folder / "w.npy", w[::-1])
    (folder / "pop.csv").write_text("eta,w\n" + "".join(f"{float(a)!r},{float(b)!r}\n" for a, b in zip(eta, w)))
    import xarray as xr

    xr.Dataset({"eta": ("k", eta), "w": ("k", w)}).to_netcdf(folder / "pop.nc")
    rng = np.random.default_rng(7)
    X = rng.standard_normal((300, D)) * np.sqrt(eta)
    np.save(folder / "data.npy", X)
    np.save(folder / "y.npy", X @ w + 0.2 * rng.standard_normal(300))


def test_file_and_dataset_spectra_run_in_every_model_and_an_edited_file_reruns_its_experiment(tmp_path):
    d = workflow_copy(tmp_path / "wf")
    extra = d / "mine"
    extra.mkdir()
    write_inputs(extra)
    (extra / "overlay.yaml").write_text(yaml.safe_dump({"experiments": EXPERIMENTS}))
    targets = [f"results/quick/{step}/{name}.nc" for name in EXPERIMENTS for step in ("simulation", "theory")]
    args = ("--cores", "2", "--configfile", "config/quick.yaml", "mine/overlay.yaml")
    snakemake(*targets, *args, cwd=d)
    for name, exp in EXPERIMENTS.items():
        sim, th = (io.read_dataset(d / f"results/quick/{step}/{name}.nc") for step in ("simulation", "theory"))
        spec = json.loads(th.attrs["spec"])
        assert spec["spectrum"]["path"].startswith("mine/") and len(spec["spectrum"]["sha256"]) == 64, name
        assert spec["D"] == D, name
        eg = [v for v in ("eg", "eg_mean") if v in sim.data_vars][0]
        assert np.all(np.isfinite(sim[eg].values)) and np.all(np.isfinite(th["eg"].values)), name
        assert th["eg"].values.min() > 0, name
    # the dataset's label noise is its least-squares residual's, not the overlay's (it gives none)
    lr = json.loads(io.read_dataset(d / "results/quick/theory/user_data_lr.nc").attrs["spec"])
    assert 0.15 < lr["sigma_eps"] < 0.25
    # nothing to do again, nor after a touch (the content counts, not the time); an edited input reruns the
    # experiments that read it, and only those
    os.utime(extra / "w.npy")
    assert "Nothing to be done" in snakemake(*targets, *args, "-n", cwd=d).stdout
    np.save(extra / "w.npy", -np.load(extra / "w.npy"))
    counts = job_counts(snakemake(*targets, *args, "-n", cwd=d).stdout)
    assert counts.get("spectrum") == 1 and counts.get("theory") == 1 and counts.get("merge_simulation") == 1, counts
