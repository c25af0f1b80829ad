"""Figures A1-A4: random-matrix spectra (histograms of sampled eigenvalues vs limiting densities).

Each ``plot_<kind>(spec, data)`` draws from the Dataset made by ``spectra_data.build_<kind>`` (layouts in
that module's docstring).  ``data`` maps a role to a Dataset or a one-element list of Datasets; these
figures read a single Dataset (role ``data``, or the only one given).  Everything the figure needs is
in the Dataset; from ``spec`` only optional display keys are read: ``xlim``/``ylim`` (all kinds).

Histograms count the nonzero eigenvalues and are normalized by the total number of eigenvalues, so
they compare directly with the continuous part of the theory density; atoms at 0 are reported in the
legend instead of drawn.
"""

from __future__ import annotations

import matplotlib
import numpy as np
import xarray as xr

from .style import new_figure, panel_label

__all__ = ["plot_wigner", "plot_white_wishart", "plot_structured_wishart", "plot_deep_wishart"]

THEORY_COLOR = "black"
HIST_COLOR = "tab:blue"


def _dataset(data, kind: str) -> xr.Dataset:
    if isinstance(data, xr.Dataset):
        items = [data]
    else:
        vals = [data["data"]] if "data" in data else list(data.values())
        items = [d for v in vals for d in (v if isinstance(v, (list, tuple)) else [v])]
    if len(items) != 1:
        raise ValueError(f"{kind} figure expects exactly one Dataset, got {len(items)}")
    ds = items[0]
    if ds.attrs.get("kind", kind) != kind:
        raise ValueError(f"{kind} figure got a {ds.attrs['kind']!r} Dataset")
    return ds


def _q_colors(n: int):
    # One colour per q, shared by histogram and theory; viridis without its pale yellow end.
    cmap = matplotlib.colormaps["viridis"]
    return [cmap(v) for v in np.linspace(0.0, 0.85, n)]


def _hist(ax, eigenvalues, edges, total: int, color, label=None, drop_zeros=True, alpha=0.3):
    """Histogram density of the (nonzero) eigenvalues, normalized by the total count."""
    ev = np.asarray(eigenvalues)
    if drop_zeros:
        ev = ev[ev != 0]
    counts, _ = np.histogram(ev, bins=edges)
    dens = counts / (total * np.diff(edges))
    ax.stairs(dens, edges, fill=True, color=color, alpha=alpha, lw=0, label=label)
    ax.stairs(dens, edges, color=color, lw=0.5, alpha=min(1.0, 2.5 * alpha))
    return dens


def _apply_limits(ax, spec):
    if spec.get("xlim") is not None:
        ax.set_xlim(*spec["xlim"])
    if spec.get("ylim") is not None:
        ax.set_ylim(*spec["ylim"])


def _positive(y):
    # Zeros outside the support would be drawn as vertical drops on a log axis; leave gaps instead.
    return np.where(y > 0, y, np.nan)


def _fmt_q(q: float) -> str:
    return f"{q:.3g}"


def plot_wigner(spec: dict, data) -> matplotlib.figure.Figure:
    """A1: eigenvalue histogram of a Wigner matrix vs the semicircle."""
    ds = _dataset(data, "wigner")
    fig, (ax,) = new_figure(1)
    _hist(ax, ds["eigenvalue"].values, ds["bin_edges"].values, ds.sizes["eig_index"], HIST_COLOR,
          label=f"eigenvalues, $N={ds.sizes['eig_index']}$", drop_zeros=False, alpha=0.35)
    ax.plot(ds["lam"], ds["density"], color=THEORY_COLOR,
            label=rf"semicircle $\sqrt{{4-\lambda^2}}/2\pi$ (KS {float(ds['ks_distance']):.3f})")
    edges = ds["bin_edges"].values
    ax.set_xlim(edges[0], edges[-1])
    ax.set_ylim(0, 1.45 / np.pi)  # room above the peak 1/pi for the legend
    ax.set_xlabel(r"eigenvalue $\lambda$")
    ax.set_ylabel(r"density $\rho(\lambda)$")
    ax.set_title("Wigner semicircle")
    ax.legend(loc="upper left")
    _apply_limits(ax, spec)
    return fig


