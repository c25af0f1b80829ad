"""Figures B1-B4: linear ridge regression, theory (lines) against simulation (markers).

Every figure states its parameters from its data files (style.parameter_line); guides are computed from
the experiment's own parameters (guides.py); error bars are log-safe and non-positive estimates are
marked at the bottom of the panel (style.sim_points).
"""

from __future__ import annotations

from .guides import guide_line
from .panels import Venn, data_spec, errors_panel, finish, median_band, params_panel, plot_venn_diagram
from .params import MULTIPLE_DESCENT_DEFAULT
from .style import (COLORS, ERROR_AXIS, PARAMETER_AXIS, guide_curve, new_figure, panel_label, panels_line,
                    parameter_line, wrapped)

ERRORS = ("eg", "etr", "bias", "var_x", "var_xeps", "gcv")
PARAMS = ("kappa", "df1", "df2", "gamma", "df1_hat", "kappa_hat")
# df1, df2 and gamma coincide over parts of the isotropic range: draw them so each stays visible
PARAM_STYLE = {"df1": dict(lw=3.2, alpha=0.45, zorder=1), "df2": dict(ls="--"), "gamma": dict(ls=":", lw=1.8)}


def _guide(ax, name, spec, th, anchor, offset=3.0) -> None:
    P = th.P.values.astype(float)
    x, y, label, _ = guide_line(name, spec, P, None if anchor is None else th[anchor].values, offset=offset)
    guide_curve(ax, x, y, label, f"guide:{name}@{spec.get('name', '?')}")


# B1: the sources X and eps of randomness
VENN = Venn(
    circles={"X": (-0.55, 0.0), "eps": (0.55, 0.0)},
    fills={"X": COLORS["var_x"], "eps": "0.6"},
    names={"X": ("X", (-0.55 * 2.3, 1.05)), "eps": (r"$\epsilon$", (0.55 * 2.3, 1.05))},
    regions={frozenset({"X"}): (r"Var$_X$", COLORS["var_x"]), frozenset({"eps"}): (r"Var$_\epsilon$", "0.35"),
             frozenset({"X", "eps"}): (r"Var$_{X\epsilon}$", COLORS["var_xeps"])},
    region_at={frozenset({"X"}): (-1.0, 0.0), frozenset({"eps"}): (1.0, 0.0), frozenset({"X", "eps"}): (0.0, 0.0)},
    caption=r"$E_g$ = Bias$^2$ + Var$_X$ + Var$_\epsilon$ + Var$_{X\epsilon}$;"
            "\n" r"Var$_\epsilon$ = 0 for an estimator linear in the labels",
    caption_y=-1.35, size=(4.4, 3.0), xlim=(-1.8, 3.4), ylim=(-1.85, 1.4), name_va="baseline",
)


def plot_venn(spec: dict, data: dict):
    """B1: the bias-variance decomposition over the sources (X, eps) of randomness."""
    return plot_venn_diagram(VENN)


def plot_isotropic(spec: dict, data: dict):
    """B2: isotropic linear ridge; (a), (b) parameters vs D/P and P/D; (c) errors; (d) double descent."""
    sim, th = data["main"]
    sim_dd, th_dd = data["double_descent"]
    fig, axes = new_figure(4, width=3.3, height=3.3)
    params_panel(axes[0], sim, th, "D/P", PARAMS, PARAM_STYLE)
    finish(axes[0], "D/P", PARAMETER_AXIS, ncol=3)
    panel_label(axes[0], "a")
    params_panel(axes[1], sim, th, "P/D", PARAMS, PARAM_STYLE)
    finish(axes[1], "P/D", PARAMETER_AXIS, legend=False)
    panel_label(axes[1], "b")
    errors_panel(axes[2], sim, th, "D/P", ERRORS)
    finish(axes[2], "D/P", ERROR_AXIS, ncol=3)
    panel_label(axes[2], "c")
    errors_panel(axes[3], sim_dd, th_dd, "P/D", ERRORS, log=False)
    finish(axes[3], "P/D", ERROR_AXIS, log=False, ncol=3)
    axes[3].set_xlim(0.0, 2.05)
    axes[3].set_ylim(-0.5, 4.5)
    panel_label(axes[3], "d")
    fig.suptitle(wrapped(panels_line([("(a)-(c)", data_spec(sim)), ("(d)", data_spec(sim_dd))]), 150)
                 + "; (d) on linear axes", fontsize=8)
    return fig


