"""Loading, validating and resolving the pipeline configuration.

Validation, in order, each step stopping at the first problem with one line naming key and value
(errors.py): the files themselves (strict_yaml.py: syntax, duplicate keys, empty files), every number
finite (finite.py), the JSON schema (schemas/config.schema.yaml, also used by Snakemake's validate;
unknown keys get the closest valid key), semantic checks of each experiment the schema cannot express,
the sizes of the jobs against this machine (limits.py), and each figure: its params (plotting/params.py)
and the models of the experiments it plots.
"""

from __future__ import annotations

import copy
import functools
from importlib import resources
from pathlib import Path

import jsonschema
import numpy as np
import yaml

from . import grids, limits, spectra, spectrum_kinds
from .errors import ConfigError, config_error, short_repr, suggestion
from .finite import check_finite
from .strict_yaml import read_config_file

__all__ = ["ConfigError", "SCHEMA_PATH", "schema", "experiment_schema", "load_config", "read_config_file",
           "validate_config", "config_warnings", "unavailable_experiments", "unavailable_figures", "experiment_spec", "check_experiment", "check_figure", "check_step_spec", "step_spec",
           "draw_blocks"]

SCHEMA_PATH = Path(str(resources.files("ridgerenorm") / "schemas" / "config.schema.yaml"))


@functools.lru_cache(maxsize=1)
def _schema_file() -> dict:
    with open(SCHEMA_PATH) as f:
        return yaml.safe_load(f)


@functools.lru_cache(maxsize=4)
def _schema_with_kinds(kinds_version: int) -> dict:
    base = copy.deepcopy(_schema_file())
    base["$defs"]["spectrum"] = spectrum_kinds.spectrum_schema()
    base["$defs"]["teacher"] = spectrum_kinds.teacher_schema()
    return base


def _base_schema() -> dict:
    """The schema file's contents with the spectrum and teacher mappings assembled from the spectrum-kind
    registry (built once per state of the registry; a fresh copy each call, so callers may change it)."""
    return copy.deepcopy(_schema_with_kinds(spectrum_kinds.version()))


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


def _fail(path, value, why: str):
    raise config_error(path, value, why)


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
    """Read (strictly: strict_yaml.py) and merge config files in order, then validate."""
    if not paths:
        raise ConfigError("config error: no config file given")
    config: dict = {}
    for p in paths:
        config = merge(config, anchor_paths(read_config_file(p), p))
    validate_config(config)
    return config


def anchor_paths(config: dict, config_file) -> dict:
    """`config` (the contents of config_file) with each spectrum's file paths resolved against the file's
    directory (spectrum_kinds.anchor_paths), in place; returned for chaining."""
    experiments = config.get("experiments") if isinstance(config, dict) else None
    if isinstance(experiments, dict):
        base_dir = Path(config_file).parent
        for exp in experiments.values():
            if isinstance(exp, dict) and isinstance(exp.get("spectrum"), dict):
                spectrum_kinds.anchor_paths(exp["spectrum"], base_dir)
    return config


def anchor_config_paths(config: dict, config_files) -> None:
    """The merged `config` (as Snakemake reads it) with the file paths of each spectrum resolved against the
    directory of the last config file that gives them, in place."""
    targets = config.get("experiments") if isinstance(config, dict) else None
    for f in config_files:
        own = anchor_paths(read_config_file(f), f)
        for name, exp in (own.get("experiments") or {}).items():
            target = targets.get(name) if isinstance(targets, dict) else None
            if isinstance(exp, dict) and isinstance(exp.get("spectrum"), dict) and isinstance(target, dict):
                for key in spectrum_kinds.file_keys(exp["spectrum"]):
                    target["spectrum"][key] = exp["spectrum"][key]


# ------------------------------------------------------------------------------------ schema errors


