"""Every kind of netCDF file the pipeline writes passes the IOOS compliance checker's CF check with no error
(a failure of high or medium priority), and the encoding that makes it so leaves the data bit-identical."""

import json
import tempfile
from pathlib import Path

import numpy as np
import pytest

from ridgerenorm import cli, io
from ridgerenorm import config as cfg
from ridgerenorm.plotting import build_data

runner = pytest.importorskip(
    "compliance_checker.runner",
    reason="compliance-checker is not installed (pip install compliance-checker, or pip install -e '.[test]')",
)

CF_WANTED = "cf:1.11"


def cf_suite() -> str:
    """cf:1.11, or the newest CF check the installed compliance checker has."""
    suite = runner.CheckSuite()
    suite.load_all_available_checkers()
    names = [n for n in suite.checkers if n.startswith("cf:") and n[3:].replace(".", "").isdigit()]
    if CF_WANTED in names:
        return CF_WANTED
    return max(names, key=lambda n: tuple(int(x) for x in n[3:].split(".")))


def cf_errors(path) -> list[str]:
    """The failed high- and medium-priority CF checks of a file, one line per failed point."""
    suite = cf_suite()
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        runner.ComplianceChecker.run_checker(str(path), [suite], 0, "normal", output_filename=str(report),
                                             output_format="json")
        result = json.loads(report.read_text())[suite]
    errors = []
    for priority in ("high_priorities", "medium_priorities"):
        for check in result[priority]:
            scored, possible = check["value"]
            if scored < possible:
                errors.append(f"{priority.split('_')[0]}: {check['name']} ({possible - scored} of {possible}): "
                              + "; ".join(check["msgs"]))
    return errors


def run(*argv):
    assert cli.main([str(a) for a in argv]) == 0


def tiny_config():
    return {
        "scale": "tiny",
        "seed": 5,
        "experiments": {
            "lr": {
                "model": "linear_ridge",
                "spectrum": {"kind": "power_law", "D": 20, "alpha": 1.2},
                "teacher": {"kind": "power_law", "r": 0.6, "norm": 1.0},
                "ridge": 1e-2,
                "sigma_eps": 0.2,
                "samples": {"logspace": [-0.5, 0.5, 4]},
                "theory_samples": {"logspace": [-1, 1, 9]},
                "draws": 3,
                "block": 2,
            },
            "rf": {  # random features with feature noise: the two-way (draw, fdraw) layout
                "model": "random_features",
                "spectrum": {"kind": "power_law", "D": 20, "alpha": 1.5},
                "teacher": {"kind": "power_law", "r": 0.4, "norm": 1.0},
                "widths": [10],
                "sigma_xi_tilde": 0.1,
                "ridge": 1e-3,
                "samples": {"logspace": [-0.5, 0.5, 3]},
                "theory_samples": {"logspace": [-1, 1, 9]},
                "draws": 3,
                "feature_draws": 3,
            },
            "ws": {  # width sweep: (alpha_F, N) grid at one sample size
                "model": "rf_width_sweep",
                "spectrum": {"kind": "power_law", "D": 30, "alpha": 1.5},
                "teacher": {"kind": "power_law", "r": 0.8, "norm": 1.0},
                "ridge": 0.0,
                "sample_size": 8,
                "width_grid": {"logspace": [1.0, 1.4, 3]},  # N = 10, 15, 25: every width above P
                "weight_exponents": [0.0, 1.0],
                "draws": 3,
                "feature_draws": 3,
            },
        },
        "figures": {},
    }


WRITTEN = {}  # path -> the Dataset the code handed to io.write_dataset


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """One file of each kind: spectrum, simulation block, merged simulation, theory, spectra_data."""
    write = io.write_dataset

    def keep(ds, path, attrs=None):
        WRITTEN[str(path)] = ds.copy(deep=True)
        write(ds, path, attrs)

    io.write_dataset = keep
    try:
        return _files(tmp_path_factory.mktemp("cf"))
    finally:
        io.write_dataset = write