def plot_white_wishart(spec: dict, data) -> matplotlib.figure.Figure:
    """A2: sample-covariance spectra of white data vs Marchenko-Pastur, all q on one log-y axis.  Markers:
    histogram of the nonzero sampled eigenvalues (over all D, so an atom at zero leaves mass 1 - atom), one
    per occupied bin at its centre; lines: the MP density in the same colour.  Markers, not stacked
    translucent bars, so every q stays readable where the spectra overlap."""
    from matplotlib.lines import Line2D

    ds = _dataset(data, "white_wishart")
    D = ds.sizes["eig_index"]
    fig, (ax,) = new_figure(1, width=4.6, height=3.2)
    colors = _q_colors(ds.sizes["q"])
    floor, hmax, handles = [], 0.0, []
    for i, c in enumerate(colors):
        sel = ds.isel(q=i)
        edges = sel["bin_edges"].values
        ev = sel["eigenvalue"].values
        counts, _ = np.histogram(ev[ev != 0], bins=edges)
        hist = counts / (D * np.diff(edges))
        shown = counts > 0
        ax.plot(0.5 * (edges[1:] + edges[:-1])[shown], hist[shown], ls="none", marker="o", ms=2.8, mfc="none",
                mew=0.8, color=c, gid=f"histogram:{i}")
        hmax = max(hmax, float(hist.max()))
        ax.plot(sel["lam"], _positive(sel["density"].values), color=c, lw=1.2, gid=f"theory:{i}")
        label = rf"$q={_fmt_q(float(sel['q']))}$"
        zm = float(sel["zero_mass"])
        if zm > 0:
            label += f", atom {zm:.3f} at 0"
        handles.append(Line2D([], [], color=c, marker="o", mfc="none", ms=2.8, label=label))
        floor.append(1.0 / (D * np.diff(edges).max()))  # one eigenvalue per bin
    handles += [
        Line2D([], [], color="0.4", marker="o", mfc="none", ls="none", ms=2.8, label="histogram of eigenvalues"),
        Line2D([], [], color="0.4", label="Marchenko-Pastur density"),
    ]
    ax.set_yscale("log")
    # The q = 1 density diverges at 0, so the top is set by the histograms.
    ax.set_ylim(0.3 * min(floor), 3.0 * hmax)
    ax.set_xlim(0, 1.03 * float(ds["lambda_plus"].max()))
    ax.set_xlabel(r"eigenvalue $\lambda$ of $X^\top X/P$")
    ax.set_ylabel(r"density $\rho(\lambda)$")
    ax.set_title(f"White Wishart vs Marchenko-Pastur ($D={D}$, $q=D/P$)")
    ax.legend(handles=handles, loc="upper right")
    _apply_limits(ax, spec)
    return fig