def _unknown_key(error):
    """(key, value, why) of an additionalProperties error: the first unexpected key and the closest valid one."""
    known = error.schema.get("properties", {})
    extra = [k for k in error.instance if k not in known]
    if not extra:  # not a plain unknown key (e.g. a pattern of property names): jsonschema's words
        return None, error.instance, error.message
    key = extra[0]
    return key, error.instance[key], "unknown key" + suggestion(key, known)


def _branch(error):
    """The sub-error that explains a oneOf/anyOf failure: of the branches whose type fits the value, an unknown
    key first, else the error of the only such branch; None when no single branch explains it."""
    branches: dict = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    fitting = {i: subs for i, subs in branches.items()
               if not any(s.validator == "type" and not s.relative_path for s in subs)}
    for subs in fitting.values():
        for sub in subs:
            if sub.validator == "additionalProperties":
                return sub
    if len(fitting) == 1:
        return jsonschema.exceptions.best_match(next(iter(fitting.values())))
    return None


def _forms(error) -> str:
    return "; ".join(str(s.get("description", s.get("type", s.get("required", "")))) for s in error.validator_value)


def _explain(error):
    """(path relative to the checked instance, value, why) of a jsonschema error, on one short line."""
    path = tuple(error.absolute_path)
    if error.validator in ("oneOf", "anyOf"):
        sub = _branch(error)
        if sub is None:
            return path, error.instance, f"does not match any allowed form ({_forms(error)})"
        error = sub
        path = tuple(error.absolute_path)
    if error.validator == "additionalProperties":
        key, value, why = _unknown_key(error)
        return path + ((key,) if key is not None else ()), value, why
    if error.validator == "required":
        missing = next(k for k in error.validator_value if k not in error.instance)
        return path + (missing,), None, "required key is missing"
    if "propertyNames" in error.relative_schema_path:
        rule = f"must match {error.validator_value!r}" if error.validator == "pattern" else error.message
        return path + (error.instance,), error.instance, f"not a valid name here ({rule})"
    why = error.message
    head = repr(error.instance)
    if why.startswith(head) and len(head) > len(short_repr(error.instance)):
        why = "the value" + why[len(head):]
    return path, error.instance, why


def _schema_check(instance, schema: dict, root_path=()) -> None:
    """ConfigError (one line) for the most relevant schema error of `instance`; an unknown key is preferred
    to the required key it was probably meant to be."""
    validator = jsonschema.Draft202012Validator(schema)
    errors = list(validator.iter_errors(instance))
    if not errors:
        return
    error = jsonschema.exceptions.best_match(errors)
    if error.validator == "required":
        typos = [e for e in errors if e.validator == "additionalProperties" and e.absolute_path == error.absolute_path]
        error = typos[0] if typos else error
    path, value, why = _explain(error)
    _fail(tuple(root_path) + path, value, why)


def check_experiment(name: str, exp: dict, path=("experiments",), partial: bool = False) -> None:
    """Schema and semantic checks of one experiment.  partial=True checks only the keys present (a
    rule receives just the parameters it uses)."""
    base = tuple(path) + (name,)
    if not isinstance(exp, dict):
        _fail(base, exp, "an experiment is a mapping of keys (model, spectrum, teacher, ...)")
    check_finite(exp, base)
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
    fail = lambda path, value, why: _fail(base + tuple(path), value, why)  # noqa: E731
    spectrum_kinds.check(spec, teacher, fail)
    D = spectra.dimension(spec)
    if D > limits.MAX_SIZE:
        key = spectrum_kinds.dimension_key(spec)
        _fail(base + ("spectrum", key), spec[key], f"D = {D:.3g} is more than {limits.MAX_SIZE:.0e}")
    for key in ("samples", "theory_samples"):
        if key in exp:
            _check_grid(base + (key,), exp[key], D)
    grids.check_ridge(exp.get("ridge"), lambda path, value, why: fail(("ridge",) + path, value, why))


