"""The one matplotlib style every figure shares; colours and labels of the quantities come from quantities.py."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from ..grids import ridge_power  # noqa: E402
from ..quantities import QUANTITIES  # noqa: E402
from ..spectrum_kinds import label_parts  # noqa: E402

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
    kw.setdefault("label", LABELS.get(name, name))
    ax.plot(x, y, color=COLORS.get(name, "gray"), **kw)


# the y axis of a panel of errors and of a panel of renormalized parameters (every panel names both axes)
ERROR_AXIS = "error"
PARAMETER_AXIS = "parameter value"

# guides of one panel, in the order drawn: each its own dash pattern, so two grey guides never look alike
GUIDE_DASHES = ("--", "-.", (0, (6, 1.5, 1, 1.5, 1, 1.5)), ":")


def guide_curve(ax, x, y, label: str, gid: str) -> None:
    """A reference power law (guides.py) in grey, in the next dash pattern not yet used on the panel."""
    k = sum((line.get_gid() or "").startswith("guide:") for line in ax.lines)
    ax.plot(x, y, ls=GUIDE_DASHES[k % len(GUIDE_DASHES)], color="0.35", lw=1.0, label=label, gid=gid)


def log_error_bars(y, err):
    """Lower and upper error-bar lengths that stay positive on a log axis: the interval max(y - err, y/10) to
    y + err.  Where the standard error is under 0.9 y the bar is the true +-1 SE interval, so a theory line
    outside the bar is more than one SE away; a larger error (an interval that reaches zero) is drawn down to
    one decade below the estimate, never to the axis floor (the authors' notebooks cap it at 0.9 y the same
    way)."""
    y, err = np.asarray(y, dtype=float), np.asarray(err, dtype=float)
    with np.errstate(invalid="ignore"):
        lower = np.where(y > 0, np.minimum(err, 0.9 * y), np.nan)
    return np.vstack([lower, np.where(y > 0, err, np.nan)])


def sim_points(ax, x, y, err, name: str, marker: str | None = None, label: bool = False, log: bool = True,
               color_of: str | None = None, color=None) -> None:
    """Simulation markers with error bars, in the quantity's own marker (quantities.py).  On a log axis the
    bars are log-safe (log_error_bars) and a non-positive estimate (unbiased variance components can be
    negative) is drawn as an open down-triangle at the bottom of the panel instead of vanishing."""
    q = QUANTITIES.get(name)
    marker = marker or (q.marker if q else "o")
    color = color if color is not None else COLORS.get(color_of or name, "gray")
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    err = np.asarray(err, dtype=float) if err is not None else None
    filled = marker == "^"  # GCV triangles are filled, as in the paper
    text = LABELS.get(name, name) if label else None
    if log:
        ok = np.isfinite(y) & (y > 0)
        yerr = log_error_bars(y[ok], err[ok]) if err is not None else None
        ax.errorbar(x[ok], y[ok], yerr=yerr, fmt=marker, color=color, mfc=color if filled else "none", ms=4,
                    elinewidth=0.8, label=text, gid=f"sim:{name}")
        bad = np.isfinite(y) & (y <= 0)
        if bad.any():
            first = not any((line.get_gid() or "").startswith("nonpositive:") for line in ax.lines)
            ax.plot(x[bad], np.zeros(bad.sum()), ls="none", marker="v", mfc="none", color=color, ms=5,
                    transform=ax.get_xaxis_transform(), clip_on=False, gid=f"nonpositive:{name}",
                    label="estimate ≤ 0 (at the bottom)" if first else None)
    else:
        ax.errorbar(x, y, yerr=err, fmt=marker, color=color, mfc=color if filled else "none", ms=4,
                    elinewidth=0.8, label=text, gid=f"sim:{name}")


def wrapped(text: str, width: int = 70) -> str:
    """A comma-separated parameter line broken into lines of about `width` characters (for narrow figures)."""
    lines, current = [], ""
    for part in text.split(", "):
        candidate = f"{current}, {part}" if current else part
        if current and len(candidate) > width:
            lines.append(current + ",")
            current = part
        else:
            current = candidate
    return "\n".join(lines + [current])


def parameter_line(spec: dict) -> str:
    """The parameters of an experiment, as a figure states them (read from its data file's spec)."""
    parts = [f"D={spec['D']:g}"]
    parts += label_parts(spec.get("spectrum", {}), spec.get("teacher", {}))
    widths = spec.get("widths") or []
    if widths:
        parts.append(f"N={widths[-1]:g}" if len(widths) == 1 else "widths " + "-".join(f"{n:g}" for n in widths))
    ridge = spec.get("ridge")
    power = ridge_power(ridge)
    if power is not None:
        parts.append(rf"$\lambda=P^{{-{power:g}}}$")
    elif ridge is not None:
        parts.append(rf"$\lambda$={ridge:g}")
    parts.append(rf"$\sigma_\epsilon$={spec.get('sigma_eps', 0.0):.3g}")
    if spec.get("sigma_xi"):
        parts.append(rf"$\tilde\sigma_\xi$={spec['sigma_xi'] * np.sqrt(spec['D']):.3g}")
    if "draws" in spec:
        parts.append(f"{spec['draws']}" + (f"x{spec['feature_draws']}" if spec.get("feature_draws") else "") + " draws")
    return ", ".join(parts)


def panels_line(panels) -> str:
    """The title of a figure whose panels draw different experiments, stating only what they show: the
    parameters all of them share (parameter_line), then, per panel label, the parameters that differ.
    `panels`: [(label, spec), ...] in panel order."""
    parts = [parameter_line(spec).split(", ") for _, spec in panels]
    common = [p for p in parts[0] if all(p in q for q in parts[1:])]
    differ = [(label, [p for p in q if p not in common]) for (label, _), q in zip(panels, parts)]
    return "; ".join([", ".join(common)] + [f"{label}: {', '.join(d)}" for label, d in differ if d])


def scale_tag(scale: str | None) -> str:
    """The footnote band's tag of a figure not made at the paper scale (config `scale`), else ''."""
    if scale in (None, "paper"):
        return ""
    return f"{scale} scale: not the paper's parameters (config/config.yaml is the paper scale)"


SCALE_COLOR = "#b34700"  # the scale tag stands out from the grey note
FOOTNOTE_SIZE, PAPER_SIZE = 6.5, 5.5  # points: the note, and the smaller line naming the paper's files
FOOTNOTE_GAP = 0.06  # inches between the lowest drawn artist and the band, and between its lines


def _fill(fig, text, renderer, width_px: float, **kw):
    """A text artist of `text` wrapped (at spaces) to at most width_px pixels, placed later by the caller."""
    import textwrap

    chars = max(20, int(width_px / (0.35 * kw["fontsize"] * fig.dpi / 72)))  # too many; shrunk below
    artist = fig.text(0, 0, text, parse_math=False, **kw)
    while True:
        artist.set_text(textwrap.fill(text, chars, break_on_hyphens=False))
        if artist.get_window_extent(renderer).width <= width_px or chars <= 20:
            return artist
        chars = int(chars * 0.95)


def footnote(fig, note: str, paper: str = "", tag: str = "") -> None:
    """Draw a footnote band under everything the figure draws (axes, legends below them, titles): the scale
    tag (scale_tag) first, in colour, then the note, then the paper's file names smaller, each wrapped within
    the drawn width.  The layout is frozen first so the band cannot move the axes; the saved file's tight
    bounding box grows to include it."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    lines = [(t, size, color) for t, size, color in ((tag, PAPER_SIZE, SCALE_COLOR), (note, FOOTNOTE_SIZE, "0.1"),
                                                     (paper, PAPER_SIZE, "0.35"))
             if t]
    if not lines:
        return
    canvas = FigureCanvasAgg(fig)
    fig.draw_without_rendering()  # runs the layout engine once
    fig.set_layout_engine("none")
    renderer = canvas.get_renderer()
    box = fig.get_tightbbox(renderer)  # inches
    w, h = fig.get_size_inches()
    y = box.y0 - FOOTNOTE_GAP
    for text, size, color in lines:
        # in figure coordinates (not inches): savefig's tight bounding box moves those with the figure
        artist = _fill(fig, text, renderer, box.width * fig.dpi, fontsize=size, color=color, ha="left", va="top",
                       gid="footnote")
        artist.set_position((box.x0 / w, y / h))
        y -= artist.get_window_extent(renderer).height / fig.dpi + FOOTNOTE_GAP