def _files(tmp):
    config = tiny_config()
    cfg.validate_config(config)
    out = {}
    for exp in config["experiments"]:
        spec = {step: json.dumps(cfg.step_spec(config, exp, step)) for step in ("spectrum", "simulate", "theory")}
        pre = "" if exp == "lr" else exp + "_"
        out[pre + "spectrum"] = pop = tmp / f"spectrum_{exp}.nc"
        run("spectrum", "--spec", spec["spectrum"], "--out", pop)
        blocks = []
        for a, b in cfg.draw_blocks(cfg.experiment_spec(config, exp)):
            blocks.append(tmp / f"{exp}_draws_{a}-{b}.nc")
            run("simulate", "--spec", spec["simulate"], "--spectrum", pop, "--draws", f"{a}:{b}", "--threads", 1,
                "--out", blocks[-1])
        out[pre + "block"] = blocks[0]
        out[pre + "merged"] = tmp / f"simulation_{exp}.nc"
        run("merge", "--spec", spec["simulate"], "--spectrum", pop, "--out", out[pre + "merged"], *blocks)
        out[pre + "theory"] = tmp / f"theory_{exp}.nc"
        run("theory", "--spec", spec["theory"], "--spectrum", pop, "--out", out[pre + "theory"])
    out["curve"] = tmp / "curve.nc"  # `ridgerenorm curve`, with the optimal ridge (a boolean flag variable)
    run("curve", "--spectrum", "power_law", "--D", 20, "--alpha", 1.2, "--r", 0.6, "--model", "random_features",
        "--widths", 10, "--ridge", 1e-3, "--optimal-ridge", "--points", 5, "--out", out["curve"])
    out["spectra_data"] = tmp / "A1.nc"
    figure = {"id": "A1", "name": "wigner", "kind": "wigner", "params": {"N": 40, "bins": 10, "xlim": [-2.5, 2.5], "grid_points": 51}}
    run("spectra-data", "--spec", json.dumps(figure), "--seed", 1, "--out", out["spectra_data"])
    return out


# A tiny linear-ridge experiment (D = 20, 3 data draws in blocks of 2), the other two models' files and a
# theory learning curve.
KINDS = ["spectrum", "block", "merged", "theory", "spectra_data", "curve",
         "rf_block", "rf_merged", "rf_theory", "ws_block", "ws_merged", "ws_theory"]


@pytest.mark.parametrize("kind", KINDS)
def test_cf_compliance(files, kind):
    assert cf_errors(files[kind]) == []


@pytest.mark.parametrize("kind", KINDS)
def test_every_variable_is_described(files, kind):
    ds = io.read_dataset(files[kind])
    assert ds.attrs["Conventions"] == "CF-1.11"
    for name in ("title", "history", "source", "references"):
        assert isinstance(ds.attrs[name], str) and ds.attrs[name], name
    assert ds.attrs["source"].startswith("ridgerenorm ")
    assert "10.1088/1742-5468/ae4bba" in ds.attrs["references"] and "2405.00592" in ds.attrs["references"]
    assert ds.attrs["history"].startswith(ds.attrs["created"])
    for name, var in ds.variables.items():
        assert var.attrs.get("long_name"), name
        if var.dtype != bool:
            assert var.attrs.get("units"), name


@pytest.mark.parametrize("kind, params", [
    ("white_wishart", {"N": 30, "q": [0.5, 2.0], "bins": 8, "grid_points": 41}),
    ("structured_wishart", {"N": 30, "alpha": 1.2, "q": [0.5, 2.0], "bins": 8, "grid_points": 60}),
    ("deep_wishart", {"widths": [10, 20, 40], "lam_max": 20.0, "bins": 10, "grid_points": 201}),
])
def test_other_spectra_data_kinds(tmp_path, kind, params):
    """The three other random-matrix builders (the wigner one runs through the CLI above)."""
    path = tmp_path / "spectra_data.nc"
    io.write_dataset(build_data({"id": "A9", "kind": kind, "params": params}, (0, 1)), path,
                     io.provenance(spec={"id": "A9"}))
    assert cf_errors(path) == []
    assert io.read_dataset(path).attrs["title"].startswith("ridgerenorm random-matrix spectra of figure A9: ")


