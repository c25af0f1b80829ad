"""The `params` of the built-in figure kinds, checked when the config is validated (not when the figure runs).

Each kind's registry entry (plotting/__init__.py) takes from here the JSON schema of its params (`SCHEMAS`;
a kind without one accepts none) and, for some kinds, a check of what a schema cannot say and the memory
of its data job: the random-matrix figures (section A) evaluate their q grid and bin edges, and their
eigenvalue job is compared with this machine (`data_job_check`); rf_scaling runs the static part of the
checks its plot function makes (curve names, reference and vline syntax).  A check raises ParamError
naming the key inside params; config.validate_config turns it into one line.

This module imports no plotting library, so validating a config stays fast.
"""

from __future__ import annotations

import numpy as np

from ..grids import sizes_from_q
from ..limits import MAX_SIZE, machine_memory_bytes

__all__ = ["ParamError", "SCHEMAS", "ERROR_CURVES", "PARAM_CURVES", "MULTIPLE_DESCENT_CURVES",
           "MULTIPLE_DESCENT_DEFAULT", "REFERENCE_KEYS", "SCALING_KEYS", "check_names", "check_scaling",
           "check_xlim", "check_bin_edges", "data_job_check", "wigner_job_bytes", "white_wishart_job_bytes",
           "structured_wishart_job_bytes", "deep_wishart_job_bytes", "MAX_PANELS", "REAL_DATA_ROLES"]


class ParamError(ValueError):
    """A figure param is invalid: `path` is its key inside params (a tuple), `value` the offending value."""

    def __init__(self, path, value, why: str):
        super().__init__(why)
        self.path, self.value, self.why = tuple(path), value, why


# ------------------------------------------------------------------------------------------ real_data

# R1's experiment roles: a panel per model (ridge, linear random features), a series per sampling of the
# rows (plotting/real_data.py draws them)
REAL_DATA_ROLES = tuple(model + series for model in ("ridge", "features")
                        for series in ("", "_iid", "_linear", "_gaussian"))

# ------------------------------------------------------------------------------------------ rf_scaling

ERROR_CURVES = ("eg", "etr", "bias", "var_x", "var_f", "var_xf", "var_f_xf", "var_xeps", "var_xfeps", "gcv")
PARAM_CURVES = ("kappa2", "kappa1", "gamma2", "gamma1", "df1", "df2", "df1_hat", "kappa_hat", "k2sq_tf1p", "k2_tf1")
NOT_ANCHORS = ("df1_hat", "kappa_hat", "gcv")  # simulation-only curves: a reference cannot follow them
# B4: the linear-ridge error curves; the default leaves out gcv, as the authors' final figure does
MULTIPLE_DESCENT_CURVES = ("eg", "etr", "bias", "var_x", "var_xeps", "gcv")
MULTIPLE_DESCENT_DEFAULT = ("eg", "bias", "var_x", "var_xeps")
REFERENCE_KEYS = {"formula", "anchor", "offset", "range"}
SCALING_KEYS = {"curves", "param_curves", "references", "param_references", "vlines", "xlim", "ylim", "panels",
                "median_band"}


def check_names(names, allowed, what: str) -> list:
    """`names` as a list; ValueError when one is not in `allowed`."""
    names = list(names)
    unknown = [n for n in names if n not in allowed]
    if unknown:
        raise ValueError(f"unknown {what} {unknown}; allowed: {list(allowed)}")
    return names


def _check_position(value) -> None:
    """A P position: a number or the name of a vertical marker (guides.VLINES)."""
    from .guides import VLINES

    if isinstance(value, bool) or not (isinstance(value, (int, float)) or value in VLINES):
        raise ValueError(f"P position must be a number or one of {sorted(VLINES)}, got {value!r}")


