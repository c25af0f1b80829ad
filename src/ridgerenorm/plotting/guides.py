"""Reference power laws and vertical markers, computed from an experiment's own parameters.

A figure's config names a guide by formula (`{formula: signal}`), never by number: the exponent, the
prefactor where the theory fixes one, and the legend label are evaluated here from the experiment spec
(alpha, r, the ridge schedule l, N, D, sigma_eps, sigma_xi).  Changing alpha in an experiment moves every
guide with it.  The formulas are the asymptotic rates of docs/theory.md §6 and docs/figures.md C3-C8, D2-D5.

A guide with a fixed prefactor (`absolute`) is drawn at its value; the others take their level from a
theory curve (`anchor`) and are drawn `offset` times above it (default 3), so they stay visible beside the
curve they describe instead of on top of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..grids import ridge_power
from ..spectrum_kinds import guide_facts

__all__ = ["Guide", "GUIDES", "VLINES", "parameters", "guide_line", "vline_position"]


def parameters(spec: dict) -> dict:
    """alpha, r, l (ridge exponent, lambda = P^-l; None for a constant ridge), N, D, sigma_eps, sigma_xi."""
    return {
        **guide_facts(spec.get("spectrum", {}), spec.get("teacher", {})),
        "l": ridge_power(spec.get("ridge")),
        "N": float(spec["widths"][-1]) if spec.get("widths") else None,
        "D": float(spec["D"]),
        "sigma_eps": float(spec.get("sigma_eps", 0.0)),
        "sigma_xi": float(spec.get("sigma_xi", 0.0)),
    }


@dataclass(frozen=True)
class Guide:
    """E ~ prefactor(p) * P^exponent(p); `tex` is the formula, shown with its value."""

    exponent: Callable[[dict], float]
    tex: str
    prefactor: Callable[[dict], float] | None = None  # absolute guides only
    needs: tuple = ()
    per: str = ""  # a factor besides P that an anchored guide's level carries ("/N"), kept in its label

    def check(self, p: dict, name: str) -> None:
        missing = [k for k in self.needs if p.get(k) is None]
        if missing:
            raise ValueError(f"guide {name!r} needs {', '.join(missing)}, which the experiment does not define")


def _mr(p, cap):
    return min(p["r"], cap)


GUIDES = {
    "kappa_capacity": Guide(lambda p: -p["alpha"], r"P^{-\alpha}", needs=("alpha",)),
    "kappa_ridge": Guide(lambda p: -p["l"], r"P^{-l}", needs=("l",)),
    "df_linear": Guide(lambda p: 1.0, r"P/D", prefactor=lambda p: 1.0 / p["D"]),
    "signal": Guide(lambda p: -2 * p["alpha"] * _mr(p, 1.0), r"P^{-2\alpha\min(r,1)}", needs=("alpha", "r")),
    "signal_source": Guide(lambda p: -2 * p["alpha"] * p["r"], r"P^{-2\alpha r}", needs=("alpha", "r")),
    "signal_width": Guide(lambda p: 1 - 2 * p["alpha"] * _mr(p, 0.5), r"P^{1-2\alpha\min(r,1/2)}/N",
                          needs=("alpha", "r"), per="/N"),
    "ridge_signal": Guide(lambda p: -2 * p["l"] * _mr(p, 1.0), r"P^{-2l\min(r,1)}", needs=("l", "r")),
    "ridge_signal_half": Guide(lambda p: -2 * p["l"] * _mr(p, 0.5), r"P^{-2l\min(r,1/2)}", needs=("l", "r")),
    "ridge_feature_variance": Guide(lambda p: -p["l"] + p["l"] / p["alpha"], r"P^{-l+l/\alpha}/N",
                                    needs=("l", "alpha"), per="/N"),
    "noise_mitigated": Guide(lambda p: -(p["alpha"] - p["l"]) / p["alpha"], r"\sigma_\epsilon^2 P^{-(\alpha-l)/\alpha}",
                             prefactor=lambda p: p["sigma_eps"] ** 2, needs=("alpha", "l")),
    "noise_capacity": Guide(lambda p: -1 + 1 / p["alpha"], r"\sigma_\epsilon^2 P^{-1+1/\alpha}",
                            prefactor=lambda p: p["sigma_eps"] ** 2, needs=("alpha",)),
    "feature_noise_ridge": Guide(lambda p: -1.0, r"\sigma_\xi^2 D/P", prefactor=lambda p: p["sigma_xi"] ** 2 * p["D"]),
    "feature_noise_source": Guide(lambda p: -2 * p["r"], r"(P/(D\sigma_\xi^2))^{-2r}",
                                  prefactor=lambda p: (p["D"] * p["sigma_xi"] ** 2) ** (2 * p["r"]), needs=("r",)),
    "inverse_square": Guide(lambda p: -2.0, r"P^{-2}"),
    "feature_noise_plateau": Guide(lambda p: 0.0, r"1/(N D\sigma_\xi^2)",
                                   prefactor=lambda p: 1.0 / (p["N"] * p["D"] * p["sigma_xi"] ** 2), needs=("N",)),
}

# vertical markers: name -> (position from the parameters, symbol, definition or None).  The panel labels a
# marker with its symbol and value; a definition goes into the legend (a long formula beside the line would
# run across the next marker and read as the wrong symbol)
VLINES = {
    "N": (lambda p: p["N"], r"N", None),
    # where the width starts to limit the signal (docs/figures.md C3, C8): N^(1/(1+alpha)) for r >= 1,
    # N^(1/(1+alpha(2r-1))) for r < 1
    "width_crossover": (lambda p: p["N"] ** (1.0 / (1.0 + p["alpha"] * (2 * min(p["r"], 1.0) - 1.0))),
                        r"P_\times", r"N^{1/(1+\alpha(2\min(r,1)-1))}"),
}


def _power(e: float) -> str:
    if e == 0:
        return ""
    if e == 1:
        return "P"
    if e == -1:
        return "/P"
    return f"P^{{{e:.3g}}}"


def _value_tex(p: dict, name: str) -> str:
    """The guide with the experiment's numbers: P^-4, or 0.0016/P for a fixed prefactor."""
    g = GUIDES[name]
    e = float(g.exponent(p))
    if g.prefactor is None:
        power = _power(e)
        return f"${'1' if not power or power.startswith('/') else ''}{power}{g.per}$"  # 1/P/N, not /P/N
    c = f"{g.prefactor(p):.3g}"
    power = _power(e)
    return f"${c}{'' if power.startswith('/') or not power else ' '}{power}$"


