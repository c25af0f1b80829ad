"""Figure R1: ridge regression (a, c) and linear random features (b, d) fitted on a real dataset (the digits),
against the theory evaluated on the dataset's covariance spectrum and least-squares teacher.

(a), (b): test error against P.  Markers: held-out test error of the one-hot labels (filled) and the risk
over all rows of fits on rows drawn with replacement (open), the noiseless linear teacher (squares); lines:
the theory, E_g + sigma_eps^2 (the labels) and E_g (the linear teacher); dotted: the label-noise floor.
(c), (d): the excess error E_g of every series over its theory, with the Gaussian control: Gaussian rows with
the same covariance and teacher (the existing linear-ridge and random-feature models), where the theory is
exact up to finite size.  Where the real-data ratios leave 1 and the Gaussian ones do not, Gaussian
equivalence fails on the data.
"""

from __future__ import annotations

import json

import numpy as np

from .style import ERROR_AXIS, new_figure, panel_label, panels_line, sim_points, wrapped

# role suffix -> (colour, marker, legend label); the panel's model prefixes it (ridge_, features_)
SERIES = {
    "": ("navy", "D", "labels, held-out rows"),
    "_iid": ("tab:cyan", "o", "labels, i.i.d. rows"),
    "_linear": ("black", "s", "linear teacher, held-out rows"),
    "_gaussian": ("0.55", "^", "Gaussian rows, same Σ and teacher"),
}
PANELS = (("ridge", "ridge regression"), ("features", "linear random features"))


def _spec(ds) -> dict:
    return json.loads(ds.attrs["spec"])


def _at(th, name: str, P) -> np.ndarray:
    return th[name].sel(P=np.asarray(P, dtype=th.P.dtype)).values


def _line(ax, th, name: str, color: str, label: str, **kw) -> None:
    P = th.P.values.astype(float)
    order = np.argsort(P)
    ax.plot(P[order], th[name].values[order], color=color, label=label, gid=f"theory:{name}", **kw)


def _test_panel(ax, data: dict, prefix: str) -> None:
    sim, th = data[prefix]
    sigma2 = float(_spec(sim)["sigma_eps"]) ** 2
    _line(ax, th, "test_error", SERIES[""][0], r"theory $E_g+\sigma_\epsilon^2$")
    for suffix in ("", "_iid"):
        s, _ = data[prefix + suffix]
        color, marker, label = SERIES[suffix]
        sim_points(ax, s.P.values, s["test_error"].values, s["test_error_se"].values, "test_error", marker=marker,
                   color=color)
        ax.containers[-1].set_label(label)
    s, t = data[prefix + "_linear"]
    color, marker, label = SERIES["_linear"]
    _line(ax, t, "eg", color, r"theory $E_g$ (linear teacher)", ls="--")
    sim_points(ax, s.P.values, s["test_error"].values, s["test_error_se"].values, "test_error", marker=marker,
               color=color)
    ax.containers[-1].set_label(label)
    ax.axhline(sigma2, color="0.4", ls=":", lw=1.0, label=r"label noise $\sigma_\epsilon^2$", gid="floor")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("P")
    ax.set_ylabel(ERROR_AXIS)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, handlelength=1.6, columnspacing=0.9,
              labelspacing=0.3)


def _ratio_panel(ax, data: dict, prefix: str) -> None:
    ax.axhline(1.0, color="0.3", lw=1.0, gid="theory:ratio", label="theory (ratio 1)")
    for k, suffix in enumerate(SERIES):
        s, t = data[prefix + suffix]
        P = s.P.values
        theory = _at(t, "eg", P)
        color, marker, label = SERIES[suffix]
        # the series sit at the same P: spread them a little along x so their bars do not overlap
        x = P * 10 ** (0.012 * (k - 1.5))
        ax.errorbar(x, s["eg"].values / theory, yerr=s["eg_se"].values / theory, fmt=marker, color=color,
                    mfc=color if suffix in ("", "_gaussian") else "none", ms=4, elinewidth=0.8, label=label,
                    gid=f"sim:ratio{suffix}")
    ax.set_xscale("log")
    ax.set_xlabel("P")
    ax.set_ylabel(r"$E_g$ simulation / theory")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, handlelength=1.6, columnspacing=0.9,
              labelspacing=0.3)


def plot_real_data(spec: dict, data: dict):
    fig, axes = new_figure(2, 2, width=3.7, height=3.4)
    for col, (prefix, title) in enumerate(PANELS):
        top, bottom = axes[col], axes[2 + col]
        _test_panel(top, data, prefix)
        _ratio_panel(bottom, data, prefix)
        panel_label(top, "ab"[col])
        panel_label(bottom, "cd"[col])
        N = _spec(data[prefix][0]).get("features")
        title = f"{title}, N = {N}" if N else title
        top.set_title(f"{title}: test error", loc="right", fontsize=8)
        bottom.set_title(title.replace("linear ", ""), loc="right", fontsize=8)  # its y label names the ratio
    panels = [(f"({letter})", _spec(data[prefix][0])) for (prefix, _), letter in zip(PANELS, "ab")]
    fig.suptitle(wrapped(panels_line(panels), 120), fontsize=8)
    return fig