def _check_reference(ref, allowed, path=()) -> None:
    from .guides import GUIDES

    if not isinstance(ref, dict) or "formula" not in ref:
        raise ValueError(f"a reference needs a 'formula' (one of {sorted(GUIDES)}): {ref!r}")
    extra = sorted(set(ref) - REFERENCE_KEYS)
    if extra:
        raise ParamError(path + (extra[0],), ref[extra[0]],
                         f"unknown reference keys {extra}; allowed: {sorted(REFERENCE_KEYS)}")
    if ref["formula"] not in GUIDES:
        raise ParamError(path + ("formula",), ref["formula"], f"unknown guide formula; known: {sorted(GUIDES)}")
    if "offset" in ref and (isinstance(ref["offset"], bool) or not isinstance(ref["offset"], (int, float))
                            or not ref["offset"] > 0):
        raise ValueError(f"reference offset must be a number > 0, got {ref['offset']!r}")
    if "anchor" in ref:
        check_names([ref["anchor"]], [a for a in allowed if a not in NOT_ANCHORS], "reference anchor")
    if "range" in ref:
        if not isinstance(ref["range"], list) or len(ref["range"]) != 2:
            raise ValueError(f"reference range must be [P_lo, P_hi], got {ref['range']!r}")
        for v in ref["range"]:
            _check_position(v)


def _check_vline(v) -> None:
    _check_position(v)


def check_scaling(params: dict) -> None:
    """The checks plot_scaling makes that need no data: names, panels, reference and vline syntax."""
    extra = set(params) - SCALING_KEYS
    if extra:
        raise ParamError((sorted(extra)[0],), params[sorted(extra)[0]],
                         f"unknown rf_scaling params {sorted(extra)}; allowed: {sorted(SCALING_KEYS)}")
    for key, allowed, what in (("curves", ERROR_CURVES, "error curve(s)"),
                               ("param_curves", PARAM_CURVES, "parameter curve(s)")):
        if key in params:
            _wrap(key, params[key], lambda v: check_names(v, allowed, what))
    panels = params.get("panels", ["a", "b"])
    if not panels or not set(panels) <= {"a", "b"} or sorted(panels) != list(panels):
        raise ParamError(("panels",), panels, "expected a non-empty ordered subset of ['a', 'b']")
    for key, allowed in (("references", ERROR_CURVES), ("param_references", PARAM_CURVES)):
        for i, ref in enumerate(params.get(key, [])):
            _wrap((key, i), ref, lambda r: _check_reference(r, allowed, (key, i)))
    for i, v in enumerate(params.get("vlines", [])):
        _wrap(("vlines", i), v, _check_vline)


def _wrap(path, value, check) -> None:
    """Run check(value); its ValueError becomes a ParamError at `path`."""
    try:
        check(value)
    except ParamError:
        raise
    except ValueError as err:
        raise ParamError(path if isinstance(path, tuple) else (path,), value, str(err)) from None


# ------------------------------------------------------------------------------------ random matrices

MAX_PANELS = 50  # q values of a spectra figure (one histogram panel or curve each)
MAX_BINS = 100_000
MAX_GRID_POINTS = 1_000_000

_NUMBER = {"type": "number"}
_SIZE = {"type": "integer", "minimum": 1, "maximum": MAX_SIZE}
_BINS = {"type": "integer", "minimum": 1, "maximum": MAX_BINS}
_GRID_POINTS = {"type": "integer", "minimum": 2, "maximum": MAX_GRID_POINTS, "description": "theory grid size"}
_PAIR = {"type": "array", "minItems": 2, "maxItems": 2, "items": _NUMBER, "description": "[lo, hi]"}


def _values_schema(max_items: int, description: str) -> dict:
    """spectra_data._values: a list, {logspace: [a, b, n]} or {linspace: [a, b, n]}."""
    range3 = {"type": "array", "minItems": 3, "maxItems": 3,
              "prefixItems": [_NUMBER, _NUMBER, {"type": "integer", "minimum": 1, "maximum": max_items}]}
    return {"description": description, "oneOf": [
        {"type": "array", "minItems": 1, "maxItems": max_items, "items": _NUMBER},
        {"type": "object", "required": ["logspace"], "additionalProperties": False, "properties": {"logspace": range3}},
        {"type": "object", "required": ["linspace"], "additionalProperties": False, "properties": {"linspace": range3}},
    ]}


