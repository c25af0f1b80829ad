"""Figures C1-C6, C8: linear random features, theory (lines) against simulation (markers).

Plot functions (figure kinds):

- ``plot_venn`` (rf_venn, C1): sources of randomness (X, eps, F) and the variance terms they generate.
- ``plot_isotropic`` (rf_isotropic, C2): role ``main``; (a) all error components and GCV vs P/D,
  (b) kappa2, kappa1, gamma2, gamma1, df1(kappa2), df2(kappa2) with empirical df1 and kappa_GCV.
- ``plot_scaling`` (rf_scaling, C3, C4, C5, C8): role ``main``; (a) errors vs P, (b) parameters vs P.
- ``plot_phase`` (rf_phase, C6): no data; dominant-term maps from ``theory.phase_rates``.

``rf_scaling`` is driven by ``spec["params"]`` (every key optional):

``curves``
    error curves of panel (a), in drawing order; any of eg, etr, bias, var_x, var_f, var_xf, var_f_xf
    (= Var_F + Var_XF), var_xeps, var_xfeps, gcv (simulation only, triangles).
    Default ``[eg, bias, var_x, var_f_xf, gcv]``.
``param_curves``
    curves of panel (b); any of kappa2, kappa1, gamma2, gamma1, df1, df2 (theory), df1_hat, kappa_hat
    (simulation), k2sq_tf1p (kappa2^2 tf1'), k2_tf1 (kappa2 tf1; theory variable ``k2_tf1`` or
    ``kappa2_tf1``). The last two are drawn only when the theory Dataset has them.
    Default ``[kappa2, kappa1, gamma2, gamma1, df1, df2, df1_hat, kappa_hat]``.
``references`` / ``param_references``
    guides of panel (a) / (b), a list of mappings: ``formula`` (required): a name of guides.GUIDES, whose
    exponent, prefactor and label are computed from the experiment's own parameters (never written in the
    config); ``anchor``: the theory curve an unanchored formula takes its level from (default eg in (a),
    kappa2 in (b)); ``offset`` (default 3): how many times above the anchor curve it is drawn, so it stays
    visible beside the curve it describes; ``range``: [P_lo, P_hi], each a number or a guides.VLINES name.
``vlines``
    vertical dotted lines in both panels, labelled: guides.VLINES names (``N``, ``width_crossover``) or
    numbers.
``xlim``, ``ylim``
    axis limits of panel (a).
``panels``
    which panels to draw, a subset of ``[a, b]`` in that order (default both; D2 draws only b).

Every P position above (``at``, ``range`` entries, ``vlines``) accepts a number, ``"N"`` or ``"N^x"``.
Unknown params keys, curve names, anchors or reference keys raise ValueError. In YAML, write
LaTeX labels in single quotes (double quotes would read the backslashes as escapes).

C6 (``plot_phase``): panels (a) noiseless and (b) noisy map of the dominant term over the ridge
exponent l (lam ~ P^-l) and width exponent q (N ~ P^q), each with labelled contour lines of the
rate (E_g ~ P^-rate); (c) legend sheet "Dominated by" (a colour patch for every term present on the
maps); (d) legend sheet "Rate": the rate formula of each of those terms in its region colour.
We chose contour lines on the maps for the rate (not a second colour map) so the reader sees the
region and its rate at the same place. ``params``: alpha, r, c (defaults 1.2, 1.1, 0.3), and
optionally l_max, q_max (2, 3) and n_grid (grid points along l; q gets 1.5 times as many).
"""

from __future__ import annotations

import numpy as np
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from .. import theory
from .guides import guide_line, vline_position
from .panels import (EMPIRICAL, Venn, data_spec, errors_panel, finish, median_band, params_panel,
                     plot_venn_diagram, theory_values)
from .params import ERROR_CURVES, PARAM_CURVES, REFERENCE_KEYS, check_scaling
from .params import check_names as _check_names
from .style import (COLORS, ERROR_AXIS, PARAMETER_AXIS, guide_curve, new_figure, panel_label, panels_line,
                    parameter_line, sim_points, wrapped)

DEFAULT_CURVES = ("eg", "bias", "var_x", "var_f_xf", "gcv")
DEFAULT_PARAM_CURVES = ("kappa2", "kappa1", "gamma2", "gamma1", "df1", "df2", "df1_hat", "kappa_hat")
ISOTROPIC_CURVES = ("eg", "etr", "bias", "var_x", "var_f", "var_xf", "var_xeps", "var_xfeps", "gcv")