def _check_grid(path, grid, D: int) -> None:
    """A q grid evaluates to finite q > 0 (10^a can overflow) giving 1 <= P = int(D/q) <= MAX_SIZE."""
    with np.errstate(all="ignore"):
        q = grids.grid_q(grid)
        P = grids.sizes_from_q(D, q)
    if q.size == 0:
        _fail(path, grid, "grid is empty")
    bad = q[~(np.isfinite(q) & (q > 0))]
    if bad.size:
        _fail(path, grid, f"gives q values that are not finite positive numbers ({bad[0]:g})")
    if path[-1] == "samples" and np.any(P < 1):
        _fail(path, grid, f"gives P < 1 for D = {D} (q up to {q.max():g})")
    if np.any(P > limits.MAX_SIZE):
        _fail(path, grid, f"gives P = {P.max():.3g} for D = {D} (q down to {q.min():g}), "
                          f"more than {limits.MAX_SIZE:.0e}")


def check_figure(fid: str, fig: dict, experiments: dict | None = None) -> None:
    """Checks of one figure: its kind, its params (plotting/params.py), its experiment roles and, given the
    config's experiments, that each exists and has a model the kind can plot."""
    from . import notes
    from .plotting import FIGURE_KINDS
    from .plotting.params import ParamError

    base = ("figures", fid)
    _schema_check(fig, _base_schema()["$defs"]["figure"], base)
    name = fig["kind"]
    kind = FIGURE_KINDS.get(name)
    if kind is None:
        close = suggestion(name, FIGURE_KINDS)
        _fail(base + ("kind",), name, "unknown figure kind" + (close if "did you mean" in close else
                                                                f" (known: {', '.join(sorted(FIGURE_KINDS))})"))
    params = fig.get("params", {})
    if kind.params is None and params:
        key = next(iter(params))
        _fail(base + ("params", key), params[key], f"figure kind {name!r} takes no params")
    if kind.params is not None:
        _schema_check(params, kind.params, base + ("params",))
    if kind.check is not None:
        try:
            kind.check(params)
        except ParamError as err:
            _fail(base + ("params",) + err.path, err.value, err.why)
    if fig.get("note"):
        notes.check_note(base + ("note",), fig["note"], kind.roles, _schema_check)
    given = fig.get("experiments", {})
    for role, exp_name in given.items():
        if role not in kind.roles:
            why = (f"figure kind {name!r} takes no experiments" if not kind.roles else
                   f"figure kind {name!r} has no role {role!r}" + suggestion(role, kind.roles))
            _fail(base + ("experiments", role), exp_name, why)
    for role in kind.roles:
        if role not in given:
            _fail(base + ("experiments", role), None, f"figure kind {name!r} needs an experiment for role {role!r}")
    if experiments is None:
        return
    for role, exp_name in given.items():
        if exp_name not in experiments:
            _fail(base + ("experiments", role), exp_name,
                  "no such experiment in experiments" + suggestion(exp_name, experiments))
        model = experiments[exp_name].get("model")
        if kind.models and model not in kind.models:
            _fail(base + ("experiments", role), exp_name,
                  f"figure kind {name!r} plots {' or '.join(kind.models)} experiments, not {model}")


def validate_config(config: dict) -> None:
    """Validate a merged configuration; raise ConfigError with one line on the first problem."""
    if not isinstance(config, dict):
        _fail((), config, "a configuration is a mapping of keys (scale, experiments, figures, ...)")
    check_finite(config)
    top = _base_schema()
    top["$defs"]["experiment"] = {"type": "object"}  # each experiment is checked against its model's schema
    _schema_check(config, top)
    for name, exp in config["experiments"].items():
        check_experiment(name, exp)
    limits.check_job_count(config)
    for name in config["experiments"]:
        limits.check_experiment_memory(config, name)
    limits.check_simulation_times(config)
    for fid, fig in config["figures"].items():
        check_figure(fid, fig, config["experiments"])


