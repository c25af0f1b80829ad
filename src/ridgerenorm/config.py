"""Loading, validating and resolving the pipeline configuration.

Validation, in order, each step stopping at the first problem with one line naming key and value
(errors.py): the files themselves (strict_yaml.py: syntax, duplicate keys, empty files), every number
finite (finite.py), the JSON schema (schemas/config.schema.yaml, also used by Snakemake's validate;
unknown keys get the closest valid key), semantic checks of each experiment the schema cannot express,
the sizes of the jobs against this machine (below, against the facts of limits.py), and each figure: its
params (its kind's schema and check, plotting/) and the models of the experiments it plots.
"""

from __future__ import annotations

import copy
import functools
import math
import os
from pathlib import Path

import jsonschema
import numpy as np

from . import grids, spectra, spectrum_kinds
from .errors import ConfigError, config_error, short_repr, suggestion
from .finite import check_finite
from .limits import (HEADROOM, MAX_EXPERIMENT_DAYS, MAX_JOBS, MAX_SIZE, SCHEMA_PATH, machine_memory_bytes,
                     schema_file)
from .strict_yaml import read_config_file

# Where imports sit decides what a code stamp holds (deps.py): a pipeline step's results record the hash of
# the modules its command imports, counting the imports placed inside the functions of that step.  The
# models and the figure kinds are imported inside the functions that need them, on purpose: the spectrum
# step, which runs no model, then does not depend on (and does not rerun after an edit to) any model module.

__all__ = ["ConfigError", "SCHEMA_PATH", "schema", "experiment_schema", "load_config", "read_config_file",
           "validate_config", "config_warnings", "unavailable_experiments", "unavailable_figures", "experiment_spec", "check_experiment", "check_figure",
           "check_step_spec", "step_spec", "draw_blocks", "job_memory_mb", "check_experiment_memory",
           "simulation_seconds", "check_simulation_times", "workflow_jobs", "check_job_count"]


@functools.lru_cache(maxsize=4)
def _schema_with_kinds(kinds_version: int) -> dict:
    base = copy.deepcopy(schema_file())
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
    if D > MAX_SIZE:
        key = spectrum_kinds.dimension_key(spec)
        _fail(base + ("spectrum", key), spec[key], f"D = {D:.3g} is more than {MAX_SIZE:.0e}")
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
    if np.any(P > MAX_SIZE):
        _fail(path, grid, f"gives P = {P.max():.3g} for D = {D} (q down to {q.min():g}), "
                          f"more than {MAX_SIZE:.0e}")


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
    try:
        kind.check_params(params)
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
    check_job_count(config)
    for name in config["experiments"]:
        check_experiment_memory(config, name)
    check_simulation_times(config)
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


# ----------------------------------------------------------------------------- sizes against the machine
#
# Arithmetic on the configuration (no array is allocated, no DAG is built), against the facts of limits.py:
#
# * every experiment's simulation job fits: the model's own estimate (`Model.memory_mb`) for the largest
#   block of data draws is at most this machine's memory and at most `mem_budget_gb` plus HEADROOM;
# * its merge and theory jobs, which hold their arrays whole (`Model.merge_memory_mb`, `theory_memory_mb`),
#   fit this machine's memory;
# * simulating it takes at most MAX_EXPERIMENT_DAYS by `ridgerenorm plan`'s estimate (the models' flop counts
#   at this machine's kept rates, costs.py; before any are measured, at ASSUMED_RATES, faster than any CPU);
# * the workflow stays a sane size: spectrum, merge and theory jobs plus one simulation job per block of
#   data draws, per experiment, plus the figure jobs, at most MAX_JOBS.
#
# Which key a message names.  A job within the machine but above the budget names `mem_budget_gb` (and the
# experiment).  A job larger than the machine names `mem_budget_gb` or `threads` when one is set above what
# this machine has and bringing it down is enough; otherwise each size key of the experiment (data draws per
# job, the model's `size_keys`, the spectrum kind's size keys, sample grid, threads) is shrunk tenfold in
# turn, the way a user would edit it, and the key whose shrinking cuts the estimate most is named (within
# 5 %: the earlier one).  The merge, theory and time checks name a size key the same way (with draws in all,
# not per job, and the theory grid's number of points among the keys), except that the first key whose
# tenfold shrinking alone is enough is named, if one is.  The random-matrix figures compare their own job
# with the machine (their kind's `memory`, plotting/).