# --------------------------------------------------------------------------------------------- helpers


def _range(ref, spec, P):
    lo, hi = (vline_position(v, spec)[0] for v in ref.get("range", (P.min(), P.max())))
    sel = (P >= lo) & (P <= hi)
    if sel.sum() < 2:
        raise ValueError(f"reference range {ref.get('range')!r} holds fewer than two theory points")
    return sel


def _references(ax, th, refs, spec, default_anchor: str, allowed) -> None:
    """Guides (guides.py) named by formula, computed from the experiment's parameters."""
    P = th.P.values.astype(float)
    for ref in refs:
        if not isinstance(ref, dict) or "formula" not in ref:
            raise ValueError(f"a reference needs a 'formula' (one of guides.GUIDES): {ref!r}")
        extra = set(ref) - REFERENCE_KEYS
        if extra:
            raise ValueError(f"unknown reference keys {sorted(extra)}; allowed: {sorted(REFERENCE_KEYS)}")
        anchor = ref.get("anchor", default_anchor)
        _check_names([anchor], [a for a in allowed if a not in EMPIRICAL and a != "gcv"], "reference anchor")
        y = theory_values(th, anchor)
        if y is None:
            raise ValueError(f"reference anchor {anchor!r} is not in the theory Dataset")
        sel = _range(ref, spec, P)
        x, yy, label, _ = guide_line(ref["formula"], spec, P[sel], y[sel], offset=float(ref.get("offset", 3.0)))
        guide_curve(ax, x, yy, label, f"guide:{ref['formula']}@{spec.get('name', '?')}")


def _vlines(ax, vlines, spec, with_labels: bool) -> None:
    """Dotted vertical markers, each labelled at the top right of its line with a short symbol and its value
    (stacked down, so two never overlap); a marker with a longer definition also gets a legend entry."""
    for k, v in enumerate(vlines):
        x, label, definition = vline_position(v, spec)
        ax.axvline(x, ls=":", color="dimgray", lw=0.9, gid="vline")
        if with_labels:
            ax.annotate(label, (x, 1.0), xycoords=("data", "axes fraction"), xytext=(2, -2 - 10 * k),
                        textcoords="offset points", ha="left", va="top", fontsize=7, color="dimgray")
            if definition:
                ax.plot([], [], ls=":", color="dimgray", lw=0.9, label=definition, gid="vline-key")


# --------------------------------------------------------------------------------------------- figures


# C1: the sources X, eps and F of randomness
VENN = Venn(
    circles={"X": (-0.6, 0.35), "eps": (0.6, 0.35), "F": (0.0, -0.7)},
    fills={"X": COLORS["var_x"], "eps": "0.6", "F": COLORS["var_f"]},
    names={"X": ("X", (-1.55, 1.3)), "eps": (r"$\epsilon$", (1.55, 1.3)), "F": ("F", (0.0, -1.95))},
    regions={
        frozenset({"X"}): (r"Var$_X$", COLORS["var_x"]),
        frozenset({"eps"}): (r"Var$_\epsilon$", "0.35"),
        frozenset({"F"}): (r"Var$_F$", COLORS["var_f"]),
        frozenset({"X", "eps"}): (r"Var$_{X\epsilon}$", COLORS["var_xeps"]),
        frozenset({"X", "F"}): (r"Var$_{XF}$", COLORS["var_xf"]),
        frozenset({"eps", "F"}): (r"Var$_{\epsilon F}$", "0.35"),
        frozenset({"X", "eps", "F"}): (r"Var$_{X\epsilon F}$", COLORS["var_xfeps"]),
    },
    caption=r"$E_g$ = Bias$^2$ + the seven variances;  Var$_\epsilon$ = Var$_{\epsilon F}$ = 0"
            "\nfor a predictor linear in the labels",
    caption_y=-2.35, size=(4.8, 3.6), xlim=(-1.9, 3.4), ylim=(-2.8, 1.55),
    region_size=8.5, region_gid="region", bias_size=10, alpha=0.15,
)


def plot_venn(spec: dict, data: dict):
    """C1: the variance decomposition over the three sources of randomness (X, eps, F)."""
    return plot_venn_diagram(VENN)