def plot_powerlaw(spec: dict, data: dict):
    """B3: power-law data; (a) parameters vs P; (b) capacity-limited and (c) source-limited errors, each with
    the median and 16-84 % band of single draws beside the mean +- SE (small-P draws are heavy-tailed)."""
    sim, th = data["capacity"]
    fig, axes = new_figure(3, width=3.5, height=3.4)
    s = data_spec(th)
    params_panel(axes[0], sim, th, "P", PARAMS, PARAM_STYLE)
    _guide(axes[0], "kappa_capacity", s, th, "kappa")
    _guide(axes[0], "df_linear", s, th, None)
    finish(axes[0], "P", PARAMETER_AXIS, ncol=2)
    panel_label(axes[0], "a")
    for ax, role, letter, guide in ((axes[1], "capacity", "b", "signal"), (axes[2], "source", "c", "signal_source")):
        sim_r, th_r = data[role]
        median_band(ax, sim_r, "P", "eg")
        errors_panel(ax, sim_r, th_r, "P", ("eg", "bias", "var_x", "gcv"))
        _guide(ax, guide, data_spec(th_r), th_r, "eg")
        finish(ax, "P", ERROR_AXIS, ncol=2)
        ax.set_title(f"r = {data_spec(th_r)['teacher']['r']:g}", loc="right")
        panel_label(ax, letter)
    fig.suptitle(wrapped(panels_line([("(a), (b)", data_spec(sim)), ("(c)", data_spec(data["source"][0]))]), 120),
                 fontsize=8)
    return fig


def plot_multiple_descent(spec: dict, data: dict):
    """B4: three spectral blocks give a descent at each block size (dashed: the block sizes).  params.curves
    (default E_g, Bias², Var_X, Var_Xε) picks the curves; gcv is drawn only if listed, because the authors'
    final notebook has it commented out."""
    sim, th = data["main"]
    fig, (ax,) = new_figure(1, width=4.4, height=3.6)
    curves = (spec.get("params") or {}).get("curves") or MULTIPLE_DESCENT_DEFAULT
    # gcv last, wherever the list has it
    errors_panel(ax, sim, th, "P", [c for c in curves if c != "gcv"] + ["gcv"] * ("gcv" in curves))
    if "block_size" not in th:
        raise ValueError("B4: the theory file has no block_size variable (made before the theory step carried the "
                         "spectrum's blocks): rebuild it")
    # the blocks as the theory file holds them (carried from the population file), not re-read from a config
    sizes = [int(n) for n in th["block_size"].values]
    for k, n in enumerate(sizes[:-1]):  # N_1, N_2: the sizes of the leading blocks
        ax.axvline(n, ls="--", color="gray", lw=0.8, gid="vline")
        ax.annotate(f"$N_{k + 1}={n:g}$", (n, 1.0), xycoords=("data", "axes fraction"), xytext=(2, -2),
                    textcoords="offset points", ha="left", va="top", fontsize=7, color="dimgray")
    finish(ax, "P", ERROR_AXIS, ncol=3)
    ylim = (spec.get("params") or {}).get("ylim")
    if ylim:
        ax.set_ylim(*ylim)
    blocks = ", ".join(f"{n}×{v:g}" for n, v in zip(sizes, th["block_value"].values))
    ax.set_title(f"spectrum blocks {blocks}\n" + parameter_line(data_spec(sim)), fontsize=7, loc="left")
    return fig
