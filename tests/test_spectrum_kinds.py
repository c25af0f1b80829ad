"""The spectrum-kind registry: no code outside spectrum_kinds/ branches on a kind's name, a kind defined
outside the package is one module plus one register call, and the `file` and `dataset` kinds read a user's
population (checked with one-line errors; a power law written to a file gives the power-law kind's numbers
bit for bit)."""

import json

import numpy as np
import pytest
import xarray as xr

from ridgerenorm import cli, captions
from ridgerenorm import config as cfg
from ridgerenorm.models import get_model
from ridgerenorm.plotting.guides import parameters
from ridgerenorm.plotting.style import parameter_line
from ridgerenorm.spectra import population, population_dataset
from ridgerenorm.spectrum_kinds import SPECTRUM_KINDS, TEACHER_KINDS

import toy_spectrum_kind  # noqa: F401  (registers the toy kind, as a user's code would)
from test_model_registry import _model_name_comparisons, branches_outside

POWER = {"kind": "power_law", "D": 80, "alpha": 1.4}
POWER_TEACHER = {"kind": "power_law", "r": 0.7, "norm": 1.0}


def run(*argv):
    assert cli.main([str(a) for a in argv]) == 0


def test_nothing_outside_the_registry_branches_on_a_kind_name(tmp_path):
    names = set(SPECTRUM_KINDS) | set(TEACHER_KINDS)
    assert {"isotropic", "power_law", "blocks", "file", "dataset", "flat"} <= names
    assert branches_outside("spectrum_kinds", names) == {}
    # the check finds a planted branch on a spectrum kind and on a teacher kind
    probe = tmp_path / "probe.py"
    probe.write_text('def f(spec):\n    if spec["spectrum"].get("kind") == "power_law":\n        return 1\n'
                     '    return spec["teacher"]["kind"] in ("flat", "blocks")\n')
    assert _model_name_comparisons(probe, names) == [
        (2, "spec['spectrum'].get('kind') == 'power_law'"), (4, "spec['teacher']['kind'] in ('flat', 'blocks')")]


# ------------------------------------------------------------------------------------------ a toy kind


def toy_config(spectrum, teacher=None, **extra):
    exp = {"model": "linear_ridge", "spectrum": spectrum, "teacher": teacher or {"kind": "flat", "norm": 1.0},
           "ridge": 1e-3, "sigma_eps": 0.1, "samples": {"logspace": [0.3, 1.0, 4]}, "draws": 4, **extra}
    return {"scale": "toy", "seed": 5, "experiments": {"x": exp}, "figures": {}}


def test_a_kind_from_outside_the_package_runs_through_schema_checks_population_and_words(tmp_path):
    spectrum = {"kind": "toy_geometric", "D": 30, "ratio": 0.8}
    config = toy_config(spectrum)
    cfg.validate_config(config)
    assert "toy_geometric" in cfg.schema()["$defs"]["spectrum"]["properties"]["kind"]["enum"]
    assert "ratio" in cfg.schema()["$defs"]["spectrum"]["properties"]
    eta, w = population(spectrum, {"kind": "flat"})
    np.testing.assert_array_equal(eta, 0.8 ** np.arange(30.0))
    # its own check, and the registry's: a key it does not take, a key it needs
    for bad, line in ((dict(spectrum, ratio=1.5), "spectrum.ratio = 1.5: must be <= 1"),
                      (dict(spectrum, alpha=2.0), "spectrum.alpha = 2.0: not a key of spectrum.kind = 'toy_geometric'"),
                      ({"kind": "toy_geometric", "D": 30}, "spectrum.ratio = None: required for spectrum.kind")):
        with pytest.raises(cfg.ConfigError, match="^config error: experiments.x." + line.replace(".", r"\.")
                           .replace("(", r"\(")):
            cfg.validate_config(toy_config(bad))
    # a teacher defined on another kind is refused by name
    with pytest.raises(cfg.ConfigError, match="teacher.kind = 'power_law': needs spectrum.kind = 'power_law', "
                                              "got 'toy_geometric'"):
        cfg.validate_config(toy_config(spectrum, {"kind": "power_law", "r": 1.0}))
    # the CLI steps, the caption and the figure line
    spec = {s: json.dumps(cfg.step_spec(config, "x", s)) for s in ("spectrum", "theory")}
    run("spectrum", "--spec", spec["spectrum"], "--out", tmp_path / "pop.nc")
    run("theory", "--spec", spec["theory"], "--spectrum", tmp_path / "pop.nc", "--out", tmp_path / "th.nc")
    th = xr.open_dataset(tmp_path / "th.nc")
    assert np.all(np.isfinite(th["eg"].values)) and th["eg"].values.min() > 0
    full = cfg.experiment_spec(config, "x")
    sim = xr.Dataset(attrs={"spec": json.dumps(full)})
    assert "geometric spectrum, ratio 0.8, D = 30; flat target, norm 1" in captions.experiment_parameters(sim)
    assert parameter_line(full).startswith("D=30, ratio=0.8, ")


# ------------------------------------------------------------------------------------------ file kind


