"""Figures B1-B4: linear ridge regression, theory (lines) against simulation (markers)."""

from __future__ import annotations

import json

import numpy as np
from matplotlib.patches import Circle, Rectangle

from .style import COLORS, new_figure, panel_label, reference_power_law, sim_points, theory_line

ERRORS = ("eg", "etr", "bias", "var_x", "var_xeps")
PARAMS = ("kappa", "df1", "df2", "gamma")


def _spec(ds) -> dict:
    return json.loads(ds.attrs["spec"])


def _x(ds, axis: str):
    D = _spec(ds)["D"]
    P = ds.P.values.astype(float)
    return {"P": P, "q": D / P, "inv_q": P / D}[axis]


def _errors_panel(ax, sim, th, axis: str, names=ERRORS, gcv: bool = True) -> None:
    xt, xs = _x(th, axis), _x(sim, axis)
    order = np.argsort(xt)
    for name in names:
        if np.all(th[name].values == 0):
            continue  # e.g. Var_Xeps without label noise: nothing to draw on a log axis
        theory_line(ax, xt[order], th[name].values[order], name)
        sim_points(ax, xs, sim[name].values, sim[name + "_se"].values, name)
    if gcv and np.isfinite(sim["gcv"].values).any():
        sim_points(ax, xs, sim["gcv"].values, sim["gcv_se"].values, "gcv", label=True)


def _params_panel(ax, sim, th, axis: str) -> None:
    xt, xs = _x(th, axis), _x(sim, axis)
    order = np.argsort(xt)
    for name in PARAMS:
        theory_line(ax, xt[order], th[name].values[order], name)
    sim_points(ax, xs, sim["df1_hat"].values, sim["df1_hat_std"].values, "df1")
    sim_points(ax, xs, sim["kappa_hat"].values, sim["kappa_hat_std"].values, "kappa_hat", marker="s", label=True)


def _finish(ax, xlabel: str, log: bool = True, legend: bool = True) -> None:
    if log:
        ax.set_xscale("log")
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    if legend:
        ax.legend(ncol=2)


def plot_venn(spec: dict, data: dict):
    """B1: the bias-variance decomposition over the sources (X, eps) of randomness."""
    fig, (ax,) = new_figure(1, width=4.2, height=3.0)
    ax.set_aspect("equal")
    ax.axis("off")
    for center, name in (((-0.55, 0.0), "X"), ((0.55, 0.0), r"$\epsilon$")):
        ax.add_patch(Circle(center, 1.0, fill=False, lw=1.5))
        ax.text(center[0] * 2.0, 1.05, name, ha="center", fontsize=12)
    ax.text(-1.0, 0.0, r"Var$_X$", ha="center", va="center", color=COLORS["var_x"], fontsize=11)
    ax.text(1.0, 0.0, r"Var$_\epsilon$", ha="center", va="center", color="gray", fontsize=11)
    ax.text(0.0, 0.0, r"Var$_{X\epsilon}$", ha="center", va="center", color=COLORS["var_xeps"], fontsize=11)
    ax.add_patch(Rectangle((2.0, -0.35), 1.2, 0.7, fill=False, lw=1.5))
    ax.text(2.6, 0.0, r"Bias$^2$", ha="center", va="center", color=COLORS["bias"], fontsize=11)
    ax.text(0.0, -1.35, r"$E_g$ = Bias$^2$ + Var$_X$ + Var$_\epsilon$ + Var$_{X\epsilon}$;  Var$_\epsilon$ = 0 for a linear estimator",
            ha="center", fontsize=7)
    ax.set_xlim(-1.8, 3.4)
    ax.set_ylim(-1.6, 1.4)
    return fig


def plot_isotropic(spec: dict, data: dict):
    """B2: isotropic linear ridge; (a), (b) parameters vs D/P and P/D; (c) errors; (d) double descent."""
    sim, th = data["main"]
    sim_dd, th_dd = data["double_descent"]
    fig, axes = new_figure(4, width=3.3)
    _params_panel(axes[0], sim, th, "q")
    _finish(axes[0], "D/P")
    panel_label(axes[0], "a")
    _params_panel(axes[1], sim, th, "inv_q")
    _finish(axes[1], "P/D", legend=False)
    panel_label(axes[1], "b")
    _errors_panel(axes[2], sim, th, "q")
    _finish(axes[2], "D/P")
    panel_label(axes[2], "c")
    _errors_panel(axes[3], sim_dd, th_dd, "inv_q")
    _finish(axes[3], "P/D", log=False, legend=False)
    axes[3].set_xlim(0.0, 2.05)
    axes[3].set_ylim(-0.5, 4.5)
    panel_label(axes[3], "d")
    return fig


def plot_powerlaw(spec: dict, data: dict):
    """B3: power-law data; (a) parameters vs P; (b) capacity-limited and (c) source-limited errors."""
    sim, th = data["capacity"]
    fig, axes = new_figure(3, width=3.4)
    s = _spec(th)
    alpha, D = s["spectrum"]["alpha"], s["D"]
    P = th.P.values
    _params_panel(axes[0], sim, th, "P")
    mid = np.sqrt(P.min() * P.max())
    reference_power_law(axes[0], P, mid, float(th.kappa.interp(P=mid)), -alpha, rf"$P^{{-{alpha:g}}}$")
    axes[0].plot(P, P / D, ls=":", color="gray", lw=1.0, label="P/D")
    _finish(axes[0], "P")
    panel_label(axes[0], "a")
    for ax, role, letter in ((axes[1], "capacity", "b"), (axes[2], "source", "c")):
        sim_r, th_r = data[role]
        r = _spec(th_r)["teacher"]["r"]
        _errors_panel(ax, sim_r, th_r, "P", names=("eg", "bias", "var_x"))
        exponent = -2 * alpha * min(r, 1.0)
        reference_power_law(ax, P, mid, float(th_r.eg.interp(P=mid)), exponent, rf"$P^{{{exponent:g}}}$")
        _finish(ax, "P")
        ax.set_title(f"r = {r:g}", loc="right")
        panel_label(ax, letter)
    return fig


def plot_multiple_descent(spec: dict, data: dict):
    """B4: three spectral blocks give a descent at each block size."""
    sim, th = data["main"]
    fig, (ax,) = new_figure(1, width=4.2, height=3.2)
    _errors_panel(ax, sim, th, "P", names=("eg", "bias", "var_x", "var_xeps"))
    sizes = _spec(th)["spectrum"]["sizes"]
    for n in spec.get("params", {}).get("vlines", sizes[:-1]):
        ax.axvline(n, ls="--", color="gray", lw=0.8)
    _finish(ax, "P")
    ylim = spec.get("params", {}).get("ylim")
    if ylim:
        ax.set_ylim(*ylim)
    return fig
