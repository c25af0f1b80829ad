"""Loading, validating and resolving the pipeline configuration.

Validation is the JSON schema (schemas/config.schema.yaml, also used by Snakemake's validate) plus
semantic checks the schema cannot express.  Every problem is reported as one line naming the key
and the offending value.
"""

from __future__ import annotations

import copy
from importlib import resources
from pathlib import Path

import jsonschema
import numpy as np
import yaml

from . import spectra

__all__ = ["ConfigError", "SCHEMA_PATH", "load_config", "validate_config", "experiment_spec", "check_experiment"]

SCHEMA_PATH = Path(str(resources.files("ridgerenorm") / "schemas" / "config.schema.yaml"))
RF_ONLY = ("widths", "feature_draws", "sigma_xi", "sigma_xi_tilde", "weight_exponent")
SWEEP_ONLY = ("sample_size", "width_grid", "weight_exponents")
REQUIRED = {
    "linear_ridge": ("samples",),
    "random_features": ("samples", "widths", "feature_draws"),
    "rf_width_sweep": ("sample_size", "width_grid", "weight_exponents", "feature_draws"),
}


class ConfigError(ValueError):
    """A configuration value is invalid; the message is one line naming key and value."""


def _schema() -> dict:
    with open(SCHEMA_PATH) as f:
        return yaml.safe_load(f)


def _key(path) -> str:
    return ".".join(str(p) for p in path) or "<top level>"


def _fail(path, value, why: str):
    raise ConfigError(f"config error: {_key(path)} = {value!r}: {why}")


def merge(base: dict, overlay: dict) -> dict:
    """Recursive dict merge, overlay wins (the same rule Snakemake applies to --configfile)."""
    out = copy.deepcopy(base)
    for k, v in overlay.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def load_config(*paths) -> dict:
    """Load and merge YAML files in order, then validate."""
    config: dict = {}
    for p in paths:
        with open(p) as f:
            config = merge(config, yaml.safe_load(f) or {})
    validate_config(config)
    return config


def _schema_check(instance, schema: dict, root_path=()) -> None:
    validator = jsonschema.Draft202012Validator(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(instance))
    if error is not None:
        path = list(root_path) + list(error.absolute_path)
        msg = error.message
        if error.validator in ("oneOf", "anyOf"):
            msg = "does not match any allowed form (" + "; ".join(
                str(s.get("description", s.get("type", s.get("required", "")))) for s in error.validator_value
            ) + ")"
        _fail(path, error.instance, msg)


def check_experiment(name: str, exp: dict, path=("experiments",), partial: bool = False) -> None:
    """Schema and semantic checks of one experiment.  partial=True checks only the keys present (a
    rule receives just the parameters it uses)."""
    schema = _schema()
    sub = dict(schema["$defs"]["experiment"])
    sub["$defs"] = schema["$defs"]
    if partial:
        sub["required"] = [k for k in sub["required"] if k in exp]
    base = tuple(path) + (name,)
    _schema_check(exp, sub, base)
    model = exp.get("model")
    allowed = {"linear_ridge": (), "random_features": RF_ONLY, "rf_width_sweep": SWEEP_ONLY + ("feature_draws",)}
    for key in set(RF_ONLY + SWEEP_ONLY) - set(allowed.get(model, RF_ONLY + SWEEP_ONLY)):
        if key in exp:
            _fail(base + (key,), exp[key], f"not a parameter of model {model!r}")
    if not partial:
        for key in REQUIRED.get(model, ()):
            if key not in exp:
                _fail(base + (key,), None, f"required for model {model!r}")
    if model == "rf_width_sweep":
        if exp.get("ridge") != 0:
            _fail(base + ("ridge",), exp.get("ridge"), "rf_width_sweep is minimum-norm least squares: ridge must be 0")
        if exp.get("sigma_eps", 0) != 0:
            _fail(base + ("sigma_eps",), exp.get("sigma_eps"), "rf_width_sweep supports clean labels only (0)")
        if "block" in exp and "draws" in exp and exp["block"] != exp["draws"]:
            _fail(base + ("block",), exp["block"], "rf_width_sweep runs every (data, feature) pair in one job: block must equal draws")
        if "width_grid" in exp and "sample_size" in exp and exp["sample_size"] in width_values(exp["width_grid"]):
            _fail(base + ("width_grid",), exp["width_grid"], f"contains N = sample_size ({exp['sample_size']}), singular at ridge 0")
    if "sigma_xi" in exp and "sigma_xi_tilde" in exp:
        _fail(base + ("sigma_xi_tilde",), exp["sigma_xi_tilde"], "give sigma_xi or sigma_xi_tilde, not both")
    spec, teacher = exp.get("spectrum"), exp.get("teacher")
    if spec is None:
        return
    kind = spec["kind"]
    need = {"isotropic": ["D"], "power_law": ["D", "alpha"], "blocks": ["sizes", "values"]}[kind]
    for key in need:
        if key not in spec:
            _fail(base + ("spectrum", key), None, f"required for spectrum.kind = {kind!r}")
    if kind == "blocks" and len(spec["sizes"]) != len(spec["values"]):
        _fail(base + ("spectrum", "values"), spec["values"],
              f"length {len(spec['values'])} != length of spectrum.sizes ({len(spec['sizes'])})")
    tkind = (teacher or {}).get("kind")
    if tkind == "power_law":
        if kind != "power_law":
            _fail(base + ("teacher", "kind"), tkind, f"needs spectrum.kind = 'power_law', got {kind!r}")
        if "r" not in teacher:
            _fail(base + ("teacher", "r"), None, "required for teacher.kind = 'power_law'")
    if tkind == "blocks":
        if kind != "blocks":
            _fail(base + ("teacher", "kind"), tkind, f"needs spectrum.kind = 'blocks', got {kind!r}")
        if len(teacher.get("values", [])) != len(spec["sizes"]):
            _fail(base + ("teacher", "values"), teacher.get("values"),
                  f"length must equal length of spectrum.sizes ({len(spec['sizes'])})")
    D = spectra.dimension(spec)
    for key in ("samples", "theory_samples"):
        if key in exp:
            q = spectra.grid_q(exp[key])
            if q.size == 0:
                _fail(base + (key,), exp[key], "grid is empty")
            if key == "samples" and np.any(np.floor(D / q + 1e-9) < 1):
                _fail(base + (key,), exp[key], f"gives P < 1 for D = {D} (q up to {q.max():g})")
    ridge = exp.get("ridge")
    if isinstance(ridge, dict) and ridge["power"] < 0:
        _fail(base + ("ridge", "power"), ridge["power"], "must be >= 0 (lambda = P^-l must not grow with P)")