def config_warnings(config: dict) -> list[str]:
    """One line for each experiment whose theory grid (theory_samples and the simulated sample sizes) holds
    a sample size where its theory at ridge 0 is infinite (Model.theory_poles): not an error (the figure
    draws the curve up to it), but a point with no finite theory value."""
    from .errors import dotted
    from .models import model_of
    from .models.base import theory_sample_sizes

    lines = []
    for name in config["experiments"]:
        spec = experiment_spec(config, name)
        model = model_of(spec)
        poles = model.theory_poles(spec)
        if not poles:
            continue
        P, _ = theory_sample_sizes(spec)
        for pole, why in poles:
            at = P[P == pole]
            if at.size and spectra.ridge_values(spec["ridge"], at)[0] == 0:
                lines.append(f"warning: {dotted(('experiments', name, 'ridge'))} = {short_repr(spec['ridge'])}: "
                             f"{why}, a point of its theory grid")
    return lines


def unavailable_experiments(config: dict) -> dict[str, str]:
    """{experiment: why} of the experiments this machine cannot run: their spectrum kind needs an optional
    extra that is not installed (spectrum_kinds.unavailable)."""
    out = {}
    for name, exp in config["experiments"].items():
        why = spectrum_kinds.unavailable(exp["spectrum"])
        if why is not None:
            out[name] = why
    return out


def unavailable_figures(config: dict) -> dict[str, str]:
    """{figure id: one line why} of the figures with an experiment this machine cannot run
    (unavailable_experiments).  The workflow leaves them and those experiments out, so a run without the extra
    still builds every other figure."""
    missing = unavailable_experiments(config)
    out = {}
    for fid, fig in config["figures"].items():
        exp = next((e for e in (fig.get("experiments") or {}).values() if e in missing), None)
        if exp is not None:
            out[fid] = f"figure {fid} is left out: experiments.{exp}.{missing[exp]}"
    return out


def experiment_spec(config: dict, name: str) -> dict:
    """The fully resolved parameters of one experiment (defaults filled in), as passed to the CLI."""
    exp = copy.deepcopy(config["experiments"][name])
    exp["name"] = name
    spectrum_kinds.resolve(exp)
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


def check_step_spec(spec: dict, step: str, command: str) -> None:
    """A step's spec (as step_spec makes it, given to the CLI by hand or by a rule) has every key the step
    reads, a registered model and valid values; ConfigError (one line) otherwise."""
    if not isinstance(spec, dict):
        _fail("--spec", spec, f"expected a JSON object of experiment parameters (ridgerenorm {command})")
    name = spec.get("name", "?")
    base = ("experiments", name)
    check_finite(spec, base)
    keys = STEP_KEYS[step]
    if step != "spectrum":
        # the models are imported only by the steps that run one, so the spectrum step does not depend on them
        from .models import MODELS

    if step != "spectrum" and spec.get("model") in MODELS:
        m = MODELS[spec["model"]]
        keys = keys + (m.simulate_keys if step == "simulate" else m.theory_keys)
    for key in keys:
        if key not in spec:
            _fail(base + (key,), None, f"required by 'ridgerenorm {command}' (a step spec as the workflow writes it)")
    if "seed" in spec and (isinstance(spec["seed"], bool) or not isinstance(spec["seed"], int) or spec["seed"] < 0):
        _fail(base + ("seed",), spec["seed"], "must be an integer >= 0")
    body = {k: v for k, v in spec.items() if k not in ("name", "seed", "D")}
    check_experiment(str(name), body, partial=True)
    if "D" in spec and "spectrum" in spec and spec["D"] != spectra.dimension(spec["spectrum"]):
        _fail(base + ("D",), spec["D"], f"differs from the spectrum's dimension {spectra.dimension(spec['spectrum'])}")


def step_spec(config: dict, name: str, step: str) -> dict:
    """The parameters of experiment `name` that step `step` (spectrum, simulate, theory) receives."""
    full = experiment_spec(config, name)
    keys = STEP_KEYS[step]
    if step != "spectrum":
        from .models import model_of

        m = model_of(full)
        keys = keys + (m.simulate_keys if step == "simulate" else m.theory_keys)
    return {k: full[k] for k in keys if k in full}
