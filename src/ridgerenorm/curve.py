"""Theory learning curves for a spectrum and teacher of your own, without the pipeline (`ridgerenorm curve`).

The population comes from one of three places:
  * an experiment of a config file (--config FILE... --experiment NAME): its spectrum, teacher, model and
    parameters, each of which the command line may override;
  * a spectrum kind of the config on the command line (--spectrum KIND --D ... --alpha ... --r ...), checked
    by the same rules as a config's experiment;
  * two files (--eigenvalues FILE --teacher FILE), .npy or .csv with one number a line: the eigenvalues of
    the population covariance and the teacher's weights in its eigenbasis.

The curve is the model's own theory (Model.point_theory, i.e. theory.linear_ridge or
theory.random_features) on a geometric grid of P, at a fixed ridge (a number or lambda = P^-l) and, with
--optimal-ridge, at the ridge lambda*(P) that minimizes the theory's E_g at each P (a bounded scalar
minimization over log lambda).  Outputs: a CF-1.11 netCDF file with provenance and data checksum
(io.write_dataset) and a PNG carrying its provenance record (plotting.save_figure).

Nothing here reads a file other than those named on the command line (and the package's own schema), so an
installed wheel is all it needs.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import numpy as np
import xarray as xr

from . import spectra
from .quantities import attrs

__all__ = ["CurveError", "load_vector", "load_population", "curve_models", "model_spec", "sample_grid",
           "optimal_ridge", "curve_dataset", "run"]


class CurveError(ValueError):
    """A bad input of `ridgerenorm curve`: one line naming the option and its value."""


# ---------------------------------------------------------------------------------------------- inputs


def load_vector(path, option: str) -> np.ndarray:
    """A 1-D float array from a .npy file or a .csv file with one number a line ('#' starts a comment)."""
    path = Path(path)
    where = f"error: {option} {path}"
    suffix = path.suffix.lower()
    if suffix not in (".npy", ".csv"):
        raise CurveError(f"{where}: expected a .npy or .csv file, got suffix {path.suffix or '(none)'!r}")
    if not path.is_file():
        raise CurveError(f"{where}: no such file")
    try:
        if suffix == ".npy":
            raw = np.load(path, allow_pickle=False)
        else:
            with warnings.catch_warnings():  # an empty file is reported below, in one line
                warnings.simplefilter("ignore", UserWarning)
                raw = np.loadtxt(path, delimiter=",", comments="#", dtype=float, ndmin=1)
    except (OSError, ValueError, EOFError) as err:
        raise CurveError(f"{where}: cannot read numbers ({' '.join(str(err).split())[:80]})") from None
    if raw.dtype.kind not in "iuf":
        raise CurveError(f"{where}: expected real numbers, got dtype {raw.dtype}")
    values = np.asarray(raw, dtype=float)
    if values.ndim != 1:
        raise CurveError(f"{where}: is {values.ndim}-D (shape {values.shape}); expected one number a line (1-D)")
    if values.size == 0:
        raise CurveError(f"{where}: holds no numbers")
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise CurveError(f"{where}: number {bad[0] + 1} of the file ({float(values[bad[0]])!r}) is not finite")
    return values


def _spec_from_options(args) -> tuple[dict, dict]:
    """Spectrum and teacher specs of the command-line options (--spectrum KIND ...), checked like a config's."""
    from . import config as cfg

    spectrum = {"kind": args.spectrum}
    for key in ("D", "alpha", "sizes", "values"):
        value = getattr(args, key)
        if value is not None:
            spectrum[key] = value
    # a teacher kind is implied by the parameter given: r (power law) or block values; flat otherwise
    kind = args.teacher_kind or ("power_law" if args.r is not None else "blocks" if args.teacher_values else "flat")
    teacher = {"kind": kind}
    for key, value in (("r", args.r), ("values", args.teacher_values), ("norm", args.teacher_norm)):
        if value is not None:
            teacher[key] = value
    cfg.check_experiment("curve", {"spectrum": spectrum, "teacher": teacher}, path=(), partial=True)
    return spectrum, teacher


