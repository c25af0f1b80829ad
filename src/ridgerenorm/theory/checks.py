"""Argument checks of the theory API: one helper per kind of argument, used by every public function.

Each raises ValueError naming the argument and the offending value (e.g. "sigma_xi must be a finite number
>= 0, got nan"); each returns the value as the computation uses it (float arrays converted exactly as
np.asarray(x, dtype=float) would).
"""

from __future__ import annotations

import numpy as np

from ..errors import not_eigenvalues


def _as_real_array(x, name: str) -> np.ndarray:
    """x as a float array; rejects strings, booleans, complex numbers, None and other non-real objects."""
    if isinstance(x, (str, bytes)):
        raise ValueError(f"{name} must be a real number or an array of real numbers, got {x!r}")
    try:
        raw = np.asarray(x)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a real number or an array of real numbers, got {x!r}") from None
    if raw.dtype.kind not in "iuf":
        raise ValueError(f"{name} must be a real number or an array of real numbers, got {x!r}")
    return np.asarray(raw, dtype=float)


def _require(values: np.ndarray, ok: np.ndarray, name: str, what: str) -> None:
    """Raise ValueError('<name> must be <what>, got <first offending value>') unless ok holds everywhere."""
    ok = np.asarray(ok)
    if not np.all(ok):
        raise ValueError(f"{name} must be {what}, got {float(np.asarray(values)[~ok].flat[0])!r}")


def _check_spectrum(eta, name: str = "eta") -> np.ndarray:
    """Population eigenvalues: a non-empty 1-D array of finite numbers >= 0."""
    eta = _as_real_array(eta, name)
    if eta.ndim != 1 or eta.size == 0:
        raise ValueError(not_eigenvalues(name, eta.shape))
    _require(eta, np.isfinite(eta) & (eta >= 0), name, "finite and >= 0 (eigenvalues)")
    return eta


def _check_teacher(w, eta: np.ndarray) -> np.ndarray:
    """Teacher in the eigenbasis: finite, with the shape of eta."""
    w = _as_real_array(w, "w")
    if w.shape != eta.shape:
        raise ValueError(f"w must have the shape of eta {eta.shape}, got shape {w.shape}")
    _require(w, np.isfinite(w), "w", "finite")
    return w


def _check_kappa(kappa) -> np.ndarray:
    """Ridge argument of the spectral functionals: finite and >= 0, any shape."""
    kappa = _as_real_array(kappa, "kappa")
    _require(kappa, np.isfinite(kappa) & (kappa >= 0), "kappa", "finite and >= 0")
    return kappa


def _check_number(x, name: str, *, positive: bool = False):
    """A finite real scalar >= 0 (> 0 if positive), not a bool; returned unchanged (so arithmetic on it
    is exactly what it was without the check)."""
    arr = np.asarray(x) if not isinstance(x, (str, bytes)) else None
    if arr is None or arr.ndim != 0 or arr.dtype.kind not in "iuf":
        raise ValueError(f"{name} must be a finite number {'>' if positive else '>='} 0, got {x!r}")
    v = float(arr)
    if not (np.isfinite(v) and (v > 0 if positive else v >= 0)):
        raise ValueError(f"{name} must be a finite number {'>' if positive else '>='} 0, got {v!r}")
    return x


def _check_grid(P, lam):
    """Broadcast P and lambda to equal-length float 1-D arrays; return them and the output shape.
    P must be finite and > 0, lam finite and >= 0 (NaN fails both tests)."""
    P, lam = _as_real_array(P, "P"), _as_real_array(lam, "lam")
    try:
        P_arr, lam_arr = np.broadcast_arrays(P, lam)
    except ValueError:
        raise ValueError(f"P and lam must broadcast together, got shapes {P.shape} and {lam.shape}") from None
    shape = P_arr.shape
    P_arr, lam_arr = P_arr.reshape(-1).copy(), lam_arr.reshape(-1).copy()
    _require(P_arr, np.isfinite(P_arr) & (P_arr > 0), "P", "finite and > 0")
    _require(lam_arr, np.isfinite(lam_arr) & (lam_arr >= 0), "lam", "finite and >= 0")
    return P_arr, lam_arr, shape


def _check_widths(widths) -> list:
    """Feature-layer widths: a non-empty sequence (or a single value) of positive integers, returned as
    floats.  Integer-valued floats (2000.0) are accepted; 0.5, 0, -3, NaN, True/False and strings are not."""
    msg = f"widths must be a non-empty sequence of positive integers, got {widths!r}"
    if isinstance(widths, (str, bytes)):
        raise ValueError(msg)
    try:
        ndim = np.ndim(widths)
    except (TypeError, ValueError):
        raise ValueError(msg) from None
    if ndim > 1:
        raise ValueError(msg)
    items = [widths] if ndim == 0 else list(widths)
    if len(items) == 0:
        raise ValueError(msg)
    out = []
    for n in items:
        arr = None if isinstance(n, (str, bytes, bool, np.bool_)) else np.asarray(n)
        if arr is None or arr.ndim != 0 or arr.dtype.kind not in "iuf":
            raise ValueError(msg)
        v = float(arr)
        if not (np.isfinite(v) and v.is_integer() and v >= 1):
            raise ValueError(msg)
        out.append(v)
    return out


def _check_weight_spectra(weight_spectra, widths: list) -> list:
    """None (isotropic weights) or one entry per layer, each None or a 1-D array of N_l finite numbers
    >= 0, not all zero (zero entries remove feature directions: the layer's effective width is the
    number of nonzero entries)."""
    L = len(widths)
    if weight_spectra is None:
        return [None] * L
    if isinstance(weight_spectra, (str, bytes)) or not hasattr(weight_spectra, "__len__"):
        raise ValueError(f"weight_spectra must be None or a sequence with one entry per layer, got {weight_spectra!r}")
    if len(weight_spectra) != L:
        raise ValueError(f"weight_spectra has {len(weight_spectra)} entries for {L} layers")
    spectra = []
    for l, s in enumerate(weight_spectra):
        if s is None:
            spectra.append(None)
            continue
        name = f"weight_spectra[{l}]"
        s = _as_real_array(s, name)
        # F_l = G diag(sqrt(s)) / sqrt(N_{l-1}): s scales the N_l output columns of layer l.
        if s.ndim != 1 or s.size != widths[l]:
            raise ValueError(
                f"{name} must be 1-D of length N_{l + 1} = {widths[l]:g} "
                f"(the layer's output width: F_l = G diag(sqrt(s))/sqrt(N_{{l-1}})); got shape {s.shape}"
            )
        _require(s, np.isfinite(s) & (s >= 0), name, "finite and >= 0")
        if not np.any(s > 0):
            raise ValueError(f"{name} is identically zero (the layer would have no features)")
        spectra.append(s)
    return spectra


def _check_solver(rtol, max_iter) -> None:
    """Newton step tolerance 0 < rtol < 1 and a positive integer iteration cap (not a bool)."""
    _check_number(rtol, "rtol", positive=True)
    if not rtol < 1:
        raise ValueError(f"rtol must be a finite number in (0, 1), got {float(rtol)!r}")
    if isinstance(max_iter, (bool, np.bool_)) or not isinstance(max_iter, (int, np.integer)) or max_iter < 1:
        raise ValueError(f"max_iter must be a positive integer, got {max_iter!r}")


def _check_exponents(x, name: str) -> np.ndarray:
    """Scaling exponents on a grid (phase diagram): finite and >= 0, any shape."""
    x = _as_real_array(x, name)
    _require(x, np.isfinite(x) & (x >= 0), name, "finite and >= 0")
    return x