_Q_GRID = _values_schema(MAX_PANELS, "q = N/P values: a list, {logspace: [a, b, n]} or {linspace: [a, b, n]}")


def _kind_schema(properties: dict, required=()) -> dict:
    return {"type": "object", "properties": properties, "required": list(required), "additionalProperties": False}


SCHEMAS = {
    "wigner": _kind_schema({"N": _SIZE, "bins": _BINS, "xlim": _PAIR, "grid_points": _GRID_POINTS}, ("N", "bins")),
    "white_wishart": _kind_schema({"N": _SIZE, "q": _Q_GRID, "bins": _BINS, "grid_points": _GRID_POINTS},
                                  ("N", "q", "bins")),
    "structured_wishart": _kind_schema({
        "N": _SIZE, "alpha": {"type": "number", "exclusiveMinimum": 0}, "q": _Q_GRID,
        "bins": {"oneOf": [_BINS, _values_schema(MAX_BINS + 1, "bin edges")],
                 "description": "a number of bins, or the bin edges"},
        "grid_points": _GRID_POINTS, "eps": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
    }, ("N", "alpha", "q", "bins")),
    "deep_wishart": _kind_schema({
        "widths": {"type": "array", "minItems": 2, "maxItems": 20, "items": _SIZE},
        "lam_max": {"type": "number", "exclusiveMinimum": 0}, "bins": _BINS, "grid_points": _GRID_POINTS,
    }, ("widths", "lam_max", "bins")),
    "rf_phase": _kind_schema({
        "alpha": {"type": "number", "exclusiveMinimum": 0}, "r": {"type": "number", "exclusiveMinimum": 0},
        "c": {"type": "number", "minimum": 0}, "l_max": {"type": "number", "exclusiveMinimum": 0},
        "q_max": {"type": "number", "exclusiveMinimum": 0},
        "n_grid": {"type": "integer", "minimum": 2, "maximum": 4000},
    }),
    "lr_multiple_descent": _kind_schema({
        "ylim": {**_PAIR, "items": {"type": "number", "exclusiveMinimum": 0}},
        "curves": {"type": "array", "minItems": 1, "uniqueItems": True,
                   "items": {"enum": list(MULTIPLE_DESCENT_CURVES)},
                   "description": "curves to draw; gcv adds the GCV estimate (the authors' final notebook "
                                  "comments it out)"},
    }),
    "nonlinear_equivalence": _kind_schema({
        "x": {"enum": ["P", "P/D"], "description": "horizontal axis: the sample size or P/D"},
    }),
    "rf_scaling": _kind_schema({
        "curves": {"type": "array", "items": {"type": "string"}},
        "param_curves": {"type": "array", "items": {"type": "string"}},
        "references": {"type": "array", "items": {"type": "object"}},
        "param_references": {"type": "array", "items": {"type": "object"}},
        "vlines": {"type": "array"}, "xlim": _PAIR, "ylim": _PAIR,
        "panels": {"type": "array", "items": {"enum": ["a", "b"]}},
        "median_band": {"type": "boolean", "description": "median and 16-84 % band of single draws of E_g"},
    }),
}


def _grid(value) -> np.ndarray:
    """spectra_data._values without numpy's warnings (10^a may overflow; checked by the caller)."""
    with np.errstate(all="ignore"):
        if isinstance(value, dict):
            (name, (a, b, n)), = value.items()
            return getattr(np, name)(float(a), float(b), int(n))
        return np.asarray(value, dtype=float)


