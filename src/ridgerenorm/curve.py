"""Theory learning curves for a spectrum and teacher of your own, without the pipeline (`ridgerenorm curve`).

The population comes from one of two places:
  * an experiment of a config file (--config FILE... --experiment NAME): its spectrum, teacher, model and
    parameters, each of which the command line may override;
  * any registered spectrum kind (spectrum_kinds/) on the command line: --spectrum KIND with the kind's keys as
    options of the same names (--D, --alpha, --sizes, --values, --path, --w-path, --labels, ...) and a teacher
    (--teacher-kind, or the kind whose keys --teacher-<key> gives, or the spectrum's own teacher that needs no
    key, or flat), checked and loaded by the registry's own code: `--spectrum file --path eig.nc` reads eta (and
    w, sigma_eps) through the file kind's loader, `--spectrum dataset --path X.npy --labels y.npy` takes the
    dataset's covariance, least-squares teacher and residual noise.  A default the spectrum supplies (a file's
    sigma_eps) is used when --sigma-eps is not given.  --eigenvalues FILE [--teacher FILE] are the file kind's
    path and w_path under their older names.  A bad key or file is the registry's one line, naming the option.

The curve is the model's own theory (Model.point_theory, i.e. theory.linear_ridge or
theory.random_features) on a geometric grid of P, at a fixed ridge (a number or lambda = P^-l) and, with
--optimal-ridge, at the ridge lambda*(P) that minimizes the theory's E_g at each P (a bounded scalar
minimization over log lambda).  Outputs: a CF-1.11 netCDF file with provenance and data checksum
(io.write_dataset) and a PNG carrying its provenance record (plotting.save_figure).

The netCDF file records the options as words (`curve_args`, recorded_args) and each input file's SHA-256, so
`ridgerenorm audit --verify` can parse them with this command's own parser and recompute the curve.  Nothing
here reads a file other than those named on the command line (and the package's own schema), so an installed
wheel is all it needs.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import xarray as xr

from . import spectra
from .quantities import attrs

__all__ = ["CurveError", "Population", "load_population", "curve_models", "model_spec", "sample_grid",
           "optimal_ridge", "curve_dataset", "run"]


class CurveError(ValueError):
    """A bad input of `ridgerenorm curve`: one line naming the option and its value."""


# ---------------------------------------------------------------------------------------------- inputs

# the options that name input files (audit.py checks them against the record before recomputing a curve)
INPUT_OPTIONS = ("config", "path", "w_path", "labels", "eigenvalues", "teacher")
# --eigenvalues FILE [--teacher FILE]: the file kind's `path` and `w_path` under their older names
ALIASES = {"eigenvalues": ("file", "path"), "teacher": ("file", "w_path")}


@dataclass
class Population:
    """What the options name: eta and w, the population's description for the record, the config experiment
    (or None), the input files, and defaults the spectrum supplies (a file's sigma_eps)."""

    eta: np.ndarray
    w: np.ndarray
    source: dict
    experiment: dict | None = None
    files: list = field(default_factory=list)
    defaults: dict = field(default_factory=dict)


def _option(head: str, key: str, aliased: dict) -> str:
    """The command-line option of a spectrum or teacher key: spectrum.<key> is --<key> (or the alias the
    user gave), teacher.<key> is --teacher-<key> (its kind: --teacher-kind), spectrum.kind is --spectrum."""
    if head == "spectrum":
        return "--spectrum" if key == "kind" else aliased.get(key, "--" + key.replace("_", "-"))
    return "--teacher-" + key.replace("_", "-")


def _fail(aliased: dict):
    def fail(path, value, why):
        option = _option(path[0], path[1] if len(path) > 1 else "kind", aliased)
        value = value if len(path) <= 2 else None  # an entry of a list: the option as a whole
        shown = " ".join(str(v) for v in value) if isinstance(value, list) else value
        raise CurveError(f"error: {option}{'' if value is None else f' {shown}'}: {' '.join(str(why).split())}")
    return fail


def _given(args, prefix: str, keys) -> dict:
    return {k: getattr(args, prefix + k) for k in keys if getattr(args, prefix + k, None) is not None}


def _teacher(spectrum: dict, given: dict, fail) -> dict:
    """The teacher the options name: --teacher-kind, else the registered kind whose keys were given, else the
    first kind defined on this spectrum that needs no key and accepts it (a file's own w), else one defined on
    every spectrum that needs no key (flat)."""
    from . import spectrum_kinds as sk

    def fits(kind) -> bool:
        return (kind.needs in (None, spectrum["kind"]) and set(given) <= set(kind.properties)
                and set(kind.required) <= set(given))

    def accepts(kind) -> bool:
        problems = []
        kind.check({"kind": kind.name, **given}, spectrum, lambda *problem: problems.append(problem))
        return not problems

    kinds = list(sk.TEACHER_KINDS.values())
    if given:
        chosen = next((k for k in kinds if fits(k) and k.needs is not None), None) or next(
            (k for k in kinds if fits(k)), None)
    else:
        chosen = next((k for k in kinds if k.needs == spectrum["kind"] and fits(k) and accepts(k)), None) or next(
            (k for k in kinds if k.needs is None and fits(k)), None)
    if chosen is None:
        key = sorted(given)[0] if given else "kind"
        fail(("teacher", key), given.get(key), f"no teacher kind of spectrum.kind = {spectrum['kind']!r} takes "
                                                f"{', '.join('--teacher-' + k for k in sorted(given))}: give --teacher-kind")
    return {"kind": chosen.name, **given}


def _spec_from_options(args) -> tuple[dict, dict, dict]:
    """Spectrum and teacher specs of the command-line options (--spectrum KIND ..., or the file kind's
    aliases), checked by the registry's own checks, and {spectrum key: option} of the aliases used.  Every
    registered kind is reachable: a spectrum key is the option of its name (--D, --alpha, --path, ...)."""
    from . import spectrum_kinds as sk

    aliased = {key: f"--{name}" for name, (_, key) in ALIASES.items() if getattr(args, name) is not None}
    kind = args.spectrum or ALIASES[next(iter(a for a in ALIASES if getattr(args, a) is not None))][0]
    if aliased and args.spectrum is not None:
        raise CurveError(f"error: {next(iter(aliased.values()))}: names a file spectrum; with --spectrum "
                         f"{args.spectrum} give its keys ({', '.join(sorted(aliased))}) as options")
    fail = _fail(aliased)
    if kind not in sk.SPECTRUM_KINDS:
        fail(("spectrum", "kind"), kind, f"unknown spectrum kind (known: {', '.join(sorted(sk.SPECTRUM_KINDS))})")
    keys = {k for kd in sk.SPECTRUM_KINDS.values() for k in kd.properties} - {"sha256"}
    spectrum = {"kind": kind, **_given(args, "", sorted(keys))}
    spectrum.update({key: getattr(args, name) for name, (_, key) in ALIASES.items() if getattr(args, name) is not None})
    sk.check(spectrum, None, fail)  # the spectrum first: a teacher may read its files
    missing = sk.unavailable(spectrum)
    if missing:
        raise CurveError(f"error: --spectrum {kind}: {missing}")
    teacher_keys = {k for kd in sk.TEACHER_KINDS.values() for k in kd.properties}
    given = _given(args, "teacher_", sorted(teacher_keys))
    teacher = {"kind": args.teacher_kind, **given} if args.teacher_kind else _teacher(spectrum, given, fail)
    if args.teacher_norm is not None:
        teacher["norm"] = args.teacher_norm
    sk.check(spectrum, teacher, fail)
    from . import config as cfg

    cfg.check_experiment("curve", {"spectrum": spectrum, "teacher": teacher}, path=(), partial=True)
    return spectrum, teacher, aliased


def load_population(args) -> Population:
    """The population the options name (eta, w, its description, the experiment, input files, defaults)."""
    from . import spectrum_kinds as sk

    by_kind = args.spectrum is not None or any(getattr(args, a) is not None for a in ALIASES)
    if by_kind + (args.experiment is not None) != 1:
        raise CurveError("error: give exactly one population: --spectrum KIND [...] (or --eigenvalues FILE "
                         "[--teacher FILE]), or --config FILE --experiment NAME")
    if by_kind:
        spectrum, teacher, aliased = _spec_from_options(args)
        exp = {"spectrum": spectrum, "teacher": teacher}
        sk.resolve(exp)  # the content hash of its files; the label noise a file or dataset supplies
        try:
            eta, w = spectra.population(spectrum, teacher)
        except ValueError as err:
            raise CurveError(f"error: --spectrum {spectrum['kind']}: {' '.join(str(err).split())}") from None
        files = sk.spectrum_kind(spectrum).input_files(spectrum)
        defaults = {k: exp[k] for k in ("sigma_eps",) if k in exp}
        return Population(eta, w, {"spectrum": spectrum, "teacher": teacher}, None, files, defaults)
    spectrum_keys = {k for kd in sk.SPECTRUM_KINDS.values() for k in kd.properties}
    teacher_keys = {"teacher_" + k for kd in sk.TEACHER_KINDS.values() for k in kd.properties}
    for key in sorted(spectrum_keys | teacher_keys | {"teacher_kind", "teacher_norm"}):
        if getattr(args, key, None) is not None:
            raise CurveError(f"error: --{key.replace('_', '-')} {getattr(args, key)}: describes a spectrum kind, "
                             "only with --spectrum KIND")
    from . import config as cfg

    if not args.config:
        raise CurveError(f"error: --experiment {args.experiment}: needs --config FILE")
    config = cfg.load_config(*args.config)
    if args.experiment not in config["experiments"]:
        raise CurveError(f"error: --experiment {args.experiment}: not in the config "
                         f"(experiments: {', '.join(sorted(config['experiments']))})")
    spec = cfg.experiment_spec(config, args.experiment)
    eta, w = spectra.population(spec["spectrum"], spec["teacher"])
    source = {"experiment": args.experiment, "spectrum": spec["spectrum"], "teacher": spec["teacher"]}
    files = list(args.config) + sk.spectrum_kind(spec["spectrum"]).input_files(spec["spectrum"])
    return Population(eta, w, source, spec, files)


def curve_models() -> dict:
    """The registered models whose theory is a function of (P, lambda) (they provide point_theory)."""
    from .models import MODELS, Model

    return {name: m for name, m in MODELS.items() if type(m).point_theory is not Model.point_theory}


def _number(value, option: str, *, positive: bool = False) -> float:
    v = float(value)
    if not (np.isfinite(v) and (v > 0 if positive else v >= 0)):
        raise CurveError(f"error: {option} {value!r}: must be a finite number {'>' if positive else '>='} 0")
    return v


def model_spec(args, D: int, experiment: dict | None, defaults: dict | None = None) -> dict:
    """The model parameters the theory receives: the experiment's (else the defaults the spectrum supplies,
    e.g. a file's sigma_eps), overridden by the options given."""
    models = curve_models()
    name = args.model or (experiment or {}).get("model") or "linear_ridge"
    if name not in models:
        raise CurveError(f"error: --model {name!r}: has no theory learning curve (models with one: "
                         f"{', '.join(sorted(models))})")
    model = models[name]
    spec = {"model": name, "D": int(D), "sigma_eps": 0.0, **(defaults or {})}
    if experiment is not None:  # its noise and ridge; its model's own keys when the model is the same
        own = tuple(model.theory_keys) if experiment["model"] == name else ()
        spec.update({k: experiment[k] for k in ("sigma_eps", "ridge") + own if k in experiment})
    if args.sigma_eps is not None:
        spec["sigma_eps"] = _number(args.sigma_eps, "--sigma-eps")
    given = {"widths": args.widths, "sigma_xi": args.sigma_xi}
    for key, value in given.items():
        if value is not None and key not in model.theory_keys:
            raise CurveError(f"error: --{key.replace('_', '-')} {value}: not a parameter of model {name!r}")
    if args.sigma_xi is not None:
        spec["sigma_xi"] = _number(args.sigma_xi, "--sigma-xi")
    if args.widths is not None:
        for n in args.widths:
            if n < 1:
                raise CurveError(f"error: --widths {n}: a width must be a positive integer")
        spec["widths"] = [int(n) for n in args.widths]
    for key in model.theory_keys:
        if key in model.required and key not in spec:
            raise CurveError(f"error: --{key.replace('_', '-')}: required for model {name!r}")
    if args.ridge is not None:
        spec["ridge"] = _number(args.ridge, "--ridge")
    elif args.ridge_power is not None:
        spec["ridge"] = {"power": _number(args.ridge_power, "--ridge-power")}
    models[name].resolve(spec, D)
    return spec


def sample_grid(args, D: int, experiment: dict | None) -> np.ndarray:
    """The P grid: --P-min .. --P-max, --points geometric steps; else the experiment's theory grid; else
    1 .. 10 D with 200 points."""
    if experiment is not None and args.P_min is None and args.P_max is None and args.points is None:
        return np.unique(D / spectra.grid_q(experiment["theory_samples"]))
    lo = _number(args.P_min if args.P_min is not None else 1.0, "--P-min", positive=True)
    hi = _number(args.P_max if args.P_max is not None else 10.0 * D, "--P-max", positive=True)
    n = args.points if args.points is not None else 200
    if not hi > lo:
        raise CurveError(f"error: --P-max {hi:g}: must be greater than --P-min ({lo:g})")
    if n < 2:
        raise CurveError(f"error: --points {n}: need at least 2")
    return np.geomspace(lo, hi, n)


# ---------------------------------------------------------------------------------------------- optimal ridge


def optimal_ridge(model, spec: dict, eta, w, P, bounds=(1e-10, 1e4), xatol: float = 1e-5, scan: int = 4):
    """lambda*(P) minimizing the model's theory E_g at each P over lambda in `bounds`, and the E_g there.

    At each P, E_g is first evaluated on a grid of `scan` points per decade of lambda (one vectorized theory
    call), which brackets the global minimum even where E_g(lambda) has several; then a bounded Brent
    minimization over log10(lambda) (scipy.optimize.minimize_scalar, tolerance xatol in log10 units) refines
    it between the grid neighbours of the grid's minimum.  Returns (lam_opt, eg_opt, at_bound): at_bound
    flags a minimum at the edge of the bounds (E_g still falls beyond it: the optimum is lambda -> 0 or
    larger than the upper bound)."""
    from scipy.optimize import minimize_scalar

    lo, hi = np.log10(bounds[0]), np.log10(bounds[1])
    grid = np.linspace(lo, hi, int(np.ceil((hi - lo) * scan)) + 1)
    P = np.asarray(P, dtype=float)
    lam_opt, eg_opt, at_bound = np.empty_like(P), np.empty_like(P), np.zeros(P.shape, dtype=bool)

    def eg(p, t):
        t = np.atleast_1d(t)
        values = model.point_theory(spec, eta, w, np.full(t.shape, p), 10.0**t)["eg"].values
        return np.where(np.isfinite(values), values, np.inf)

    for i, p in enumerate(P):
        coarse = eg(p, grid)
        j = int(np.argmin(coarse))
        a, b = grid[max(j - 1, 0)], grid[min(j + 1, grid.size - 1)]
        res = minimize_scalar(lambda t: float(eg(p, t)[0]), bounds=(a, b), method="bounded", options={"xatol": xatol})
        # Brent never evaluates the ends of its interval: the grid's minimum stays a candidate
        value, t = min((float(res.fun), float(res.x)), (float(coarse[j]), float(grid[j])))
        lam_opt[i], eg_opt[i] = 10.0**t, value
        at_bound[i] = (j == 0 and t - lo < 2 * xatol) or (j == grid.size - 1 and hi - t < 2 * xatol)
    return lam_opt, eg_opt, at_bound


# ---------------------------------------------------------------------------------------------- the curve


def curve_dataset(model, spec: dict, eta, w, P, *, optimal: bool = False, bounds=(1e-10, 1e4)) -> xr.Dataset:
    """The theory learning curve over P: the model's theory at the spec's ridge (when it has one) and, with
    `optimal`, lam_opt, eg_opt and lam_opt_at_bound; the theory at lambda*(P) is the main curve when no
    fixed ridge is given.

    Parameters
    ----------
    model : ridgerenorm.models.Model
        A registered model with a theory in (P, lambda): one of `curve_models()`.
    spec : dict
        The experiment's keys the model's theory reads (at least ``model`` and ``D``; ``ridge``, ``sigma_eps``,
        ``widths``, ... as the model needs).
    eta, w : array_like
        Population eigenvalues and the teacher in their eigenbasis (length D).
    P : array_like
        Sample sizes.
    optimal : bool, optional
        Add the theory-optimal ridge lambda*(P) (searched in `bounds`) and the E_g there.

    Returns
    -------
    xarray.Dataset
        The theory's quantities over the coordinate P (CF attributes), with lam_opt, eg_opt and
        lam_opt_at_bound when `optimal`.

    Examples
    --------
    Isotropic data with label noise: the optimal ridge is sigma_eps^2 D / P over the squared norm of w.

    >>> import numpy as np
    >>> from ridgerenorm.curve import curve_dataset, curve_models
    >>> D = 100
    >>> eta, w = np.ones(D), np.full(D, 0.1)  # a teacher of norm 1
    >>> spec = {"model": "linear_ridge", "D": D, "sigma_eps": 0.5}
    >>> ds = curve_dataset(curve_models()["linear_ridge"], spec, eta, w, [50.0, 200.0], optimal=True)
    >>> print(np.round(ds["lam_opt"].values, 4), 0.5**2 * D / np.array([50.0, 200.0]))
    [0.5   0.125] [0.5   0.125]
    """
    from .models.base import grid_theory_dataset

    P = np.asarray(P, dtype=float)
    lam = spectra.ridge_values(spec["ridge"], P) if "ridge" in spec else None
    if optimal:
        lam_opt, eg_opt, at_bound = optimal_ridge(model, spec, eta, w, P, bounds)
        if lam is None:
            lam = lam_opt
    th = model.point_theory(spec, eta, w, P, lam)
    ds = grid_theory_dataset(th, spec, P, np.empty(0), model.derived).drop_vars("simulated")
    if optimal:
        ds["lam_opt"] = ("P", lam_opt, {"long_name": "theory-optimal ridge lambda*(P) (minimizes E_g)", "units": "1"})
        ds["eg_opt"] = ("P", eg_opt, attrs("eg", long_name="generalization error E_g at the optimal ridge lambda*(P)"))
        ds["lam_opt_at_bound"] = ("P", at_bound, {"long_name": "lambda* is on the edge of the search bounds"})
        ds.attrs["lambda_bounds"] = [float(b) for b in bounds]
    ds.attrs["title"] = f"ridgerenorm theory learning curve ({spec['model']})"
    return ds


def _label(spec: dict) -> str:
    """The panel title: model, D, widths, noise and ridge of the curve."""
    parts = [spec["model"].replace("_", " "), f"D = {spec['D']}"]
    if spec.get("widths"):
        parts.append("N = " + ", ".join(str(n) for n in spec["widths"]))
    for key, symbol in (("sigma_eps", r"\epsilon"), ("sigma_xi", r"\xi")):
        if spec.get(key):
            parts.append(rf"$\sigma_{symbol}$ = {spec[key]:.3g}")
    ridge = spec.get("ridge")
    if ridge is not None:
        parts.append(rf"$\lambda = P^{{-{ridge['power']:g}}}$" if isinstance(ridge, dict) else rf"$\lambda$ = {ridge:g}")
    return ", ".join(parts)


def _figure(ds: xr.Dataset, label: str):
    from .plotting.style import ERROR_AXIS, apply_style, new_figure, panel_label, theory_line

    apply_style()
    optimal = "lam_opt" in ds
    fig, axes = new_figure(2 if optimal else 1)
    ax = axes[0]
    P = ds.P.values
    fixed = not (optimal and np.array_equal(ds["lam"].values, ds["lam_opt"].values))
    for name in ("eg", "bias", "var_x", "var_f_xf", "var_xeps"):
        if name in ds and (fixed or name == "eg") and np.any(ds[name].values > 0):
            theory_line(ax, P, ds[name].values, name)
    if optimal:
        ax.plot(P, ds["eg_opt"].values, color="k", ls="--", label=r"$E_g$ at $\lambda^*(P)$")
        panel_label(axes[1], "b")
        axes[1].plot(P, ds["lam_opt"].values, color="k")
        edge = ds["lam_opt_at_bound"].values
        if edge.any():
            axes[1].plot(P[edge], ds["lam_opt"].values[edge], "o", mfc="none", color="k",
                         label="at the search bound (the optimum lies beyond)")
            axes[1].legend()
        axes[1].set(xscale="log", yscale="log", xlabel="$P$", ylabel=r"optimal ridge $\lambda^*$")
    panel_label(ax, "a")
    ax.set(xscale="log", yscale="log", xlabel="$P$", ylabel=ERROR_AXIS)
    fig.suptitle(label, fontsize=9)
    ax.legend()
    return fig


# ---------------------------------------------------------------------------------------------- command


def parser():
    """The parser of `ridgerenorm curve`'s options (the command's own grammar, commands.py)."""
    import argparse

    from .commands import _curve_arguments

    p = argparse.ArgumentParser(prog="ridgerenorm curve", add_help=False)
    _curve_arguments(p)
    return p


def recorded_args(args) -> list[str]:
    """The options of `args` that differ from their defaults, as words (without --out and --png): the
    record `ridgerenorm audit --verify` parses with `parser()` to recompute the curve.  Numbers are written
    with repr, so they parse back to the same float."""
    words = []
    for action in parser()._actions:
        value = getattr(args, action.dest, None)
        if action.dest in ("out", "png") or not action.option_strings or value is None or value == action.default:
            continue
        words.append(action.option_strings[0])
        if action.nargs == 0:
            continue
        words += [repr(v) if isinstance(v, float) else str(v) for v in (value if isinstance(value, list) else [value])]
    return words


def run(args) -> xr.Dataset:
    """`ridgerenorm curve`: write the curve's netCDF file and figure; returns the Dataset written."""
    from . import io
    from .plotting import save_figure

    t0 = time.perf_counter()
    pop = load_population(args)
    eta, w, experiment = pop.eta, pop.w, pop.experiment
    spec = model_spec(args, eta.size, experiment, pop.defaults)
    if "ridge" not in spec and not args.optimal_ridge:
        raise CurveError("error: --ridge: give --ridge LAMBDA, --ridge-power L or --optimal-ridge")
    lo, hi = args.lambda_bounds
    if not (_number(lo, "--lambda-bounds", positive=True) < _number(hi, "--lambda-bounds", positive=True)):
        raise CurveError(f"error: --lambda-bounds {lo:g} {hi:g}: LO must be smaller than HI")
    P = sample_grid(args, eta.size, experiment)
    model = curve_models()[spec["model"]]
    try:
        ds = curve_dataset(model, spec, eta, w, P, optimal=args.optimal_ridge, bounds=(lo, hi))
    except ValueError as err:  # the theory names the argument and value (e.g. a width of 0.5)
        raise CurveError(f"error: {' '.join(str(err).split())}") from None
    record = {**spec, "population": pop.source, "P": [float(P.min()), float(P.max()), int(P.size)],
              "optimal_ridge": bool(args.optimal_ridge)}
    attrs = io.provenance(spec=record, wall_time=time.perf_counter() - t0, extra={"curve_args": recorded_args(args)})
    # a user's input file is recorded by the SHA-256 of its bytes (a netCDF file of their own records no data
    # checksum of this package's); `ridgerenorm audit` checks it before it recomputes the curve
    attrs["inputs"] = json.dumps({str(f): io.sha256(f) for f in pop.files}, sort_keys=True)
    io.write_dataset(ds, args.out, attrs)
    png = args.png or str(Path(args.out).with_suffix(".png"))
    fig = _figure(ds, _label(spec))
    save_figure(fig, png, "png", io.provenance(spec=record, inputs=[args.out]))
    return ds