def validate_config(config: dict) -> None:
    """Validate a merged configuration; raise ConfigError with one line on the first problem."""
    _schema_check(config, _schema())
    for name, exp in config["experiments"].items():
        check_experiment(name, exp)
    from .plotting import FIGURE_KINDS

    for fid, fig in config["figures"].items():
        base = ("figures", fid)
        if fig["kind"] not in FIGURE_KINDS:
            _fail(base + ("kind",), fig["kind"], f"unknown figure kind (known: {', '.join(sorted(FIGURE_KINDS))})")
        needed = FIGURE_KINDS[fig["kind"]].roles
        given = fig.get("experiments", {})
        for role in needed:
            if role not in given:
                _fail(base + ("experiments", role), None, f"figure kind {fig['kind']!r} needs an experiment for role {role!r}")
        for role, exp_name in given.items():
            if exp_name not in config["experiments"]:
                _fail(base + ("experiments", role), exp_name, "no such experiment in experiments")


def experiment_spec(config: dict, name: str) -> dict:
    """The fully resolved parameters of one experiment (defaults filled in), as passed to the CLI."""
    exp = copy.deepcopy(config["experiments"][name])
    exp["name"] = name
    exp.setdefault("sigma_eps", 0.0)
    exp["seed"] = int(config.get("seed", 0))
    D = spectra.dimension(exp["spectrum"])
    exp["D"] = D
    exp.setdefault("block", exp["draws"])
    exp.pop("description", None)
    if exp["model"] == "rf_width_sweep":
        exp["samples"] = [D / exp["sample_size"]]  # one sample size (keeps P-based helpers working)
        exp.setdefault("theory_samples", exp["samples"])
    if exp["model"] == "random_features":
        # FIGURES.md gives sigma-tilde; the model uses sigma_xi = sigma-tilde / sqrt(D).
        tilde = exp.pop("sigma_xi_tilde", None)
        exp["sigma_xi"] = float(tilde) / np.sqrt(D) if tilde is not None else float(exp.get("sigma_xi", 0.0))
        exp.setdefault("weight_exponent", 0.0)
    if "theory_samples" not in exp:
        q = spectra.grid_q(exp["samples"])
        exp["theory_samples"] = {"logspace": [float(np.log10(q.min())), float(np.log10(q.max())), 200]}
    return exp


def draw_blocks(spec: dict) -> list[tuple[int, int]]:
    """[start, stop) ranges of data draws, one per simulation job."""
    n, b = int(spec["draws"]), int(spec["block"])
    return [(s, min(n, s + b)) for s in range(0, n, b)]


def ridge_values(ridge, P) -> np.ndarray:
    """Lambda at each P: a constant, or P^-l for a {power: l} schedule."""
    P = np.asarray(P, dtype=float)
    if isinstance(ridge, dict):
        return P ** (-float(ridge["power"]))
    return np.full(P.shape, float(ridge))


# The parameters each pipeline step depends on: a rule gets only these in its params, so changing,
# say, the theory grid reruns the theory and the figures but not the simulation.
STEP_KEYS = {
    "spectrum": ("name", "D", "spectrum", "teacher"),
    "simulate": ("name", "D", "model", "spectrum", "teacher", "ridge", "sigma_eps", "samples", "draws", "seed",
                 "widths", "feature_draws", "sigma_xi", "weight_exponent", "sample_size", "width_grid",
                 "weight_exponents"),
    "theory": ("name", "D", "model", "spectrum", "teacher", "ridge", "sigma_eps", "samples", "theory_samples",
               "widths", "sigma_xi", "weight_exponent", "sample_size", "width_grid", "weight_exponents"),
}


def step_spec(config: dict, name: str, step: str) -> dict:
    full = experiment_spec(config, name)
    return {k: full[k] for k in STEP_KEYS[step] if k in full}


def width_values(grid: dict) -> np.ndarray:
    """Integer widths of a width_grid spec: unique ints of 10^linspace(a, b, n)."""
    a, b, n = grid["logspace"]
    return np.unique(np.logspace(a, b, int(n)).astype(np.int64))