def test_coordinates_carry_no_fill_value(files):
    import netCDF4

    for kind in KINDS:
        with netCDF4.Dataset(files[kind]) as nc:
            auxiliary = {c for v in nc.variables.values() for c in getattr(v, "coordinates", "").split()}
            for name in set(nc.dimensions) & set(nc.variables) | auxiliary:
                assert "_FillValue" not in nc.variables[name].ncattrs(), (kind, name)


def test_simulated_is_a_flag_on_disk_and_boolean_in_xarray(files):
    import netCDF4

    with netCDF4.Dataset(files["theory"]) as nc:
        var = nc.variables["simulated"]
        assert var.dtype == np.int8
        assert list(var.flag_values) == [0, 1] and var.flag_meanings == "not_simulated simulated"
        raw = var[:].data
    th = io.read_dataset(files["theory"])
    assert th.simulated.dtype == bool
    assert np.array_equal(th.simulated.values.astype(np.int8), raw)
    assert th.simulated.values.sum() == 4  # the four simulated sample sizes


def _bits(values: np.ndarray) -> np.ndarray:
    values = np.ascontiguousarray(np.atleast_1d(values))
    return values.view(np.uint8) if values.dtype.kind in "iufb" else values


@pytest.mark.parametrize("kind", KINDS)
def test_file_holds_the_data_bit_for_bit(files, kind):
    """Every variable the code wrote is read back with its dtype and every bit (booleans as booleans)."""
    written, read = WRITTEN[str(files[kind])], io.read_dataset(files[kind])
    assert set(written.variables) == set(read.variables)
    for name in written.variables:
        a, b = written[name].values, read[name].values
        assert a.dtype == b.dtype and a.shape == b.shape, name
        assert np.array_equal(_bits(a), _bits(b)), name
    for key, value in written.attrs.items():  # the producer's own attributes are kept as they were
        assert np.array_equal(np.asarray(read.attrs[key]), np.asarray(value)), key


@pytest.mark.parametrize("kind", KINDS)
def test_round_trip_is_bit_identical(files, kind, tmp_path):
    """Reading a file and writing it again changes no bit of any variable (the CF encoding is lossless)."""
    first = io.read_dataset(files[kind])
    again = tmp_path / "again.nc"
    io.write_dataset(first, again)
    second = io.read_dataset(again)
    assert set(first.variables) == set(second.variables)
    for name in first.variables:
        a, b = first[name].values, second[name].values
        assert a.dtype == b.dtype and a.shape == b.shape, name
        assert np.array_equal(_bits(a), _bits(b)), name


def test_write_keeps_every_bit_of_the_data(tmp_path):
    """Values written (NaN, -0.0, subnormals, extremes, int64, bool coordinates) are read back bit for bit, and
    the caller's Dataset is left as it was."""
    import xarray as xr

    x = np.array([0.0, -0.0, np.nan, np.inf, -np.inf, 5e-324, np.finfo(float).max, 1 / 3])
    ds = xr.Dataset(
        {"x": ("P", x, {"long_name": "x", "units": "1"}),
         "n": ("P", np.arange(8, dtype=np.int64) - 2**40, {"long_name": "n", "units": "1"})},
        coords={"P": ("P", np.linspace(1.0, 8.0, 8), {"long_name": "P", "units": "1"}),
                "draw": ("draw", np.arange(2)),
                "simulated": ("P", np.arange(8) % 2 == 0, {"long_name": "P is on the simulation grid"})},
    )
    before = ds.copy(deep=True)
    io.write_dataset(ds, tmp_path / "x.nc", io.provenance())
    assert ds.identical(before) and all(ds[v].encoding == before[v].encoding for v in ds.variables)
    back = io.read_dataset(tmp_path / "x.nc")
    for name in ds.variables:
        assert back[name].dtype == ds[name].dtype, name
        assert np.array_equal(_bits(back[name].values), _bits(ds[name].values)), name
    assert back.draw.attrs["long_name"] and back.draw.attrs["units"] == "1"
    assert cf_errors(tmp_path / "x.nc") == []
