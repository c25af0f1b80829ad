"""The panels the experiment figures share (linear ridge B1-B4, random features C1-C5, C8, D1-D4): errors and
renormalized parameters against the sample axis, the median band of single draws, the finishing of a panel
and the Venn diagram of the sources of randomness.  What differs between figure kinds is a parameter here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
from matplotlib.patches import Circle, Rectangle

from ..quantities import value_of
from .style import COLORS, LABELS, new_figure, sim_points, theory_line

# x axes a panel can be drawn against: the sample size, D/P or P/D (each read from the data file's own D)
AXES = ("P", "D/P", "P/D")
# empirical parameter estimates: simulation variable -> the quantity whose colour it takes
EMPIRICAL = {"df1_hat": "df1", "kappa_hat": "kappa_hat"}
OPTIONAL_THEORY = ("k2sq_tf1p", "k2_tf1")  # parameter curves drawn only if the theory provides them
BAND_ALPHA = 0.15


def data_spec(ds) -> dict:
    """The experiment spec a data file records (its `spec` attribute)."""
    return json.loads(ds.attrs["spec"])


def x_values(ds, axis: str) -> np.ndarray:
    """The sample axis of `ds` as `axis` (AXES) says: P, D/P or P/D, D from the data file's spec."""
    P = ds.P.values.astype(float)
    if axis == "P":
        return P
    D = data_spec(ds)["D"]
    return {"D/P": D / P, "P/D": P / D}[axis]


def theory_values(th, name: str):
    """Theory curve `name` over P (stored, or derived as quantities.py says), or None when unavailable."""
    values = value_of(th, name)
    return None if values is None else values.values


def _is_empty(values) -> bool:
    """Nothing to draw on a log axis: absent, all zero (e.g. noise terms at sigma_eps = 0) or all NaN."""
    if values is None:
        return True
    v = np.asarray(values, dtype=float)
    return bool(np.all((v == 0) | np.isnan(v)))


def errors_panel(ax, sim, th, axis: str, names, log: bool = True) -> None:
    """Error curves `names` in drawing order: the theory line and the simulation markers of each (a curve
    whose theory is empty is left out); "gcv", simulation only, where it stands in `names` when the
    simulation has it (all NaN when lam = 0)."""
    x_sim, x_th = x_values(sim, axis), x_values(th, axis)
    order = np.argsort(x_th)
    for name in names:
        if name == "gcv":
            if np.isfinite(sim["gcv"].values).any():
                sim_points(ax, x_sim, sim["gcv"].values, sim["gcv_se"].values, "gcv", label=True, log=log)
            continue
        y = theory_values(th, name)
        if _is_empty(y):
            continue
        theory_line(ax, x_th[order], y[order], name, gid=f"theory:{name}")
        sim_points(ax, x_sim, sim[name].values, sim[name + "_se"].values, name, log=log)


def params_panel(ax, sim, th, axis: str, names, styles: dict | None = None) -> None:
    """Renormalized-parameter curves `names`: theory lines first (with `styles[name]`, keyword arguments of
    the line), then the empirical estimates (EMPIRICAL) as markers on top.  A theory curve missing from the
    theory Dataset raises ValueError, unless it is OPTIONAL_THEORY."""
    x_sim, x_th = x_values(sim, axis), x_values(th, axis)
    order = np.argsort(x_th)
    noisy = bool(data_spec(th).get("sigma_xi"))
    for name in names:
        if name in EMPIRICAL:
            continue  # markers go on top of the lines
        y = theory_values(th, name)
        if y is None and name in OPTIONAL_THEORY:
            continue
        if y is None:
            raise ValueError(f"theory Dataset has no variable for parameter curve {name!r}")
        # with additive feature noise the theory's df1 is df1-bar = df1 + sigma_xi^2/kappa (docs/theory.md §5)
        label = r"$\bar{\mathrm{df}}_1$" if name == "df1" and noisy else LABELS.get(name, name)
        theory_line(ax, x_th[order], y[order], name, gid=f"theory:{name}", label=label,
                    **(styles or {}).get(name, {}))
    for name in names:
        if name in EMPIRICAL:
            sim_points(ax, x_sim, sim[name].values, sim[name + "_std"].values, name, color_of=EMPIRICAL[name],
                       label=True)