def guide_line(name: str, spec: dict, P, anchor_values=None, offset: float = 3.0):
    """(x, y, label, exponent) of guide `name` over the sample sizes P.  Anchored guides pass through
    offset x (the anchor curve at the geometric middle of P)."""
    if name not in GUIDES:
        raise ValueError(f"unknown guide formula {name!r}; known: {', '.join(sorted(GUIDES))}")
    g, p = GUIDES[name], parameters(spec)
    g.check(p, name)
    P = np.asarray(P, dtype=float)
    x = np.geomspace(P.min(), P.max(), 60)
    e = float(g.exponent(p))
    value = _value_tex(p, name)
    # a guide whose formula holds no parameter (P^-2) is named once, not "P^-2 = P^-2"
    label = value if value == f"${g.tex}$" else rf"${g.tex}$ = {value}"
    if g.prefactor is not None:
        return x, g.prefactor(p) * x**e, label, e
    if anchor_values is None:
        raise ValueError(f"guide {name!r} has no fixed prefactor: it needs an anchor curve")
    order = np.argsort(P)
    mid = float(np.sqrt(P.min() * P.max()))
    y_mid = float(np.exp(np.interp(np.log(mid), np.log(P[order]), np.log(np.abs(anchor_values[order]) + 1e-300))))
    return x, offset * y_mid * (x / mid) ** e, label, e


def vline_position(name, spec: dict) -> tuple[float, str, str | None]:
    """(P position, label, legend definition or None) of a vertical marker: a VLINES name or a number."""
    if isinstance(name, (int, float)) and not isinstance(name, bool):
        return float(name), f"{name:g}", None
    if name not in VLINES:
        raise ValueError(f"unknown vertical marker {name!r}; known: {', '.join(sorted(VLINES))} or a number")
    at, symbol, definition = VLINES[name]
    value = float(at(parameters(spec)))
    if definition is None:
        return value, f"${symbol}$", None
    return value, f"${symbol}={value:.3g}$", f"${symbol} = {definition}$"