FIXED_EXPERIMENT_JOBS = 3  # spectrum, merge, theory
FIXED_WORKFLOW_JOBS = 3  # agreement, benchmark summary, all

# shared experiment keys a simulation job's size depends on, and how a user would shrink each tenfold (the
# spectrum's own come first: its kind's size_keys)
SHARED_SIZE_KEYS = {("samples",): "q_grid", ("theory_samples",): "grid_points"}
JOB_KINDS = ("simulation", "merge", "theory")  # the jobs of an experiment whose memory is checked
# rates assumed when this machine's are not measured yet: faster than any CPU node, so that the time check
# then refuses only what no machine would finish
ASSUMED_RATES = {"gemm": 2000.0, "factor": 100.0}


def _fits(config: dict, need_bytes: float) -> bool:
    budget = float(config.get("mem_budget_gb", 16)) * 1e9
    return need_bytes <= min(machine_memory_bytes(), budget * (1 + HEADROOM))


# ------------------------------------------------------------------------------------- simulation memory


def _largest_block(exp: dict) -> int:
    draws = int(exp["draws"])
    return min(draws, int(exp.get("block", draws)))


def job_memory_mb(config: dict, name: str, job: str = "simulation", spec: dict | None = None) -> float | None:
    """The model's memory estimate (MB) of a job of experiment `name`: its largest simulation job, its merge
    or its theory job (JOB_KINDS); None when the model gives no estimate.  `spec`: the experiment's resolved
    spec, when the caller has it."""
    from .models import model_of

    spec = experiment_spec(config, name) if spec is None else spec
    model = model_of(spec)
    if job == "merge":
        need = model.merge_memory_mb(spec)
    elif job == "theory":
        need = model.theory_memory_mb(spec)
    else:
        budget_bytes = float(config.get("mem_budget_gb", 16)) * 1e9
        try:
            need = model.memory_mb(spec, _largest_block(spec), budget_bytes, int(config.get("threads", 2)))
        except NotImplementedError:
            need = None
    return None if need is None else float(need)


def _tenth(n) -> int:
    return max(1, math.ceil(int(n) / 10))


def _shrunk(value, how: str):
    """`value` shrunk tenfold as a user would: sizes divided, q-grids scaled up (P = D/q), size grids one
    decade lower, lists shortened."""
    if how == "size":
        return [_tenth(v) for v in value] if isinstance(value, list) else _tenth(value)
    if how == "count_list":
        return value[: _tenth(len(value))]
    if how == "size_grid":
        a, b, n = value["logspace"]
        return {**value, "logspace": [a - 1, b - 1, n]}
    if how == "q_grid":
        return [10.0 * q for q in _q_values(value)]
    if how == "grid_points":
        if isinstance(value, dict):
            form = "logspace" if "logspace" in value else "inverse_linspace"
            a, b, n = value[form]
            return {**value, form: [a, b, _tenth(n)]}
        return value[: _tenth(len(value))]
    raise ValueError(f"unknown way to shrink a size key: {how!r}")


def _q_values(grid) -> list:
    with np.errstate(all="ignore"):
        return [float(q) for q in spectra.grid_q(grid)]


def _keep_p_positive(exp: dict) -> None:
    """After a shrink, cap q at D so every P = int(D/q) stays >= 1 (only the smallest, cheapest P change)."""
    if "samples" in exp and "spectrum" in exp:
        D = spectra.dimension(exp["spectrum"])
        exp["samples"] = [min(q, float(D)) for q in _q_values(exp["samples"])]


def _set(tree: dict, path, value) -> None:
    for key in path[:-1]:
        tree = tree[key]
    tree[path[-1]] = value


def _get(tree, path):
    for key in path:
        if not isinstance(tree, dict) or key not in tree:
            return None
        tree = tree[key]
    return tree


def _trial(config: dict, name: str, path, value) -> dict:
    """A copy of config with `value` at `path` (a config path) and experiment `name`'s P kept >= 1."""
    trial = copy.deepcopy(config)
    _set(trial, path, value)
    _keep_p_positive(trial["experiments"][name])
    return trial