def plot_isotropic(spec: dict, data: dict):
    """C2: isotropic data and weights; (a) errors and (b) renormalized parameters vs P/D."""
    sim, th = data["main"]
    fig, axes = new_figure(2, width=3.6, height=3.7)
    errors_panel(axes[0], sim, th, "P/D", ISOTROPIC_CURVES)
    finish(axes[0], "P/D", ERROR_AXIS)
    panel_label(axes[0], "a")
    fig.suptitle(parameter_line(data_spec(sim)), fontsize=8)
    params_panel(axes[1], sim, th, "P/D", DEFAULT_PARAM_CURVES)
    finish(axes[1], "P/D", PARAMETER_AXIS, ncol=4)
    panel_label(axes[1], "b")
    return fig


NONLINEAR_CURVES = ("eg", "bias", "var_x", "var_f_xf", "gcv")


def plot_nonlinear(spec: dict, data: dict):
    """E1, E2: random features phi = act(F^T x) - mu0 (markers: exact simulation) against their Gaussian
    equivalent, the additive-noise theory with sigma_xi = mu*/mu1 (lines); one panel per activation."""
    roles = [r for r in ("relu", "erf") if r in data]
    axis = (spec.get("params") or {}).get("x", "P")
    fig, axes = new_figure(len(roles), width=3.6, height=3.8)
    for ax, role, letter in zip(axes, roles, "ab"):
        sim, th = data[role]
        errors_panel(ax, sim, th, axis, NONLINEAR_CURVES)
        finish(ax, axis, ERROR_AXIS, ncol=3)
        panel_label(ax, letter)
        ax.set_title(f"{role}: simulation vs Gaussian equivalent", loc="right", fontsize=8)
    panels = [(f"({letter}) {role}", data_spec(data[role][0])) for role, letter in zip(roles, "ab")]
    fig.suptitle(wrapped(panels_line(panels), 60 * len(roles)), fontsize=8)
    return fig


def plot_scaling(spec: dict, data: dict):
    """C3, C4, C5, C8: power-law data; (a) errors and (b) parameters vs P (see the module docstring)."""
    params = dict(spec.get("params") or {})
    check_scaling(params)  # the checks that need no data (also run when the config is validated)
    curves = list(params.get("curves", DEFAULT_CURVES))
    pcurves = list(params.get("param_curves", DEFAULT_PARAM_CURVES))
    panels = params.get("panels", ["a", "b"])
    sim, th = data["main"]
    spec_th = data_spec(th)
    fig, axes = new_figure(len(panels), width=3.6, height=3.8)
    axes = dict(zip(panels, axes))

    if "a" in axes:
        ax = axes["a"]
        if params.get("median_band"):
            median_band(ax, sim, "P", "eg")
        errors_panel(ax, sim, th, "P", curves)
        _references(ax, th, params.get("references", []), spec_th, "eg", ERROR_CURVES)
        _vlines(ax, params.get("vlines", []), spec_th, with_labels=True)
        finish(ax, "P", ERROR_AXIS, ncol=2)  # reference labels are long
        if params.get("xlim"):
            ax.set_xlim(*params["xlim"])
        if params.get("ylim"):
            ax.set_ylim(*params["ylim"])
        if len(axes) > 1:
            panel_label(ax, "a")

    if "b" in axes:
        ax = axes["b"]
        params_panel(ax, sim, th, "P", pcurves)
        _references(ax, th, params.get("param_references", []), spec_th, "kappa2", PARAM_CURVES)
        _vlines(ax, params.get("vlines", []), spec_th, with_labels="a" not in axes)
        finish(ax, "P", PARAMETER_AXIS, ncol=4)
        if len(axes) > 1:  # a figure with one panel needs no letter
            panel_label(ax, "b")
    fig.suptitle(wrapped(parameter_line(data_spec(sim)), 60 * len(axes)), fontsize=8)
    return fig


# --------------------------------------------------------------------------------------------- C6

