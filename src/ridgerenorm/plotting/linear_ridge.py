"""Figures B1-B4: linear ridge regression, theory (lines) against simulation (markers).

Every figure states its parameters from its data files (style.parameter_line); guides are computed from
the experiment's own parameters (guides.py); error bars are log-safe and non-positive estimates are
marked at the bottom of the panel (style.sim_points).
"""

from __future__ import annotations

import json

import numpy as np
from matplotlib.patches import Circle, Rectangle

from .guides import guide_line
from .params import MULTIPLE_DESCENT_DEFAULT
from .style import (COLORS, ERROR_AXIS, PARAMETER_AXIS, guide_curve, new_figure, panel_label, panels_line,
                    parameter_line, sim_points, theory_line, wrapped)

ERRORS = ("eg", "etr", "bias", "var_x", "var_xeps")
PARAMS = ("kappa", "df1", "df2", "gamma")
# df1, df2 and gamma coincide over parts of the isotropic range: draw them so each stays visible
PARAM_STYLE = {"df1": dict(lw=3.2, alpha=0.45, zorder=1), "df2": dict(ls="--"), "gamma": dict(ls=":", lw=1.8)}
BAND_ALPHA = 0.15


def _spec(ds) -> dict:
    return json.loads(ds.attrs["spec"])


def _x(ds, axis: str):
    D = _spec(ds)["D"]
    P = ds.P.values.astype(float)
    return {"P": P, "q": D / P, "inv_q": P / D}[axis]


def _errors_panel(ax, sim, th, axis: str, names=ERRORS, gcv: bool = True, log: bool = True) -> None:
    xt, xs = _x(th, axis), _x(sim, axis)
    order = np.argsort(xt)
    for name in names:
        if np.all(th[name].values == 0):
            continue  # e.g. Var_Xeps without label noise: nothing to draw on a log axis
        theory_line(ax, xt[order], th[name].values[order], name, gid=f"theory:{name}")
        sim_points(ax, xs, sim[name].values, sim[name + "_se"].values, name, log=log)
    if gcv and np.isfinite(sim["gcv"].values).any():
        sim_points(ax, xs, sim["gcv"].values, sim["gcv_se"].values, "gcv", label=True, log=log)


def _params_panel(ax, sim, th, axis: str) -> None:
    xt, xs = _x(th, axis), _x(sim, axis)
    order = np.argsort(xt)
    for name in PARAMS:
        theory_line(ax, xt[order], th[name].values[order], name, gid=f"theory:{name}", **PARAM_STYLE.get(name, {}))
    sim_points(ax, xs, sim["df1_hat"].values, sim["df1_hat_std"].values, "df1_hat", color_of="df1", label=True)
    sim_points(ax, xs, sim["kappa_hat"].values, sim["kappa_hat_std"].values, "kappa_hat", label=True)


def _median_band(ax, sim, name: str, axis: str) -> None:
    """Median (open diamonds) and 16-84 % band of single draws: at small P single draws are heavy-tailed,
    so the mean +- SE alone hides how typical draws sit against the theory."""
    per = sim[name + "_per_draw"].values  # (draw, P)
    xs = _x(sim, axis)
    lo, med, hi = np.nanpercentile(per, [16, 50, 84], axis=0)
    ax.fill_between(xs, np.maximum(lo, 1e-300), hi, color=COLORS[name], alpha=BAND_ALPHA, lw=0,
                    label="16–84 % of draws", gid=f"band:{name}")
    ax.plot(xs, med, ls="none", marker="D", ms=3, mfc="none", color=COLORS[name], alpha=0.8,
            label="median of draws", gid=f"median:{name}")


def _guide(ax, name, spec, th, anchor, offset=3.0) -> None:
    P = th.P.values.astype(float)
    x, y, label, _ = guide_line(name, spec, P, None if anchor is None else th[anchor].values, offset=offset)
    guide_curve(ax, x, y, label, f"guide:{name}@{spec.get('name', '?')}")


def _finish(ax, xlabel: str, ylabel: str, log: bool = True, legend: bool = True, ncol: int = 2) -> None:
    if log:
        ax.set_xscale("log")
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if legend:
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=ncol, handlelength=1.6, columnspacing=0.9,
                  labelspacing=0.3)


def _venn_region(ax, text, xy, color, size=11):
    ax.text(*xy, text, ha="center", va="center", color=color, fontsize=size, fontweight="bold")


def plot_venn(spec: dict, data: dict):
    """B1: the bias-variance decomposition over the sources (X, eps) of randomness."""
    fig, (ax,) = new_figure(1, width=4.4, height=3.0)
    ax.set_aspect("equal")
    ax.axis("off")
    for center, name, color in (((-0.55, 0.0), "X", COLORS["var_x"]), ((0.55, 0.0), r"$\epsilon$", "0.6")):
        ax.add_patch(Circle(center, 1.0, facecolor=color, alpha=0.18, edgecolor="0.2", lw=1.3))
        ax.text(center[0] * 2.3, 1.05, name, ha="center", fontsize=12)
    _venn_region(ax, r"Var$_X$", (-1.0, 0.0), COLORS["var_x"])
    _venn_region(ax, r"Var$_\epsilon$", (1.0, 0.0), "0.35")
    _venn_region(ax, r"Var$_{X\epsilon}$", (0.0, 0.0), COLORS["var_xeps"])
    ax.add_patch(Rectangle((2.0, -0.35), 1.2, 0.7, facecolor=COLORS["bias"], alpha=0.18, edgecolor="0.2", lw=1.3))
    _venn_region(ax, r"Bias$^2$", (2.6, 0.0), COLORS["bias"])
    ax.text(0.7, -1.35, r"$E_g$ = Bias$^2$ + Var$_X$ + Var$_\epsilon$ + Var$_{X\epsilon}$;"
            "\n" r"Var$_\epsilon$ = 0 for an estimator linear in the labels", ha="center", va="top", fontsize=7)
    ax.set_xlim(-1.8, 3.4)
    ax.set_ylim(-1.85, 1.4)
    return fig