def _candidates(config: dict, name: str, per_job: bool = True):
    """(config path, shrunk config) of every size key of experiment `name`, in the order ties are broken:
    draws (per job when `per_job`, else in all), the model's size keys, the shared ones, threads."""
    from .models import MODELS

    exp = config["experiments"][name]
    base = ("experiments", name)
    if per_job:
        n = _tenth(_largest_block(exp))
        fewer = _trial(config, name, base + ("draws",), n)  # for every model: a job of n draws
        fewer["experiments"][name]["block"] = n
        out = [(base + ("block" if "block" in exp else "draws",), fewer)]
    else:
        n = _tenth(exp["draws"])
        fewer = _trial(config, name, base + ("draws",), n)
        if "block" in exp:
            fewer["experiments"][name]["block"] = min(int(exp["block"]), n)
        out = [(base + ("draws",), fewer)]
    model = MODELS.get(exp.get("model"))
    keys = [((k,), how) for k, how in getattr(model, "size_keys", {}).items()]
    keys += [(("spectrum", k), how) for k, how in spectrum_kinds.size_keys(exp["spectrum"]).items()]
    keys += list(SHARED_SIZE_KEYS.items())
    for path, how in keys:
        value = _get(exp, path)
        if value is not None:
            out.append((base + path, _trial(config, name, base + path, _shrunk(value, how))))
    out.append((("threads",), _trial(config, name, ("threads",), _tenth(config.get("threads", 2)))))
    return out


def _machine_culprit(config: dict, name: str):
    """mem_budget_gb or threads when set above what this machine has (memory, cores) and bringing it down to
    that makes the job fit; else None."""
    for key, fitting in (("mem_budget_gb", machine_memory_bytes() / (1 + HEADROOM) / 1e9),
                         ("threads", os.cpu_count() or 1)):
        if float(config.get(key, fitting)) > fitting:
            smaller = job_memory_mb(_trial(config, name, (key,), fitting), name)
            if smaller is not None and _fits(config, smaller * 1e6):
                return (key,)
    return None


def _largest_cut(config: dict, name: str, need: float, cost, per_job: bool = True, within: float | None = None):
    """The config path of the size key of experiment `name` whose tenfold shrinking cuts cost(config, name)
    (of value `need`) most; ties within 5 % go to the earlier key (_candidates).  Given `within`, the first
    key whose tenfold shrinking alone brings the cost within it is named, if there is one."""
    best, best_ratio = ("experiments", name), 0.0
    for path, trial in _candidates(config, name, per_job):
        try:
            smaller = cost(trial, name)
        except (ValueError, ArithmeticError):  # a shrink that leaves no valid grid is not a way out
            continue
        if smaller is not None and within is not None and smaller <= within:
            return path
        if smaller is not None and smaller > 0 and need / smaller > best_ratio * 1.05:
            best, best_ratio = path, need / smaller
    return best


def _culprit(config: dict, name: str, need_mb: float, job: str = "simulation"):
    """The config path of the key a job too large for this machine depends on most: for a simulation job a
    machine setting above the machine (_machine_culprit), else the size key whose tenfold shrinking cuts the
    estimate most."""
    found = _machine_culprit(config, name) if job == "simulation" else None
    if found is not None:
        return found
    simulation = job == "simulation"
    return _largest_cut(config, name, need_mb, lambda c, n: job_memory_mb(c, n, job), per_job=simulation,
                        within=None if simulation else machine_memory_bytes() / 1e6)


def check_experiment_memory(config: dict, name: str) -> None:
    """ConfigError when a job of experiment `name` needs more memory than this machine has (naming the key it
    depends on most): its largest simulation job, its merge or its theory job; or when the simulation job
    needs more than mem_budget_gb allows with HEADROOM (naming the budget).  The merge and theory jobs hold
    their arrays whole (they are not chunked to the budget), so only the machine bounds them."""

    machine = machine_memory_bytes()
    budget = float(config.get("mem_budget_gb", 16))
    spec = experiment_spec(config, name)
    needs = {}
    for job in JOB_KINDS:
        need_mb = needs[job] = job_memory_mb(config, name, job, spec)
        if need_mb is None or need_mb * 1e6 <= machine:
            continue
        path = _culprit(config, name, need_mb, job)
        if job == "simulation":
            who = "a simulation job" if path[0] == "experiments" else f"a simulation job of {name}"
            raise config_error(path, _get(config, path), f"{who} needs {need_mb:.3g} MB, more than this machine's "
                                                         f"{machine / 1e9:.1f} GB (mem_budget_gb = {budget:g})")
        who = f"the {job} job" + ("" if path[:2] == ("experiments", name) else f" of {name}")
        raise config_error(path, _get(config, path), f"{who} needs {need_mb:.3g} MB, more than this machine's "
                                                     f"{machine / 1e9:.1f} GB")
    need_mb = needs["simulation"]
    if need_mb is None or _fits(config, need_mb * 1e6):
        return
    raise config_error(("mem_budget_gb",), config.get("mem_budget_gb", 16),
                       f"a simulation job of {name} needs {need_mb:.3g} MB, more than the budget allows "
                       f"({budget * (1 + HEADROOM):.1f} GB with {HEADROOM:.0%} headroom)")


