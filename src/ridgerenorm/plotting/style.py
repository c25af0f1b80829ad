"""The one matplotlib style every figure shares, and the colour of each error component (FIGURES.md)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

COLORS = {
    "eg": "black",
    "etr": "tab:blue",
    "bias": "tab:green",
    "var_x": "tab:orange",
    "var_f": "tab:purple",
    "var_xf": "tab:pink",
    "var_xeps": "crimson",
    "var_xfeps": "coral",
    "var_f_xf": "darkorchid",
    "gcv": "orchid",
    "kappa": "tab:red",
    "kappa_hat": "tab:brown",
    "df1": "tab:blue",
    "df2": "tab:cyan",
    "gamma": "tab:olive",
    # random features (C, D figures)
    "kappa1": "tab:purple",
    "kappa2": "tab:red",
    "gamma1": "tab:green",
    "gamma2": "tab:olive",
    "k2sq_tf1p": "goldenrod",
    "k2_tf1": "teal",
}
LABELS = {
    "eg": r"$E_g$",
    "etr": r"$E_{tr}$",
    "bias": r"Bias$^2$",
    "var_x": r"Var$_X$",
    "var_xeps": r"Var$_{X\epsilon}$",
    "gcv": "GCV",
    "kappa": r"$\kappa$",
    "kappa_hat": r"$\hat\kappa_{GCV}$",
    "df1": r"$\mathrm{df}_1$",
    "df2": r"$\mathrm{df}_2$",
    "gamma": r"$\gamma$",
    # random features (C, D figures)
    "var_f": r"Var$_F$",
    "var_xf": r"Var$_{XF}$",
    "var_xfeps": r"Var$_{XF\epsilon}$",
    "var_f_xf": r"Var$_F$+Var$_{XF}$",
    "kappa1": r"$\kappa_1$",
    "kappa2": r"$\kappa_2$",
    "gamma1": r"$\gamma_1$",
    "gamma2": r"$\gamma_2$",
    "k2sq_tf1p": r"$\kappa_2^2\,\mathrm{tf}_1'$",
    "k2_tf1": r"$\kappa_2\,\mathrm{tf}_1$",
}


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
