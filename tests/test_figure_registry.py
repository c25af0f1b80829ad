"""The figure-kind registry: a kind defined outside the package (tests/toy_figure_kind.py) is validated,
makes its data and is drawn through the package's CLI steps, and no code outside plotting/ branches on a
figure kind's name."""

import json
from pathlib import Path

import numpy as np
import pytest

from ridgerenorm import cli, deps, io
from ridgerenorm import config as cfg
from ridgerenorm.limits import ENV_MAX_MEMORY
from ridgerenorm.plotting import FIGURE_KINDS, FigureKind, draw, register
from ridgerenorm.status import results_of
from ridgerenorm.streams import experiment_key

import toy_figure_kind as toy  # registers the toy figure kind, as a user's code would
from test_model_registry import PACKAGE, _model_name_comparisons, branches_outside

TESTS = Path(__file__).resolve().parent


def toy_config(n=400):
    return {"scale": "toy", "seed": 5, "experiments": {},
            "figures": {"T1": {"name": "toy-qq", "kind": toy.NAME, "params": {"n": n}}}}


def run(*argv):
    assert cli.main([str(a) for a in argv]) == 0


def test_toy_kind_makes_its_data_and_figure_through_the_cli(tmp_path):
    config = toy_config()
    cfg.validate_config(config)
    spec = json.dumps(dict(config["figures"]["T1"], id="T1"))
    data, pdf, png = tmp_path / "T1.nc", tmp_path / "T1.pdf", tmp_path / "T1.png"
    run("spectra-data", "--spec", spec, "--seed", config["seed"], "--out", data)
    ds = io.read_dataset(data)
    assert ds.attrs["title"] == "toy normal sample of figure T1: sorted draws against the normal quantiles"
    assert ds.attrs["figure"] == "T1"
    direct = toy.build({"n": 400}, (5, experiment_key("T1")))  # the seed and the figure's key, as the step
    np.testing.assert_array_equal(ds["sample"].values, direct["sample"].values)
    # a sorted normal sample of 400 lies near its quantiles (the data are real draws, not the quantiles)
    assert 0 < np.max(np.abs(ds["sample"].values - ds["quantile"].values)[20:-20]) < 0.5
    run("figure", "--spec", spec, "--data", f"data={data}", "--out", pdf, "--png", png)
    assert pdf.stat().st_size > 1000 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    record = io.read_record(png)
    assert json.loads(record["spec"])["kind"] == toy.NAME
    # the figure draws the data it was given: the sample series is the file's sample
    fig = draw(dict(config["figures"]["T1"], id="T1"), {"data": [ds]})
    (sample,) = [line for line in fig.axes[0].get_lines() if line.get_gid() == "sample"]
    np.testing.assert_array_equal(sample.get_ydata(), ds["sample"].values)


def test_toy_kind_params_are_checked_in_one_line(monkeypatch):
    config = toy_config(n=1)
    with pytest.raises(cfg.ConfigError, match=r"^config error: figures.T1.params.n = 1: .*less than the minimum of 2"):
        cfg.validate_config(config)
    config = toy_config(n=10**4)  # 240 kB of data job on a machine of 100 kB
    monkeypatch.setenv(ENV_MAX_MEMORY, "1e-4")
    with pytest.raises(cfg.ConfigError, match=r"^config error: figures.T1.params.n = 10000: the figure's data job "
                                              r"needs 0.24 MB, more than this machine's 0.0 GB$"):
        cfg.validate_config(config)
    config["figures"]["T1"]["experiments"] = {"main": "b2"}
    monkeypatch.delenv(ENV_MAX_MEMORY)
    with pytest.raises(cfg.ConfigError, match=f"figure kind '{toy.NAME}' takes no experiments"):
        cfg.validate_config(config)


def test_toy_kind_has_its_own_code_stamps():
    """The workflow's stamps of the toy kind hold its own module and the package modules it imports."""
    for prefix, module in (("plot_", toy.KIND.plot_module), ("data_", toy.KIND.builder_module)):
        name = deps.kind_stamp(prefix, module)
        assert name == prefix + "toy_figure_kind"
        files = deps.stamp_files(name)
        assert str(TESTS / "toy_figure_kind.py") in files
        assert str(PACKAGE / "plotting" / "__init__.py") in files and str(PACKAGE / "limits.py") in files
    (data, *figures) = results_of(toy_config())
    assert data.steps == ("spectra-data", "data_toy_figure_kind")
    assert [f.steps for f in figures] == [("figure", "plot_toy_figure_kind")] * 2


def test_a_kind_entry_refuses_malformed_paths():
    with pytest.raises(ValueError, match="plot must be 'module:function'"):
        FigureKind("bad", "toy_figure_kind.plot")
    with pytest.raises(ValueError, match="a memory estimate needs the memory_key"):
        FigureKind("bad", "toy_figure_kind:plot", memory=toy.job_bytes)
    with pytest.raises(TypeError, match="takes a FigureKind"):
        register({"name": "bad"})
    assert "bad" not in FIGURE_KINDS


def test_nothing_outside_plotting_branches_on_a_figure_kind_name(tmp_path):
    names = set(FIGURE_KINDS)
    assert {"wigner", "rf_scaling", toy.NAME} <= names
    assert branches_outside("plotting", names) == {}
    probe = tmp_path / "probe.py"
    probe.write_text('def f(spec):\n    return spec["kind"] in ("wigner", "deep_wishart")\n')
    assert _model_name_comparisons(probe, names) == [(2, "spec['kind'] in ('wigner', 'deep_wishart')")]