def _sample_sizes(params: dict) -> np.ndarray:
    """P = int(N/q) of each panel, ParamError unless every q is a finite positive number giving P >= 1."""
    N = int(params["N"])
    q = _grid(params["q"])
    if not np.all(np.isfinite(q) & (q > 0)):
        raise ParamError(("q",), params["q"], "q values must be finite and > 0")
    with np.errstate(all="ignore"):
        P = sizes_from_q(N, q)
    if np.any(P < 1):
        raise ParamError(("q",), params["q"], f"gives P < 1 for N = {N} (q up to {q.max():g})")
    if np.any(P > MAX_SIZE):
        raise ParamError(("q",), params["q"], f"gives P = {P.max():.3g} for N = {N} (q down to {q.min():g})")
    return P


def _wishart_bytes(N: int, P: float) -> float:
    """Peak bytes of one sample-covariance spectrum (densities.wishart_eigenvalues): D x D Bartlett factor,
    its scaled copy, Gram and eigensolver copies for P >= D; rows and Gram for P < D."""
    if P >= N:
        return 8.0 * 5 * N * N
    return 8.0 * (2 * P * N + 3 * P * P)


def wigner_job_bytes(params: dict) -> float:
    """Rough peak memory of a Wigner figure's data job (spectra_data.build_wigner)."""
    N = float(params["N"])
    return 8.0 * 3 * N * N + 8.0 * 3 * _grid_points(params)


def _wishart_job_bytes(params: dict, silverstein: bool) -> float:
    N = int(params["N"])
    P = _sample_sizes(params)
    # eigenvalues of every panel, theory grids and densities
    stacked = 8.0 * P.size * (2 * N + 3 * _grid_points(params))
    chunks = 16.0 * 4 * (1 << 21) if silverstein else 0.0  # the chunked solves of Silverstein's equation
    return max(_wishart_bytes(N, float(p)) for p in P) + stacked + chunks


def white_wishart_job_bytes(params: dict) -> float:
    """Rough peak memory of a white-data figure's data job (spectra_data.build_white_wishart)."""
    return _wishart_job_bytes(params, silverstein=False)


def structured_wishart_job_bytes(params: dict) -> float:
    """Rough peak memory of a power-law-data figure's data job (spectra_data.build_structured_wishart)."""
    return _wishart_job_bytes(params, silverstein=True)


def deep_wishart_job_bytes(params: dict) -> float:
    """Rough peak memory of a product-Wishart figure's data job (spectra_data.build_deep_wishart)."""
    w = [float(x) for x in params["widths"]]
    chain = max(w[0] * a + a * b + w[0] * b for a, b in zip(w[:-1], w[1:]))  # X, the next factor, X F
    return 8.0 * (chain + 3 * min(w) ** 2 + 2 * w[-1] + 3 * _grid_points(params))


def _grid_points(params: dict) -> float:
    return float(params.get("grid_points", 4001))


def check_xlim(params: dict) -> None:
    if "xlim" in params and not params["xlim"][0] < params["xlim"][1]:
        raise ParamError(("xlim",), params["xlim"], "expected [lo, hi] with lo < hi")


def check_bin_edges(params: dict) -> None:
    """Bins given as edges (not a count) are at least 2 finite, positive, increasing values."""
    bins = params.get("bins")
    if not isinstance(bins, int):
        edges = _grid(bins)
        if edges.size < 2 or not np.all(np.isfinite(edges) & (edges > 0)) or np.any(np.diff(edges) <= 0):
            raise ParamError(("bins",), bins, "bin edges must be at least 2 finite, positive, increasing values")


def data_job_check(memory, key: str, params: dict) -> None:
    """ParamError at `key` when the data job whose peak bytes memory(params) estimates needs more memory
    than this machine has."""
    need = memory(params)
    machine = machine_memory_bytes()
    if need > machine:
        raise ParamError((key,), params.get(key), f"the figure's data job needs {need / 1e6:.3g} MB, more than "
                                                  f"this machine's {machine / 1e9:.1f} GB")
