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

__all__ = ["ConfigError", "SCHEMA_PATH", "schema", "experiment_schema", "load_config", "validate_config",
           "experiment_spec", "check_experiment", "step_spec", "draw_blocks"]

SCHEMA_PATH = Path(str(resources.files("ridgerenorm") / "schemas" / "config.schema.yaml"))


class ConfigError(ValueError):
    """A configuration value is invalid; the message is one line naming key and value."""


def _base_schema() -> dict:
    with open(SCHEMA_PATH) as f:
        return yaml.safe_load(f)


def experiment_schema(model: str | None = None) -> dict:
    """The schema of one experiment: the shared keys plus the keys of `model` (every registered model's
    keys when None), with `model` restricted to the registered names and no other key allowed."""
    from .models import MODELS

    base = _base_schema()
    exp = copy.deepcopy(base["$defs"]["experiment"])
    exp["properties"]["model"] = {"enum": sorted(MODELS), "description": exp["properties"]["model"]["description"]}
    for m in ([MODELS[model]] if model in MODELS else MODELS.values()):
        exp["properties"].update(copy.deepcopy(m.properties))
    exp["additionalProperties"] = False
    exp["$defs"] = base["$defs"]
    return exp


def schema() -> dict:
    """The whole configuration schema, assembled from the shared file and every model's fragment."""
    full = _base_schema()
    exp = experiment_schema()
    exp.pop("$defs")
    full["$defs"]["experiment"] = exp
    return full


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
    base = tuple(path) + (name,)
    model = exp.get("model")
    if model is None and partial:
        # a step that receives no model (the population spectrum): the shared keys only
        shared = _base_schema()
        sub = dict(shared["$defs"]["experiment"], additionalProperties=False, required=[], **{"$defs": shared["$defs"]})
        _schema_check(exp, sub, base)
        _check_population(exp, base)
        return
    from .models import MODELS

    if model is not None and model not in MODELS:
        _fail(base + ("model",), model, f"unknown model (known: {', '.join(sorted(MODELS))})")
    if model is not None:
        own = set(MODELS[model].properties)
        for other in MODELS.values():
            for key in set(other.properties) - own:
                if key in exp:
                    _fail(base + (key,), exp[key], f"not a parameter of model {model!r}")
    sub = experiment_schema(model)
    if partial:
        sub["required"] = [k for k in sub["required"] if k in exp]
    _schema_check(exp, sub, base)
    m = MODELS[exp["model"]] if "model" in exp else None
    if m is not None and not partial:
        for key in m.required:
            if key not in exp:
                _fail(base + (key,), None, f"required for model {m.name!r}")
    if m is not None:
        m.check(exp, lambda key, value, why: _fail(base + (key,), value, why))
    _check_population(exp, base)


def _check_population(exp: dict, base: tuple) -> None:
    """Checks of the spectrum, teacher, sample grids and ridge schedule that the schema cannot express."""
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
    top = _base_schema()
    top["$defs"]["experiment"] = {"type": "object"}  # each experiment is checked against its model's schema
    _schema_check(config, top)
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
    from .models import model_of

    model_of(exp).resolve(exp, D)
    if "theory_samples" not in exp:
        q = spectra.grid_q(exp["samples"])
        exp["theory_samples"] = {"logspace": [float(np.log10(q.min())), float(np.log10(q.max())), 200]}
    return exp


def draw_blocks(spec: dict) -> list[tuple[int, int]]:
    """[start, stop) ranges of data draws, one per simulation job."""
    n, b = int(spec["draws"]), int(spec["block"])
    return [(s, min(n, s + b)) for s in range(0, n, b)]


# The shared parameters each pipeline step depends on (a model adds its own, Model.simulate_keys and
# theory_keys): a rule gets only these in its params, so changing, say, the theory grid reruns the theory
# and the figures but not the simulation.
STEP_KEYS = {
    "spectrum": ("name", "D", "spectrum", "teacher"),
    "simulate": ("name", "D", "model", "spectrum", "teacher", "ridge", "sigma_eps", "samples", "draws", "seed"),
    "theory": ("name", "D", "model", "spectrum", "teacher", "ridge", "sigma_eps", "samples", "theory_samples"),
}


def step_spec(config: dict, name: str, step: str) -> dict:
    """The parameters of experiment `name` that step `step` (spectrum, simulate, theory) receives."""
    full = experiment_spec(config, name)
    keys = STEP_KEYS[step]
    if step != "spectrum":
        from .models import model_of

        m = model_of(full)
        keys = keys + (m.simulate_keys if step == "simulate" else m.theory_keys)
    return {k: full[k] for k in keys if k in full}
