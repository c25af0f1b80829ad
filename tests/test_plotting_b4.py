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
    th = xr.Dataset({k: ("P", 0.1 + 0.01 * i + 0 * P) for i, k in enumerate(NAMES[:-1])}, coords={"P": P},
                    attrs={"spec": json.dumps(spec)})
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