def plot_isotropic(spec: dict, data: dict):
    """B2: isotropic linear ridge; (a), (b) parameters vs D/P and P/D; (c) errors; (d) double descent."""
    sim, th = data["main"]
    sim_dd, th_dd = data["double_descent"]
    fig, axes = new_figure(4, width=3.3, height=3.3)
    _params_panel(axes[0], sim, th, "q")
    _finish(axes[0], "D/P", PARAMETER_AXIS, ncol=3)
    panel_label(axes[0], "a")
    _params_panel(axes[1], sim, th, "inv_q")
    _finish(axes[1], "P/D", PARAMETER_AXIS, legend=False)
    panel_label(axes[1], "b")
    _errors_panel(axes[2], sim, th, "q")
    _finish(axes[2], "D/P", ERROR_AXIS, ncol=3)
    panel_label(axes[2], "c")
    _errors_panel(axes[3], sim_dd, th_dd, "inv_q", log=False)
    _finish(axes[3], "P/D", ERROR_AXIS, log=False, ncol=3)
    axes[3].set_xlim(0.0, 2.05)
    axes[3].set_ylim(-0.5, 4.5)
    panel_label(axes[3], "d")
    fig.suptitle(wrapped(panels_line([("(a)-(c)", _spec(sim)), ("(d)", _spec(sim_dd))]), 150)
                 + "; (d) on linear axes", fontsize=8)
    return fig


def plot_powerlaw(spec: dict, data: dict):
    """B3: power-law data; (a) parameters vs P; (b) capacity-limited and (c) source-limited errors, each with
    the median and 16-84 % band of single draws beside the mean +- SE (small-P draws are heavy-tailed)."""
    sim, th = data["capacity"]
    fig, axes = new_figure(3, width=3.5, height=3.4)
    s = _spec(th)
    _params_panel(axes[0], sim, th, "P")
    _guide(axes[0], "kappa_capacity", s, th, "kappa")
    _guide(axes[0], "df_linear", s, th, None)
    _finish(axes[0], "P", PARAMETER_AXIS, ncol=2)
    panel_label(axes[0], "a")
    for ax, role, letter, guide in ((axes[1], "capacity", "b", "signal"), (axes[2], "source", "c", "signal_source")):
        sim_r, th_r = data[role]
        _median_band(ax, sim_r, "eg", "P")
        _errors_panel(ax, sim_r, th_r, "P", names=("eg", "bias", "var_x"))
        _guide(ax, guide, _spec(th_r), th_r, "eg")
        _finish(ax, "P", ERROR_AXIS, ncol=2)
        ax.set_title(f"r = {_spec(th_r)['teacher']['r']:g}", loc="right")
        panel_label(ax, letter)
    fig.suptitle(wrapped(panels_line([("(a), (b)", _spec(sim)), ("(c)", _spec(data["source"][0]))]), 120),
                 fontsize=8)
    return fig


def plot_multiple_descent(spec: dict, data: dict):
    """B4: three spectral blocks give a descent at each block size (dashed: the block sizes).  params.curves
    (default E_g, Bias², Var_X, Var_Xε) picks the curves; gcv is drawn only if listed, because the authors'
    final notebook has it commented out."""
    sim, th = data["main"]
    fig, (ax,) = new_figure(1, width=4.4, height=3.6)
    curves = (spec.get("params") or {}).get("curves") or MULTIPLE_DESCENT_DEFAULT
    _errors_panel(ax, sim, th, "P", names=[c for c in curves if c != "gcv"], gcv="gcv" in curves)
    if "block_size" not in th:
        raise ValueError("B4: the theory file has no block_size variable (made before the theory step carried the "
                         "spectrum's blocks): rebuild it")
    # the blocks as the theory file holds them (carried from the population file), not re-read from a config
    sizes = [int(n) for n in th["block_size"].values]
    for k, n in enumerate(sizes[:-1]):  # N_1, N_2: the sizes of the leading blocks
        ax.axvline(n, ls="--", color="gray", lw=0.8, gid="vline")
        ax.annotate(f"$N_{k + 1}={n:g}$", (n, 1.0), xycoords=("data", "axes fraction"), xytext=(2, -2),
                    textcoords="offset points", ha="left", va="top", fontsize=7, color="dimgray")
    _finish(ax, "P", ERROR_AXIS, ncol=3)
    ylim = (spec.get("params") or {}).get("ylim")
    if ylim:
        ax.set_ylim(*ylim)
    blocks = ", ".join(f"{n}×{v:g}" for n, v in zip(sizes, th["block_value"].values))
    ax.set_title(f"spectrum blocks {blocks}\n" + parameter_line(_spec(sim)), fontsize=7, loc="left")
    return fig