# one colour per PHASE_LABELS entry (pale, so the rate contours stay readable)
PHASE_COLORS = {
    "Signal-capacity": "#8dd3c7",
    "Signal-source": "#b3de69",
    "Ridge-capacity": "#80b1d3",
    "Ridge-source": "#bebada",
    "Var_F": "#fb8072",
    "Var_F-ridge": "#fdb462",
    "Signal-capacity-width": "#ffed6f",
    "Signal-source-width": "#ccebc5",
    "Noise": "#d9d9d9",
    "Noise mitigated by λ": "#fccde5",
    "Noise mitigated by N": "#bc80bd",
}
# rate of each region, E_g ~ P^-rate (docs/theory.md §6)
PHASE_RATES = {
    "Signal-capacity": r"$2\alpha$",
    "Signal-source": r"$2\alpha r$",
    "Ridge-capacity": r"$2l$",
    "Ridge-source": r"$2lr$",
    "Var_F": r"$\alpha - c + qc$",
    "Var_F-ridge": r"$(\alpha - c)\,l/\alpha + qc$",
    "Signal-capacity-width": r"$\alpha q$",
    "Signal-source-width": r"$2\alpha r q$",
    "Noise": r"$0$",
    "Noise mitigated by λ": r"$1 - l/\alpha$",
    "Noise mitigated by N": r"$1 - q$",
}


def _phase_text(label: str) -> str:
    return label.replace("Var_F", r"Var$_F$").replace("λ", r"$\lambda$")


def phase_grid(params: dict):
    """(l, q) grid of the C6 maps and the (rate, label index) of the noiseless and noisy diagrams."""
    alpha, r, c = (float(params.get(k, d)) for k, d in (("alpha", 1.2), ("r", 1.1), ("c", 0.3)))
    n = int(params.get("n_grid", 401))
    l = np.linspace(0.0, float(params.get("l_max", 2.0)), n)
    q = np.linspace(0.0, float(params.get("q_max", 3.0)), int(1.5 * n))
    L, Q = np.meshgrid(l, q)
    maps = {noisy: theory.phase_rates(L, Q, alpha, r, c, noisy) for noisy in (False, True)}
    return l, q, maps