def load_population(args) -> tuple[np.ndarray, np.ndarray, dict, dict | None, list]:
    """(eta, w, description, experiment spec or None, input files) of the population the options name."""
    sources = [args.eigenvalues is not None or args.teacher is not None, args.spectrum is not None,
               args.experiment is not None]
    if sum(sources) != 1:
        raise CurveError("error: give exactly one population: --eigenvalues FILE --teacher FILE, "
                         "--spectrum KIND [...], or --config FILE --experiment NAME")
    if not sources[1]:
        for key in ("D", "alpha", "sizes", "values", "r", "teacher_kind", "teacher_values", "teacher_norm"):
            if getattr(args, key) is not None:
                raise CurveError(f"error: --{key.replace('_', '-')} {getattr(args, key)}: describes a spectrum kind, "
                                 "only with --spectrum KIND")
    if sources[0]:
        if args.eigenvalues is None or args.teacher is None:
            missing = "--eigenvalues" if args.eigenvalues is None else "--teacher"
            raise CurveError(f"error: {missing} FILE: required with {'--teacher' if missing == '--eigenvalues' else '--eigenvalues'}")
        eta = load_vector(args.eigenvalues, "--eigenvalues")
        negative = np.flatnonzero(eta < 0)
        if negative.size:
            raise CurveError(f"error: --eigenvalues {args.eigenvalues}: number {negative[0] + 1} of the file "
                             f"({float(eta[negative[0]])!r}) is negative (a covariance has eigenvalues >= 0)")
        if not np.any(eta > 0):
            raise CurveError(f"error: --eigenvalues {args.eigenvalues}: every eigenvalue is 0")
        w = load_vector(args.teacher, "--teacher")
        if w.size != eta.size:
            raise CurveError(f"error: --teacher {args.teacher}: has {w.size} values, --eigenvalues "
                             f"{args.eigenvalues} has {eta.size} (one teacher weight per eigenvalue)")
        files = [args.eigenvalues, args.teacher]
        return eta, w, {"eigenvalues": str(args.eigenvalues), "teacher": str(args.teacher)}, None, files
    if sources[1]:
        spectrum, teacher = _spec_from_options(args)
        eta, w = spectra.population(spectrum, teacher)
        return eta, w, {"spectrum": spectrum, "teacher": teacher}, None, []
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
    return eta, w, source, spec, list(args.config)


def curve_models() -> dict:
    """The registered models whose theory is a function of (P, lambda) (they provide point_theory)."""
    from .models import MODELS, Model

    return {name: m for name, m in MODELS.items() if type(m).point_theory is not Model.point_theory}


def _number(value, option: str, *, positive: bool = False) -> float:
    v = float(value)
    if not (np.isfinite(v) and (v > 0 if positive else v >= 0)):
        raise CurveError(f"error: {option} {value!r}: must be a finite number {'>' if positive else '>='} 0")
    return v


def model_spec(args, D: int, experiment: dict | None) -> dict:
    """The model parameters the theory receives: the experiment's, overridden by the options given."""
    models = curve_models()
    name = args.model or (experiment or {}).get("model") or "linear_ridge"
    if name not in models:
        raise CurveError(f"error: --model {name!r}: has no theory learning curve (models with one: "
                         f"{', '.join(sorted(models))})")
    model = models[name]
    spec = {"model": name, "D": int(D), "sigma_eps": 0.0}
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
    fixed ridge is given."""
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


def run(args) -> xr.Dataset:
    """`ridgerenorm curve`: write the curve's netCDF file and figure; returns the Dataset written."""
    from . import io
    from .plotting import save_figure

    t0 = time.perf_counter()
    eta, w, source, experiment, files = load_population(args)
    spec = model_spec(args, eta.size, experiment)
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
    record = {**spec, "population": source, "P": [float(P.min()), float(P.max()), int(P.size)],
              "optimal_ridge": bool(args.optimal_ridge)}
    io.write_dataset(ds, args.out, io.provenance(spec=record, inputs=files, wall_time=time.perf_counter() - t0))
    png = args.png or str(Path(args.out).with_suffix(".png"))
    fig = _figure(ds, _label(spec))
    save_figure(fig, png, "png", io.provenance(spec=record, inputs=[args.out]))
    return ds
