"""Sample grids and the ridge schedule: the one place each rule is written.

A grid of q = D/P values (a list, {logspace: [a, b, n]} or {inverse_linspace: [a, b, n]}) gives the sample
sizes P = floor(D/q + 1e-9) (`sizes_from_q`: the 1e-9 keeps a q that divides D exactly from landing one
below); the ridge is a constant lambda >= 0 or the schedule {power: l}, lambda = P^-l (`ridge_power` reads
it, `ridge_values` evaluates it).  Only numpy: the random-matrix figures use the same rule.
"""

from __future__ import annotations

import numpy as np

__all__ = ["grid_q", "sizes_from_q", "sample_sizes", "ridge_power", "ridge_values", "check_ridge", "width_values"]

RIDGE_SCHEDULE_KEY = "power"


def grid_q(grid: dict | list) -> np.ndarray:
    """Values of q = D/P from a grid spec: a list, {logspace: [a, b, n]} (q = 10^linspace(a, b, n)) or
    {inverse_linspace: [a, b, n]} (q = 1/linspace(a, b, n), i.e. P/D evenly spaced); optional
    drop_first: true removes the first point (docs/figures.md "without its first point").

    Examples
    --------
    >>> grid_q({"inverse_linspace": [0.5, 2, 4]})
    array([2.        , 1.        , 0.66666667, 0.5       ])
    """
    if isinstance(grid, (list, tuple)):
        return np.asarray(grid, dtype=float)
    if "logspace" in grid:
        a, b, n = grid["logspace"]
        q = np.logspace(a, b, int(n))
    elif "inverse_linspace" in grid:
        a, b, n = grid["inverse_linspace"]
        q = 1.0 / np.linspace(a, b, int(n))
    else:
        raise ValueError(f"grid = {grid!r}: expected a list, logspace or inverse_linspace")
    if grid.get("drop_first", False):
        q = q[1:]
    return q


def sizes_from_q(n, q) -> np.ndarray:
    """floor(n/q + 1e-9) as floats: the sample size (or, for the random-matrix figures, P of N/P = q) each
    q gives.  Callers check the range (P >= 1) and cast."""
    return np.floor(n / q + 1e-9)


def sample_sizes(grid, D: int) -> np.ndarray:
    """Integer sample sizes P = int(D/q), unique and ascending (P >= 1).

    Examples
    --------
    >>> sample_sizes({"logspace": [-1, 1, 5]}, 100)
    array([  10,   31,  100,  316, 1000])
    """
    P = sizes_from_q(D, grid_q(grid)).astype(np.int64)
    if np.any(P < 1):
        raise ValueError(f"grid {grid!r} gives P < 1 for D = {D}")
    return np.unique(P)


def ridge_power(ridge) -> float | None:
    """The exponent l of a {power: l} schedule (lambda = P^-l), or None for a constant ridge."""
    if isinstance(ridge, dict):
        return float(ridge[RIDGE_SCHEDULE_KEY])
    return None


def ridge_values(ridge, P) -> np.ndarray:
    """Lambda at each P: a constant, or P^-l for a {power: l} schedule.

    Examples
    --------
    >>> ridge_values({"power": 1.0}, [10, 100]), ridge_values(0.01, [10, 100])
    (array([0.1 , 0.01]), array([0.01, 0.01]))
    """
    P = np.asarray(P, dtype=float)
    power = ridge_power(ridge)
    if power is not None:
        return P ** (-power)
    return np.full(P.shape, float(ridge))


def check_ridge(ridge, fail) -> None:
    """Checks of a ridge spec the schema cannot express; fail(path under ridge, value, why)."""
    power = ridge_power(ridge) if ridge is not None else None
    if power is not None and power < 0:
        fail((RIDGE_SCHEDULE_KEY,), ridge[RIDGE_SCHEDULE_KEY], "must be >= 0 (lambda = P^-l must not grow with P)")


def width_values(grid: dict) -> np.ndarray:
    """Integer widths of a width_grid spec: unique ints of 10^linspace(a, b, n).

    Examples
    --------
    >>> width_values({"logspace": [1, 3, 5]})
    array([  10,   31,  100,  316, 1000])
    """
    a, b, n = grid["logspace"]
    return np.unique(np.logspace(a, b, int(n)).astype(np.int64))
