"""B4 (lr_multiple_descent) draws the curves its params list: by default no GCV series, as in the authors'
final notebook (linear_regression.ipynb, cell 16, where the GCV line is commented out)."""

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import xarray as xr  # noqa: E402
import yaml  # noqa: E402

from ridgerenorm.plotting.linear_ridge import plot_multiple_descent  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NAMES = ("eg", "etr", "bias", "var_x", "var_xeps", "gcv")


def data():
    spec = {"D": 1610, "spectrum": {"kind": "blocks", "sizes": [10, 100, 1500], "values": [1.0, 1e-2, 1e-5]},
            "teacher": {"kind": "blocks"}, "ridge": 1e-8, "sigma_eps": 0.0, "draws": 8}
    P = np.array([1, 5, 20, 100, 500])
    sim = xr.Dataset({k: ("P", 0.1 + 0.01 * i + 0 * P) for i, k in enumerate(NAMES)}
                     | {k + "_se": ("P", 0.01 + 0 * P) for k in NAMES}, coords={"P": P}, attrs={"spec": json.dumps(spec)})
    th = xr.Dataset({k: ("P", 0.1 + 0.01 * i + 0 * P) for i, k in enumerate(NAMES[:-1])}
                    | {"block_size": ("block", [10, 100, 1500]), "block_value": ("block", [1.0, 1e-2, 1e-5])},
                    coords={"P": P}, attrs={"spec": json.dumps(spec)})
    return {"main": (sim, th)}


def labels(fig):
    return [t.get_text() for t in fig.axes[0].get_legend().get_texts()]


def test_b4_default_and_shipped_config_draw_no_gcv():
    shipped = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())["figures"]["B4"]["params"]
    assert "gcv" not in shipped["curves"]
    for params in ({}, shipped):
        fig = plot_multiple_descent({"params": params}, data())
        assert not any("GCV" in t for t in labels(fig)), labels(fig)
        assert len(labels(fig)) >= 4


def test_b4_draws_gcv_when_listed():
    fig = plot_multiple_descent({"params": {"curves": ["eg", "gcv"]}}, data())
    assert any("GCV" in t for t in labels(fig)), labels(fig)


def test_b4_reads_the_block_sizes_from_its_theory_file():
    """The dashed lines and the title state the blocks the theory file holds (carried from the population
    file), not those a spec attribute names: a changed spectrum cannot leave a stale size on the figure."""
    d = data()
    sim, th = d["main"]
    th = th.assign(block_size=("block", [20, 300, 1290]), block_value=("block", [2.0, 1e-3, 1e-6]))
    fig = plot_multiple_descent({"params": {}}, {"main": (sim, th)})
    ax = fig.axes[0]
    assert [line.get_xdata()[0] for line in ax.get_lines() if line.get_gid() == "vline"] == [20, 300]
    assert "$N_1=20$" in [t.get_text() for t in ax.texts] and "$N_2=300$" in [t.get_text() for t in ax.texts]
    assert ax.get_title(loc="left").startswith("spectrum blocks 20×2, 300×0.001, 1290×1e-06")


def test_spectrum_and_theory_steps_carry_the_blocks(tmp_path):
    """The population file holds block_size and block_value beside eta and w (which are unchanged), and the
    theory step carries them into the theory file the figure reads."""
    from ridgerenorm import cli, io, spectra

    spec = {"name": "t", "D": 30, "model": "linear_ridge", "spectrum": {"kind": "blocks", "sizes": [5, 25],
            "values": [1.0, 0.01]}, "teacher": {"kind": "blocks", "values": [1.0, 2.0]}, "ridge": 1e-3,
            "sigma_eps": 0.0, "samples": [0.5, 2.0], "theory_samples": {"logspace": [-1, 1, 9]}}
    s, t = tmp_path / "s.nc", tmp_path / "t.nc"
    assert cli.main(["spectrum", "--spec", json.dumps(spec), "--out", str(s)]) == 0
    assert cli.main(["theory", "--spec", json.dumps(spec), "--spectrum", str(s), "--out", str(t)]) == 0
    pop, th = io.read_dataset(s), io.read_dataset(t)
    eta, w = spectra.population(spec["spectrum"], spec["teacher"])
    assert np.array_equal(pop.eta.values, eta) and np.array_equal(pop.w.values, w)
    for ds in (pop, th):
        assert ds["block_size"].values.tolist() == [5, 25] and ds["block_value"].values.tolist() == [1.0, 0.01]
    # a spectrum without blocks adds nothing
    spec["spectrum"], spec["teacher"] = {"kind": "isotropic", "D": 30}, {"kind": "flat"}
    assert cli.main(["spectrum", "--spec", json.dumps(spec), "--out", str(s)]) == 0
    assert set(io.read_dataset(s).data_vars) == {"eta", "w"}
