"""The model registry: a model defined outside the package runs the whole chain, and no code outside
models/ branches on a model name."""

import ast
import csv
import json
from pathlib import Path

import numpy as np
import pytest

from ridgerenorm import cli, io
from ridgerenorm import config as cfg
from ridgerenorm.models import MODELS, get_model

import toy_rotation_model  # noqa: F401  (registers the toy model, as a user's code would)

PACKAGE = Path(cfg.__file__).resolve().parent


def toy_config():
    return {
        "scale": "toy",
        "seed": 3,
        "experiments": {
            "toy": {
                "model": "toy_rotation",
                "spectrum": {"kind": "power_law", "D": 60, "alpha": 1.2},
                "teacher": {"kind": "power_law", "r": 0.6, "norm": 1.0},
                "ridge": 1e-2,
                "sigma_eps": 0.2,
                "samples": {"logspace": [1.3, -0.3, 6]},
                "draws": 40,
                "block": 20,
                "rotation_seed": 11,
            }
        },
        "figures": {},
    }


def run(*argv):
    assert cli.main([str(a) for a in argv]) == 0


def test_toy_model_runs_spectrum_simulate_merge_theory_agreement(tmp_path):
    config = toy_config()
    cfg.validate_config(config)
    spec = {step: json.dumps(cfg.step_spec(config, "toy", step)) for step in ("spectrum", "simulate", "theory")}
    assert json.loads(spec["simulate"])["rotation_seed"] == 11 and "rotation_seed" not in spec["theory"]
    pop, sim, th = tmp_path / "pop.nc", tmp_path / "sim.nc", tmp_path / "theory.nc"
    run("spectrum", "--spec", spec["spectrum"], "--out", pop)
    blocks = []
    for a, b in cfg.draw_blocks(cfg.experiment_spec(config, "toy")):
        blocks.append(tmp_path / f"block_{a}.nc")
        run("simulate", "--spec", spec["simulate"], "--spectrum", pop, "--draws", f"{a}:{b}", "--threads", 2,
            "--out", blocks[-1])
    run("merge", "--spec", spec["simulate"], "--spectrum", pop, "--out", sim, *blocks)
    run("theory", "--spec", spec["theory"], "--spectrum", pop, "--out", th)
    run("agreement", "--pair", f"toy={sim},{th}", "--out", tmp_path / "agreement.csv")
    with open(tmp_path / "agreement.csv") as f:
        rows = {r["quantity"]: r for r in csv.DictReader(f)}
    assert set(rows) == {"eg", "etr", "df1_hat", "kappa_hat"}
    assert rows["kappa_hat"]["theory_quantity"] == "kappa"
    for name in ("eg", "etr"):
        assert float(rows[name]["median_rel_dev"]) < 0.08, rows[name]
        assert float(rows[name]["chi2_per_point"]) < 4.0, rows[name]
    assert float(rows["df1_hat"]["median_rel_dev"]) < 0.03
    merged = io.read_dataset(sim)
    assert merged.eg.dims == ("P",) and merged.eg_se.attrs["long_name"].endswith("(standard error)")


def test_toy_model_config_keys_are_its_own():
    config = toy_config()
    config["experiments"]["toy"]["widths"] = [10]
    with pytest.raises(cfg.ConfigError, match=r"experiments.toy.widths = \[10\]: not a parameter of model 'toy_rotation'"):
        cfg.validate_config(config)
    config = toy_config()
    del config["experiments"]["toy"]["rotation_seed"]
    with pytest.raises(cfg.ConfigError, match="rotation_seed = None: required for model 'toy_rotation'"):
        cfg.validate_config(config)
    assert "toy_rotation" in cfg.schema()["$defs"]["experiment"]["properties"]["model"]["enum"]


def test_unknown_model_is_one_line():
    config = toy_config()
    config["experiments"]["toy"]["model"] = "no_such_model"
    with pytest.raises(cfg.ConfigError, match=r"experiments.toy.model = 'no_such_model': unknown model \(known: "):
        cfg.validate_config(config)
    with pytest.raises(KeyError, match="unknown model 'x'"):
        get_model("x")


def _model_name_comparisons(path: Path, names: set) -> list:
    """(line, text) of comparisons against a model-name string literal in one source file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Compare):
            consts = [c for c in [node.left, *node.comparators] if isinstance(c, ast.Constant)]
            consts += [e for c in [node.left, *node.comparators] if isinstance(c, (ast.Tuple, ast.List, ast.Set))
                       for e in c.elts if isinstance(e, ast.Constant)]
            if any(c.value in names for c in consts):
                found.append((node.lineno, ast.unparse(node)))
        if isinstance(node, ast.Dict):
            if any(isinstance(k, ast.Constant) and k.value in names for k in node.keys):
                found.append((node.lineno, "dict keyed by model names"))
    return found


def branches_outside(registry: str, names) -> dict:
    """{package file: comparisons against a name} of every package module outside the registry folder."""
    offenders = {}
    for path in PACKAGE.rglob("*.py"):
        if registry in path.relative_to(PACKAGE).parts:
            continue
        found = _model_name_comparisons(path, names)
        if found:
            offenders[str(path.relative_to(PACKAGE))] = found
    return offenders


def test_nothing_outside_models_branches_on_a_model_name(tmp_path):
    names = set(MODELS)
    assert {"linear_ridge", "random_features", "rf_width_sweep"} <= names
    assert branches_outside("models", names) == {}
    # the check itself finds a branch when there is one
    probe = tmp_path / "probe.py"
    probe.write_text('def f(spec):\n    return spec["model"] == "random_features"\n')
    assert _model_name_comparisons(probe, names) == [(2, "spec['model'] == 'random_features'")]


def test_every_registered_model_describes_its_quantities():
    from ridgerenorm.quantities import QUANTITIES

    for model in MODELS.values():
        for name in model.error_quantities + model.param_quantities:
            assert name in QUANTITIES, (model.name, name)
        assert np.all([k in model.properties for k in model.simulate_keys + model.theory_keys
                       if k not in ("samples",)]), model.name