def plot_structured_wishart(spec: dict, data) -> matplotlib.figure.Figure:
    """A3: log-log spectra of power-law data.  Markers: histogram of the sampled eigenvalues (nonzero, over
    the total count); lines: the Silverstein density averaged over the same log bins, in the same colour
    (the exact finite-D density resolves the top eigenvalues one by one, which bins cannot show); dashed:
    the population density.  Bins below one eigenvalue's worth are not drawn for either."""
    from matplotlib.lines import Line2D

    ds = _dataset(data, "structured_wishart")
    D = ds.sizes["eig_index"]
    edges = ds["bin_edges"].values
    centers = np.sqrt(edges[1:] * edges[:-1])
    one = 1.0 / (D * np.diff(edges))  # density of a single eigenvalue in each bin
    fig, (ax,) = new_figure(1, width=4.8, height=3.6)
    colors = _q_colors(ds.sizes["q"])
    handles = []
    for i, c in enumerate(colors):
        sel = ds.isel(q=i)
        ev = sel["eigenvalue"].values
        counts, _ = np.histogram(ev[ev != 0], bins=edges)
        hist = counts / (D * np.diff(edges))
        shown = counts > 0
        ax.plot(centers[shown], hist[shown], ls="none", marker="o", ms=3.2, mfc="none", mew=0.9, color=c,
                gid=f"histogram:{i}")
        theory = sel["density_binned"].values
        ax.plot(centers, np.where(theory >= 0.5 * one, theory, np.nan), color=c, lw=1.3, gid=f"theory:{i}")
        label = rf"$q={_fmt_q(float(sel['q']))}$"
        zm = float(sel["zero_mass"])
        if zm > 0:
            label += f" (atom {zm:.2f} at 0)"
        handles.append(Line2D([], [], color=c, marker="o", mfc="none", ms=3.2, label=label))
    ax.plot(ds["lam"], _positive(ds["population_density"].values), color=THEORY_COLOR, ls="--", lw=1.1,
            gid="population")
    handles += [
        Line2D([], [], color=THEORY_COLOR, ls="--",
               label=rf"population $\eta_k=k^{{-{ds.attrs.get('alpha', '')}}}$"),
        Line2D([], [], color="0.4", marker="o", mfc="none", ls="none", ms=3.2, label="histogram of eigenvalues"),
        Line2D([], [], color="0.4", label="theory, averaged over the bins"),
    ]
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(edges[0], edges[-1])
    ax.set_ylim(0.3 * one.min(), 3.0 * np.nanmax(np.where(one > 0, ds["density_binned"].values, np.nan)))
    ax.set_xlabel(r"eigenvalue $\lambda$")
    ax.set_ylabel(r"density $\rho(\lambda)$")
    ax.set_title(f"Power-law data, $D={D}$, $q=D/P$: sample covariance spectra", fontsize=8)
    ax.legend(handles=handles, loc="lower left")
    _apply_limits(ax, spec)
    return fig


def plot_deep_wishart(spec: dict, data) -> matplotlib.figure.Figure:
    """A4: product-Wishart spectrum, (a) linear and (b) logarithmic density axis.  The nonzero eigenvalues
    are binned so that a bin holds about ten of them on average (a finer histogram of a few hundred
    eigenvalues is mostly noise); the atom at 0 is drawn as a stem with its mass."""
    ds = _dataset(data, "deep_wishart")
    n = ds.sizes["eig_index"]
    widths = [int(w) for w in ds["widths"].values]
    ev = ds["eigenvalue"].values
    nonzero = ev[ev != 0]
    zm = float(ds["zero_mass"])
    lam, dens = ds["lam"].values, ds["density"].values
    top = float(lam[dens > 0].max()) if (dens > 0).any() else float(nonzero.max())
    n_bins = int(np.clip(nonzero.size // 10, 10, 60))
    edges = np.linspace(0.0, 1.05 * max(top, float(nonzero.max())), n_bins + 1)
    fig, axes = new_figure(2, width=3.6, height=3.0)
    for ax, letter, log in zip(axes, "ab", (False, True)):
        h = _hist(ax, nonzero, edges, n, HIST_COLOR, alpha=0.35,
                  label=rf"{nonzero.size} nonzero eigenvalues of $X^\top X$")
        ax.plot(lam, _positive(dens) if log else dens, color=THEORY_COLOR,
                label=f"S-transform theory (KS {float(ds['ks_distance_nonzero']):.3f})")
        ax.set_xlim(-0.03 * edges[-1], edges[-1])
        peak = max(float(h.max()), float(np.nanmax(dens)))
        if log:
            ax.set_yscale("log")
            ax.set_ylim(peak * 1e-3, 3.0 * peak)
        else:
            ax.set_ylim(0, 1.35 * peak)
            ax.annotate("", xy=(0, 1.25 * peak), xytext=(0, 0), arrowprops=dict(arrowstyle="-|>", color="crimson", lw=1.5))
            ax.plot([], [], color="crimson", lw=1.5, label=f"atom at 0: mass {zm:.3f}")
        ax.set_xlabel(r"eigenvalue $\lambda$")
        ax.set_ylabel(r"density $\rho(\lambda)$")
        panel_label(ax, letter)
        _apply_limits(ax, spec)
    axes[0].legend(loc="upper right")
    fig.suptitle("Product of Wishart factors, widths " + "-".join(map(str, widths))
                 + f" ({n} eigenvalues, {n_bins} bins)", fontsize=8)
    return fig