def power_law_files(tmp_path, shuffle=False):
    eta, w = population(POWER, dict(POWER_TEACHER, norm=None))
    order = np.random.default_rng(0).permutation(eta.size) if shuffle else np.arange(eta.size)
    np.save(tmp_path / "eta.npy", eta[order])
    np.save(tmp_path / "w.npy", w[order])
    return {"kind": "file", "path": str(tmp_path / "eta.npy"), "w_path": str(tmp_path / "w.npy")}


@pytest.mark.parametrize("shuffle", [False, True])
def test_a_power_law_written_to_npy_gives_the_power_law_kinds_population_and_theory_bit_for_bit(tmp_path, shuffle):
    file_spectrum = power_law_files(tmp_path, shuffle)
    a = population(POWER, POWER_TEACHER)
    b = population(file_spectrum, {"kind": "file", "norm": 1.0})
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    theories = []
    for spectrum, teacher in ((POWER, POWER_TEACHER), (file_spectrum, {"kind": "file", "norm": 1.0})):
        config = toy_config(spectrum, teacher, theory_samples={"logspace": [-0.5, 1.0, 40]})
        cfg.validate_config(config)
        spec = cfg.step_spec(config, "x", "theory")
        theories.append(get_model("linear_ridge").theory(spec, population_dataset(spec["spectrum"], spec["teacher"])))
    # the guides' exponents come from the power-law kinds only
    assert parameters(cfg.experiment_spec(config, "x"))["alpha"] is None
    facts = parameters(cfg.experiment_spec(toy_config(POWER, POWER_TEACHER), "x"))
    assert (facts["alpha"], facts["r"], facts["l"]) == (1.4, 0.7, None)
    for name in theories[0].data_vars:
        assert np.array_equal(theories[0][name].values, theories[1][name].values, equal_nan=True), name
    assert theories[0]["eg"].size == theories[1]["eg"].size > 40


def test_file_kind_reads_csv_and_netcdf_and_sorts_descending(tmp_path):
    eta = np.array([0.5, 2.0, 1.0, 0.0])
    w = np.array([5.0, 20.0, 10.0, 1.0])
    rows = "".join(f"{float(e)!r},{float(v)!r}\n" for e, v in zip(eta, w))
    (tmp_path / "pop.csv").write_text("# a population\neta,w\n" + rows)
    xr.Dataset({"eta": ("k", eta), "w": ("k", w), "sigma_eps": ((), 0.3)}).to_netcdf(tmp_path / "pop.nc")
    for name in ("pop.csv", "pop.nc"):
        got = population({"kind": "file", "path": str(tmp_path / name)}, {"kind": "file"})
        np.testing.assert_array_equal(got[0], [2.0, 1.0, 0.5, 0.0])
        np.testing.assert_array_equal(got[1], [20.0, 10.0, 5.0, 1.0])
    # the .nc file's sigma_eps is the experiment's when the experiment gives none
    config = toy_config({"kind": "file", "path": str(tmp_path / "pop.nc")}, {"kind": "file"}, samples=[0.5, 1.0])
    config["experiments"]["x"].pop("sigma_eps")
    cfg.validate_config(config)
    spec = cfg.experiment_spec(config, "x")
    assert spec["sigma_eps"] == 0.3 and spec["D"] == 4
    config["experiments"]["x"]["sigma_eps"] = 0.05
    assert cfg.experiment_spec(config, "x")["sigma_eps"] == 0.05


FILE_ERRORS = [
    ("eta.npy", lambda p: np.save(p, np.array([1.0, np.nan, 0.5])), "path", "eta[1] = nan is not finite"),
    ("eta.npy", lambda p: np.save(p, np.array([1.0, -0.5, 0.2])), "path",
     "eta[1] = -0.5 is negative (eigenvalues of a covariance are >= 0)"),
    ("eta.npy", lambda p: np.save(p, np.ones((3, 4))), "path",
     "eta is a 2-D array of shape (3, 4); expected a 1-D array"),
    ("w.npy", lambda p: np.save(p, np.ones(5)), "w_path", "w has 5 values, expected 10 (one per eigenvalue)"),
    ("eta.csv", lambda p: p.write_text("eta\n1.0\ninf\n"), "path", "eta[1] = inf is not finite"),
    ("eta.csv", lambda p: p.write_text("eta\n1.0\nabc\n"), "path", "not a number: 'abc'"),
    ("eta.txt", lambda p: p.write_text("1.0\n"), "path", "expected a .npy, .csv or .nc file, got suffix '.txt'"),
    ("missing.npy", lambda p: None, "path", "cannot read the file (No such file or directory)"),
]