def _contour_label_points(cs, l, q, idx, min_vertices: int = 25) -> list:
    """One label position per contour level and region it crosses: the middle of the level's vertices
    inside that region, away from the map edges (automatic placement piles the labels onto the edges)."""
    dl, dq = l[1] - l[0], q[1] - q[0]
    lo, hi = np.array([l[0], q[0]]), np.array([l[-1], q[-1]])
    margin = 0.04 * (hi - lo)
    points = []
    for path in cs.get_paths():
        v = path.vertices
        if len(v) == 0:
            continue
        v = v[np.all((v > lo + margin) & (v < hi - margin), axis=1)]
        cols = np.clip(np.rint((v[:, 0] - l[0]) / dl).astype(int), 0, len(l) - 1)
        rows = np.clip(np.rint((v[:, 1] - q[0]) / dq).astype(int), 0, len(q) - 1)
        region = idx[rows, cols]
        for k in np.unique(region):
            inside = v[region == k]
            if len(inside) >= min_vertices:
                points.append(tuple(inside[len(inside) // 2]))
    return points


def plot_phase(spec: dict, data: dict):
    """C6: dominant error term over (l, q) without and with label noise, plus the two legend sheets."""
    params = spec.get("params") or {}
    l, q, maps = phase_grid(params)
    cmap = ListedColormap([PHASE_COLORS[name] for name in theory.PHASE_LABELS])
    norm = BoundaryNorm(np.arange(len(theory.PHASE_LABELS) + 1) - 0.5, cmap.N)
    # the legend sheets need less room than the maps
    fig = Figure(figsize=(10.4, 3.1), layout="constrained")
    axes = fig.subplots(1, 4, gridspec_kw={"width_ratios": [1.0, 1.0, 0.62, 0.52]})
    extent = (l[0], l[-1], q[0], q[-1])
    levels = np.arange(0.2, 4.0, 0.2)
    panels = ((axes[0], False, "a", "noiseless"), (axes[1], True, "b", r"noisy ($\sigma_\epsilon > 0$)"))
    for ax, noisy, letter, title in panels:
        rate, idx = maps[noisy]
        ax.imshow(idx, origin="lower", extent=extent, aspect="auto", cmap=cmap, norm=norm, interpolation="nearest")
        cs = ax.contour(l, q, rate, levels=levels, colors="0.25", linewidths=0.45)
        ax.clabel(cs, fontsize=6.5, fmt="%.1f", inline_spacing=1, manual=_contour_label_points(cs, l, q, idx))
        ax.set_xlabel(r"ridge exponent $l$  ($\lambda \sim P^{-l}$)")
        ax.set_ylabel(r"width exponent $q$  ($N \sim P^{q}$)")
        ax.set_title(title, loc="right")
        panel_label(ax, letter)
        for side in ("top", "right"):
            ax.spines[side].set_visible(True)  # a map is a closed box
    present = sorted(set(np.unique(maps[False][1])) | set(np.unique(maps[True][1])))
    names = [theory.PHASE_LABELS[i] for i in present]
    patches = [Patch(facecolor=PHASE_COLORS[n], edgecolor="0.3", lw=0.5) for n in names]
    for ax, letter, title, texts in (
        (axes[2], "c", "Dominated by", [_phase_text(n) for n in names]),
        (axes[3], "d", "Rate", [PHASE_RATES[n] for n in names]),
    ):
        ax.axis("off")
        ax.legend(patches, texts, title=title, loc="upper left", bbox_to_anchor=(0.0, 0.97), fontsize=7.5,
                  title_fontsize=8.5, handlelength=1.4, handleheight=1.1, labelspacing=0.55, alignment="left")
        panel_label(ax, letter)
    p = {k: params.get(k, d) for k, d in (("alpha", 1.2), ("r", 1.1), ("c", 0.3))}
    axes[3].text(0.0, 0.0, rf"$\alpha$={p['alpha']:g}, r={p['r']:g}, c={p['c']:g}"
                 "\n" r"$E_g \sim P^{-\mathrm{rate}}$; contours in"
                 "\n(a), (b) mark the rate. The noisy"
                 "\nsignal term uses r (the authors'"
                 "\nnotebook used 1 there).",
                 transform=axes[3].transAxes, fontsize=6.5, va="bottom", ha="left")
    return fig


# --------------------------------------------------------------------------------------------- C7


GUIDE_BELOW = 0.8  # C7: each guide ends this far below its curve's widest point, beside it rather than on it


def plot_width_sweep(spec: dict, data: dict):
    """C7: Var_F + Var_XF against width N at a fixed, small sample size P (minimum-norm interpolation,
    P << N), one colour per weight exponent alpha_F: simulation (markers) and our structured-weight theory
    (lines, beyond the paper), as the authors draw it in one panel.  Each curve has its dashed N^-c guide,
    c from alpha_F (c = 1 for alpha_F < 1/2, (1 - alpha_F)/alpha_F up to 1, 0 beyond), ending just below
    (GUIDE_BELOW times) the curve's widest point, so that guide and curve both show: the exponent is
    asymptotic (P << N << D), so the curves are at their own slope c at large N, and at smaller N (still
    near P) they are steeper and rise further above their guides."""
    import matplotlib

    sim, th = data["main"]
    P = float(th.P)
    fig, axes = new_figure(1, width=5.4, height=3.9)
    ax = axes[0]
    cmap = matplotlib.colormaps["viridis"]
    alphas = th.alpha_F.values
    N_th, N_sim = th.N.values.astype(float), sim.N.values.astype(float)
    for ia, alpha_f in enumerate(alphas):
        color = cmap(0.9 * ia / max(1, len(alphas) - 1))
        y_th, c = th.var_f_xf.values[ia], float(th.c[ia])
        law = rf"$N^{{-{c:.2g}}}$" if c > 0 else "flat"
        ax.plot(N_th, y_th, color=color, lw=1.3, label=rf"$\alpha_F = {alpha_f:g}$:  {law}",
                gid=f"theory:{alpha_f:g}")
        sim_points(ax, N_sim, sim.var_f_xf.values[ia], sim.var_f_xf_se.values[ia], "var_f_xf", color=color)
        ax.plot(N_th, GUIDE_BELOW * y_th[-1] * (N_th / N_th[-1]) ** (-c), ls="--", color=color, lw=0.9,
                gid=f"width-guide:{alpha_f:g}")
    ax.plot([], [], ls="--", color="0.4", lw=0.9, label=rf"$N^{{-c}}$, {GUIDE_BELOW:g}$\times$ the widest point")
    ax.plot([], [], ls="none", marker="o", mfc="none", color="0.4", label="simulation (mean ± SE)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("N (features)")
    ax.set_ylabel(r"Var$_F$ + Var$_{XF}$")
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=7, title="lines: theory", title_fontsize=7)
    spec_sim = data_spec(sim)
    fig.suptitle(parameter_line(spec_sim).replace(", $\\sigma_\\epsilon$=0", "") + f", P={P:g}, ridgeless",
                 fontsize=8)
    return fig
