"""Configuration validation: every bad value stops with one line naming the key and the value."""

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ridgerenorm import config as cfg
from ridgerenorm.spectra import sample_sizes

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def paper():
    return cfg.load_config(ROOT / "config" / "config.yaml")


def test_shipped_configs_are_valid(paper):
    quick = cfg.load_config(ROOT / "config" / "config.yaml", ROOT / "config" / "quick.yaml")
    assert paper["scale"] == "paper" and quick["scale"] == "quick"
    assert set(paper["experiments"]) == set(quick["experiments"])


def test_paper_parameters_match_figures_spec(paper):
    b3 = cfg.experiment_spec(paper, "b3_capacity")
    P = sample_sizes(b3["samples"], b3["D"])
    assert b3["D"] == 10000 and P.max() == 1000 and P.min() == 1
    b4 = cfg.experiment_spec(paper, "b4_blocks")
    assert b4["D"] == 10110
    dd = cfg.experiment_spec(paper, "b2_double_descent")
    np_ratio = sample_sizes(dd["samples"], 250) / 250
    assert abs(np_ratio.min() - 0.1) < 0.01 and abs(np_ratio.max() - 2.0) < 0.01


BAD = [
    (("experiments", "b2_isotropic", "ridge"), -1.0, "experiments.b2_isotropic.ridge = -1.0"),
    (("experiments", "b3_capacity", "spectrum", "kind"), "lognormal", "experiments.b3_capacity.spectrum.kind = 'lognormal'"),
    (("experiments", "b4_blocks", "spectrum", "values"), [1.0, 0.01], "experiments.b4_blocks.spectrum.values = [1.0, 0.01]"),
    (("experiments", "b4_blocks", "teacher", "values"), [1.0], "experiments.b4_blocks.teacher.values = [1.0]"),
    (("experiments", "b2_isotropic", "samples"), {"logspace": [-2, 3, 5]}, "experiments.b2_isotropic.samples = {'logspace': [-2, 3, 5]}"),
    (("experiments", "b2_isotropic", "draws"), 2, "experiments.b2_isotropic.draws = 2"),
    (("experiments", "b2_isotropic", "sigma_eps"), -0.5, "experiments.b2_isotropic.sigma_eps = -0.5"),
    (("figures", "B2", "experiments", "main"), "nope", "figures.B2.experiments.main = 'nope'"),
    (("figures", "B2", "kind"), "pie_chart", "figures.B2.kind = 'pie_chart'"),
    (("experiments", "b3_source", "teacher", "kind"), "blocks", "experiments.b3_source.teacher.kind = 'blocks'"),
]


@pytest.mark.parametrize("path,value,expected", BAD, ids=[".".join(map(str, b[0])) for b in BAD])
def test_bad_value_names_key_and_value(paper, path, value, expected):
    bad = copy.deepcopy(paper)
    node = bad
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(cfg.ConfigError) as err:
        cfg.validate_config(bad)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith("config error: " + expected), message


def test_cli_check_config_reports_one_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"experiments": {"b2_isotropic": {"ridge": -1.0}}}))
    res = subprocess.run(
        [sys.executable, "-m", "ridgerenorm.cli", "check-config", str(ROOT / "config" / "config.yaml"), str(bad)],
        capture_output=True, text=True,
    )
    assert res.returncode == 2
    assert res.stderr.strip().splitlines() == ["config error: experiments.b2_isotropic.ridge = -1.0: -1.0 is less than the minimum of 0"]


def test_cli_rejects_bad_spec_argument(tmp_path):
    spec = {"name": "x", "D": 10, "spectrum": {"kind": "isotropic", "D": 10}, "teacher": {"kind": "flat"}, "ridge": -2}
    res = subprocess.run(
        [sys.executable, "-m", "ridgerenorm.cli", "spectrum", "--spec", json.dumps(spec), "--out", str(tmp_path / "s.nc")],
        capture_output=True, text=True,
    )
    assert res.returncode == 2 and "experiments.x.ridge = -2" in res.stderr
    assert not list(tmp_path.iterdir())


def test_snakemake_stops_with_one_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"experiments": {"b4_blocks": {"spectrum": {"values": [1.0]}}}}))
    res = subprocess.run(["snakemake", "-n", "--configfile", str(bad)], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode != 0
    lines = [ln for ln in (res.stdout + res.stderr).splitlines() if ln.startswith("config error")]
    assert lines == ["config error: experiments.b4_blocks.spectrum.values = [1.0]: length 1 != length of spectrum.sizes (3)"]


def test_step_specs_carry_only_what_each_step_uses(paper):
    sim = cfg.step_spec(paper, "b3_capacity", "simulate")
    th = cfg.step_spec(paper, "b3_capacity", "theory")
    assert "theory_samples" not in sim and "draws" not in th and "seed" not in th
    assert sim["seed"] == paper["seed"] and th["samples"] == sim["samples"]