@pytest.mark.parametrize("name,write,key,why", FILE_ERRORS, ids=[e[3][:30] for e in FILE_ERRORS])
def test_a_bad_file_gets_one_line_naming_key_and_path(tmp_path, name, write, key, why):
    good = tmp_path / "good.npy"
    np.save(good, np.array([30.0, 20.0, 10.0, 5.0, 4.0, 3.0, 2.0, 1.0, 0.5, 0.2]))
    np.save(tmp_path / "w_good.npy", np.ones(10))
    bad = tmp_path / name
    write(bad)
    spectrum = {"kind": "file", "path": str(good), "w_path": str(tmp_path / "w_good.npy"), key: str(bad)}
    with pytest.raises(cfg.ConfigError) as err:
        cfg.validate_config(toy_config(spectrum, {"kind": "file"}))
    message = str(err.value)
    assert "\n" not in message
    # the value is the path (shortened by the one-line rule when long), the reason comes last
    assert message.startswith(f"config error: experiments.x.spectrum.{key} = '{str(bad)[:20]}"), message
    assert message.endswith(f": {why}"), message


def test_file_teacher_without_w_and_an_edited_file_are_refused(tmp_path):
    np.save(tmp_path / "eta.npy", np.array([2.0, 1.0]))
    spectrum = {"kind": "file", "path": str(tmp_path / "eta.npy")}
    with pytest.raises(cfg.ConfigError, match=r"teacher\.kind = 'file': the spectrum's file holds no teacher w"):
        cfg.validate_config(toy_config(spectrum, {"kind": "file"}))
    config = toy_config(spectrum)
    spec = cfg.step_spec(config, "x", "spectrum")
    assert len(spec["spectrum"]["sha256"]) == 64
    cfg.check_step_spec(spec, "spectrum", "spectrum")
    np.save(tmp_path / "eta.npy", np.array([2.0, 0.5]))  # edited after the spec was written
    changed = r"spectrum\.sha256 = '[0-9a-f]{50}.*: the files changed since this spec was made"
    with pytest.raises(cfg.ConfigError, match=changed):
        cfg.check_step_spec(spec, "spectrum", "spectrum")
    assert cfg.step_spec(config, "x", "spectrum")["spectrum"]["sha256"] != spec["spectrum"]["sha256"]


def test_relative_paths_are_relative_to_the_config_file(tmp_path, monkeypatch):
    data = tmp_path / "configs" / "data"
    data.mkdir(parents=True)
    np.save(data / "eta.npy", np.array([1.0, 0.5, 0.25]))
    (tmp_path / "configs" / "x.yaml").write_text(json.dumps(toy_config({"kind": "file", "path": "data/eta.npy"},
                                                                      samples=[0.5, 1.0])))
    monkeypatch.chdir(tmp_path)
    config = cfg.load_config(tmp_path / "configs" / "x.yaml")
    assert config["experiments"]["x"]["spectrum"]["path"] == "configs/data/eta.npy"
    assert cfg.experiment_spec(config, "x")["D"] == 3


# ------------------------------------------------------------------------------------------ dataset kind


def test_dataset_kind_is_the_covariance_eigenbasis_with_the_least_squares_teacher(tmp_path):
    rng = np.random.default_rng(1)
    n, D = 400, 6
    X = rng.standard_normal((n, D)) * np.array([3.0, 2.0, 1.5, 1.0, 0.5, 0.2])
    y = X @ np.arange(1.0, D + 1) + 0.3 * rng.standard_normal(n)
    np.save(tmp_path / "X.npy", X)
    (tmp_path / "y.csv").write_text("y\n" + "".join(f"{float(v)!r}\n" for v in y))
    spectrum = {"kind": "dataset", "path": str(tmp_path / "X.npy"), "labels": str(tmp_path / "y.csv")}
    config = toy_config(spectrum, {"kind": "dataset"}, samples=[0.5, 1.0])
    config["experiments"]["x"].pop("sigma_eps")
    cfg.validate_config(config)
    eta, w = population(spectrum, {"kind": "dataset"})
    Xc, yc = X - X.mean(0), y - y.mean()
    cov = Xc.T @ Xc / n
    np.testing.assert_allclose(eta, np.sort(np.linalg.eigvalsh(cov))[::-1], rtol=1e-12)
    assert np.all(np.diff(eta) <= 0)
    beta = np.linalg.lstsq(Xc, yc, rcond=None)[0]
    # same signal power and same fit: w is beta in the eigenbasis
    np.testing.assert_allclose(np.sum(eta * w**2), beta @ cov @ beta, rtol=1e-10)
    np.testing.assert_allclose(np.linalg.norm(w), np.linalg.norm(beta), rtol=1e-12)
    resid = yc - Xc @ beta
    assert cfg.experiment_spec(config, "x")["sigma_eps"] == pytest.approx(np.sqrt(resid @ resid / (n - D)), rel=1e-12)
    assert abs(cfg.experiment_spec(config, "x")["sigma_eps"] - 0.3) < 0.05
    # too few samples for a least-squares teacher: one line
    np.save(tmp_path / "X.npy", X[:5])
    with pytest.raises(cfg.ConfigError, match=r"spectrum\.labels = .*: y has 400 values, expected 5 \(one per row"):
        cfg.validate_config(config)
    (tmp_path / "y.csv").write_text("y\n" + "".join(f"{float(v)!r}\n" for v in y[:5]))
    with pytest.raises(cfg.ConfigError, match=r"spectrum\.path = .*: needs more samples than features .*n = 5, D = 6"):
        cfg.validate_config(config)