# ----------------------------------------------------------------------------------------- run time


def simulation_seconds(config: dict, name: str, rates: dict) -> float:
    """`ridgerenorm plan`'s estimate of experiment `name`'s simulation time at `rates` (costs.py)."""
    from .costs import experiment_seconds
    from .models import model_of

    spec = experiment_spec(config, name)
    try:
        flops = model_of(spec).flops(spec)
    except NotImplementedError:
        return 0.0
    return experiment_seconds(rates, flops, len(draw_blocks(spec)), int(config.get("threads", 2)))


def _duration(seconds: float) -> str:
    days = seconds / 86400
    return f"{days / 365.25:.3g} years" if days >= 365.25 else f"{days:.3g} days"


def check_simulation_times(config: dict) -> None:
    """ConfigError when simulating an experiment would take more than MAX_EXPERIMENT_DAYS at this machine's
    kept rates (costs.kept_rates, looked up once; ASSUMED_RATES before any are measured), naming the size key
    whose tenfold shrinking alone brings it within the limit (the first, in _candidates' order), else the one
    that cuts it most."""
    from .costs import kept_rates

    rates = kept_rates(int(config.get("threads", 2)))
    where = "at this machine's measured rates" if rates else "even at an assumed 2 TFLOP/s (none measured yet)"
    rates = rates or ASSUMED_RATES
    limit = MAX_EXPERIMENT_DAYS * 86400
    for name in config["experiments"]:
        need = simulation_seconds(config, name, rates)
        if need <= limit:
            continue
        path = _largest_cut(config, name, need, lambda c, n: simulation_seconds(c, n, rates), per_job=False,
                            within=limit)
        raise config_error(path, _get(config, path), f"simulating {name} would take about {_duration(need)} "
                                                     f"{where}, more than {MAX_EXPERIMENT_DAYS:g} days")


# ------------------------------------------------------------------------------------------ DAG size


def experiment_jobs(exp: dict) -> int:
    """Jobs of one experiment: one simulation job per block of data draws, plus spectrum, merge and theory."""
    draws = int(exp["draws"])
    block = int(exp.get("block", draws))
    return -(-draws // block) + FIXED_EXPERIMENT_JOBS


def workflow_jobs(config: dict) -> int:
    """Jobs of the whole workflow: every experiment's, one per figure, one more per figure that samples its
    own random matrices, and the fixed ones."""
    from .plotting import FIGURE_KINDS

    jobs = sum(experiment_jobs(exp) for exp in config["experiments"].values())
    for fig in config["figures"].values():
        kind = FIGURE_KINDS.get(fig.get("kind"))
        jobs += 1 + (1 if kind is not None and kind.builder else 0)
    return jobs + FIXED_WORKFLOW_JOBS


def check_job_count(config: dict) -> None:
    """ConfigError when the workflow would have more than MAX_JOBS jobs, naming the draws of the experiment
    that makes the most."""
    total = workflow_jobs(config)
    if total <= MAX_JOBS:
        return
    name = max(config["experiments"], key=lambda n: experiment_jobs(config["experiments"][n]))
    exp = config["experiments"][name]
    sims = experiment_jobs(exp) - FIXED_EXPERIMENT_JOBS
    blocks = f" in blocks of {exp['block']}" if "block" in exp else ""
    raise config_error(("experiments", name, "draws"), exp["draws"],
                       f"{sims} simulation jobs (draws{blocks}); the workflow would have {total} jobs, "
                       f"more than {MAX_JOBS}")