def median_band(ax, sim, axis: str, name: str) -> None:
    """Median (open diamonds) and 16-84 % band of single draws of `name` (over every data and feature draw):
    at small P single draws are heavy-tailed, so the mean +- SE alone hides where typical draws sit against
    the theory."""
    per = sim[name + "_per_draw"].values
    per = per.reshape(-1, per.shape[-1])  # (draw[, feature draw], P) -> (draws, P)
    x_sim = x_values(sim, axis)
    lo, med, hi = np.nanpercentile(per, [16, 50, 84], axis=0)
    ax.fill_between(x_sim, np.maximum(lo, 1e-300), hi, color=COLORS[name], alpha=BAND_ALPHA, lw=0,
                    label="16–84 % of draws", gid=f"band:{name}")
    ax.plot(x_sim, med, ls="none", marker="D", ms=3, mfc="none", color=COLORS[name], alpha=0.8,
            label="median of draws", gid=f"median:{name}")


def finish(ax, xlabel: str, ylabel: str, ncol: int = 3, log: bool = True, legend: bool = True) -> None:
    """Axis scales (log-log unless `log` is false) and labels, and the legend in `ncol` columns below the axes:
    with up to ten curves plus references no corner of a panel stays free."""
    if log:
        ax.set_xscale("log")
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if legend:
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=ncol, handlelength=1.6, columnspacing=0.9,
                  labelspacing=0.3)


# --------------------------------------------------------------------------------------------- Venn diagrams


def venn_label_points(circles: dict, radius: float = 1.0, n: int = 241) -> dict:
    """For every non-empty region of overlapping circles (keyed by the frozenset of circles it lies in),
    the grid point deepest inside it: the largest distance to any circle's outline, so a label placed
    there does not cross an outline."""
    names = list(circles)
    centers = np.array([circles[k] for k in names])
    lo, hi = centers.min(axis=0) - radius, centers.max(axis=0) + radius
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], n), np.linspace(lo[1], hi[1], n))
    pts = np.stack([gx.ravel(), gy.ravel()], axis=1)
    dist = np.linalg.norm(pts[:, None, :] - centers[None], axis=2)  # (points, circles)
    inside = dist < radius
    margin = np.abs(dist - radius).min(axis=1)
    best = {}
    for i, row in enumerate(inside):
        if not row.any():
            continue
        key = frozenset(np.array(names)[row])
        if key not in best or margin[i] > margin[best[key]]:
            best[key] = i
    return {key: tuple(pts[i]) for key, i in best.items()}


@dataclass(frozen=True)
class Venn:
    """A Venn diagram of the sources of randomness (unit circles) beside the Bias² box, and its caption."""
    circles: dict  # source -> centre
    fills: dict  # source -> fill colour
    names: dict  # source -> (text, position) of its name
    regions: dict  # frozenset of sources -> (text, colour) of the variance term of that region
    caption: str
    caption_y: float
    size: tuple  # (width, height) in inches
    xlim: tuple
    ylim: tuple
    region_at: dict | None = None  # region -> label position; None: venn_label_points (deepest inside)
    region_size: float = 11  # font size of the region labels
    region_gid: str | None = None
    bias_size: float = 11
    alpha: float = 0.18  # of the fills
    name_va: str = "center"  # vertical alignment of the source names


def plot_venn_diagram(venn: Venn):
    """The figure of `venn`: circles with their names, the region labels, the Bias² box, the caption."""
    fig, (ax,) = new_figure(1, width=venn.size[0], height=venn.size[1])
    ax.set_aspect("equal")
    ax.axis("off")
    for key, center in venn.circles.items():
        ax.add_patch(Circle(center, 1.0, facecolor=venn.fills[key], alpha=venn.alpha, edgecolor="0.2", lw=1.3))
        text, xy = venn.names[key]
        ax.text(*xy, text, ha="center", va=venn.name_va, fontsize=12)
    for region, xy in (venn.region_at or venn_label_points(venn.circles)).items():
        text, color = venn.regions[region]
        ax.text(*xy, text, ha="center", va="center", color=color, fontsize=venn.region_size, fontweight="bold",
                gid=venn.region_gid)
    ax.add_patch(Rectangle((2.0, -0.35), 1.2, 0.7, facecolor=COLORS["bias"], alpha=venn.alpha, edgecolor="0.2",
                           lw=1.3))
    ax.text(2.6, 0.0, r"Bias$^2$", ha="center", va="center", color=COLORS["bias"], fontsize=venn.bias_size,
            fontweight="bold")
    ax.text(0.7, venn.caption_y, venn.caption, ha="center", va="top", fontsize=7)
    ax.set_xlim(*venn.xlim)
    ax.set_ylim(*venn.ylim)
    return fig
