"""The one matplotlib style every figure shares; colours and labels of the quantities come from quantities.py."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from ..quantities import QUANTITIES  # noqa: E402

# colour and legend label of each quantity, from the one vocabulary (quantities.py)
COLORS = {q.name: q.color for q in QUANTITIES.values() if q.color}
LABELS = {q.name: q.label for q in QUANTITIES.values() if q.label}


def apply_style() -> None:
    matplotlib.rcParams.update({
        "font.size": 9,
        "axes.labelsize": 9,
        "axes.titlesize": 9,
        "legend.fontsize": 7,
        "legend.frameon": False,
        "lines.linewidth": 1.4,
        "lines.markersize": 4,
        "errorbar.capsize": 1.5,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "savefig.bbox": "tight",
        "pdf.fonttype": 42,
    })


def new_figure(ncols: int, nrows: int = 1, width: float = 3.4, height: float = 2.8) -> tuple[Figure, np.ndarray]:
    fig = Figure(figsize=(width * ncols, height * nrows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False).ravel())
    return fig, axes


def panel_label(ax, letter: str) -> None:
    ax.set_title(f"({letter})", loc="left", fontweight="bold")


def theory_line(ax, x, y, name: str, **kw) -> None:
    ax.plot(x, y, color=COLORS.get(name, "gray"), label=LABELS.get(name, name), **kw)


def sim_points(ax, x, y, err, name: str, marker: str = "o", label: bool = False) -> None:
    """Simulation markers with error bars; GCV uses triangles."""
    if name == "gcv":
        marker = "^"
    ax.errorbar(x, y, yerr=err, fmt=marker, color=COLORS.get(name, "gray"), mfc="none" if name != "gcv" else COLORS["gcv"],
                ms=4, elinewidth=0.8, label=LABELS.get(name, name) if label else None)


def reference_power_law(ax, x, y_anchor_x, y_anchor, exponent: float, label: str) -> None:
    """Dashed c x^exponent through (y_anchor_x, y_anchor), over the range of x."""
    x = np.asarray(x, dtype=float)
    ax.plot(x, y_anchor * (x / y_anchor_x) ** exponent, ls="--", color="gray", lw=1.0, label=label)
