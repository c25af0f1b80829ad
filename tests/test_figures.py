"""Machine checks of every figure at quick scale, on the matplotlib figure objects: the series each figure
must draw are there by label, every guide the config (or the figure kind) names is drawn with its formula's
slope at the experiment's own parameters, no error bar reaches the floor of a log axis, no two texts overlap
or leave the canvas, no curve hides under another, every panel names both axes, and the smallest text is
legible in the PNG.

Each test is generated only for the figures it has something to check in (derived from the config), and
asserts that it checked at least one item there; the items each figure gets are tallied (`TALLY`) and
printed in the run's summary (conftest.py)."""

import functools
import json
from collections import defaultdict
from itertools import combinations

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.container import ErrorbarContainer
from matplotlib.lines import Line2D
from PIL import Image

from ridgerenorm import config as cfg
from ridgerenorm import io, theory
from ridgerenorm.plotting import FIGURE_KINDS, PNG_DPI, draw
from ridgerenorm.plotting.guides import GUIDES, parameters
from ridgerenorm.plotting.params import _grid

from test_pipeline import ROOT

pytestmark = pytest.mark.pipeline
CONFIG = cfg.load_config(ROOT / "config" / "config.yaml", ROOT / "config" / "quick.yaml")
FIGURES = CONFIG["figures"]
SMALLEST_POINTS = 6.5  # smallest font size (pt) any figure may use
SMALLEST_PIXELS = 18.0  # ... and its height in the PNG: 6.5 pt at 200 dpi

# figures that plot an experiment: theory lines and simulated markers with error bars, on log axes
SIMULATED = sorted(f for f, c in FIGURES.items() if c.get("experiments"))
# figures with data axes (experiments, or params of a map or a random-matrix figure; the Venn schematics have neither)
WITH_AXES = sorted(f for f, c in FIGURES.items() if c.get("experiments") or c.get("params"))
def configured_guides(fid) -> set:
    """The guide formulas of a figure: those its config params name (references, param_references) and
    those its kind draws on its own (its registry entry's `guides`: formula names, or the prefix of C7's
    gids)."""
    params = FIGURES[fid].get("params") or {}
    named = {ref["formula"] for key in ("references", "param_references") for ref in params.get(key, [])}
    return named | set(FIGURE_KINDS[FIGURES[fid]["kind"]].guides)


GUIDED = sorted(f for f in FIGURES if configured_guides(f))
# figures with two curves or more in one panel: every simulated figure, and the spectra of several q
SEVERAL_CURVES = sorted(set(SIMULATED) | {f for f, c in FIGURES.items()
                                          if "q" in (c.get("params") or {}) and _grid(c["params"]["q"]).size > 1})

TALLY = defaultdict(dict)  # figure -> {test: items checked}


def tally(test: str, fid: str, n: int) -> None:
    """Record how many items `test` checked in figure `fid`, and fail when it checked none."""
    TALLY[fid][test] = n
    assert n > 0, f"{fid}: {test} found nothing to check"


def tally_table() -> list[str]:
    """The items each test checked in each figure, as table lines (conftest prints them after the run)."""
    tests = sorted({t for row in TALLY.values() for t in row})
    if not tests:
        return []
    keys = {t: chr(97 + i) for i, t in enumerate(tests)}
    lines = ["items checked per figure: " + ", ".join(f"{k} = {t}" for t, k in keys.items()),
             "fig   " + " ".join(f"{k:>5}" for k in keys.values()) + "   total"]
    for fid in sorted(TALLY):
        row = [TALLY[fid].get(t) for t in tests]
        lines.append(f"{fid:<5} " + " ".join(f"{'-' if n is None else n:>5}" for n in row)
                     + f"   {sum(n or 0 for n in row):>5}")
    return lines


@functools.cache
def build(fid):
    """The figure object of `fid`, from the quick-scale results (what `ridgerenorm figure` draws)."""
    results = ROOT / "results" / "quick"
    fig_cfg = dict(FIGURES[fid], id=fid)
    kind = FIGURE_KINDS[fig_cfg["kind"]]
    if kind.builder:
        data = {"data": [io.read_dataset(results / "spectra_data" / f"{fid}.nc")]}
    else:
        data = {role: [io.read_dataset(results / sub / f"{exp}.nc") for sub in ("simulation", "theory")]
                for role, exp in fig_cfg.get("experiments", {}).items()}
    fig = draw(fig_cfg, data)
    FigureCanvasAgg(fig).draw()  # lay out (constrained layout) before reading positions
    return fig, data


def drawn_texts(fig):
    """Every text the figure draws: titles, axis and tick labels (ticks inside the view only), legends,
    annotations and figure texts."""
    found = list(fig.texts) + ([fig._suptitle] if fig._suptitle else [])
    for leg in fig.legends:
        found += list(leg.get_texts()) + [leg.get_title()]
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        found += [ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label] + list(ax.texts)
        leg = ax.get_legend()
        if leg is not None:
            found += list(leg.get_texts()) + [leg.get_title()]
        if not ax.axison:
            continue
        for axis in (ax.xaxis, ax.yaxis):
            lo, hi = sorted(axis.get_view_interval())
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                if lo - 1e-12 * abs(hi) <= tick.get_loc() <= hi + 1e-12 * abs(hi):
                    found += [tick.label1, tick.label2]
    unique = list({id(t): t for t in found}.values())
    return [t for t in unique if t.get_visible() and t.get_text().strip()]


def texts(fig):
    """(text, extent in display pixels) of every drawn text."""
    renderer = fig.canvas.get_renderer()
    return [(t.get_text(), t.get_window_extent(renderer)) for t in drawn_texts(fig)]


@pytest.mark.parametrize("fid", sorted(FIGURES))
def test_no_text_overlaps_or_leaves_the_canvas(quick, fid):
    fig, _ = build(fid)
    boxes = texts(fig)
    canvas = fig.bbox
    for text, box in boxes:
        assert (box.x0 >= canvas.x0 - 1 and box.x1 <= canvas.x1 + 1 and box.y0 >= canvas.y0 - 1
                and box.y1 <= canvas.y1 + 1), f"{fid}: {text!r} leaves the canvas"
    for (ta, a), (tb, b) in combinations(boxes, 2):
        overlap = max(0.0, min(a.x1, b.x1) - max(a.x0, b.x0)) * max(0.0, min(a.y1, b.y1) - max(a.y0, b.y0))
        assert overlap <= 0.05 * min(a.width * a.height, b.width * b.height) + 1.0, f"{fid}: {ta!r} overlaps {tb!r}"
    tally("texts", fid, len(boxes))


def vline_labels(fig):
    """(text, extent) of the labels of vertical markers: annotations placed in data x and axes-fraction y."""
    renderer = fig.canvas.get_renderer()
    return [(t.get_text(), t.get_window_extent(renderer)) for ax in fig.axes for t in ax.texts
            if getattr(t, "xycoords", None) == ("data", "axes fraction") and t.get_text()]


@pytest.mark.parametrize("fid", sorted(f for f in FIGURES if (FIGURES[f].get("params") or {}).get("vlines")))
def test_marker_labels_keep_clear_of_lines_and_each_other(quick, fid):
    """A vertical marker's label sits beside its own line and crosses no other marker line (C8: the width
    crossover's label ran into the line at N and read as N = 31.5)."""
    fig, _ = build(fid)
    labels = vline_labels(fig)
    checked = 0
    for ax in fig.axes:
        xs = [ax.transData.transform((line.get_xdata()[0], 0))[0] for line in ax.lines if line.get_gid() == "vline"]
        for text, box in labels:
            if not ax.bbox.overlaps(box):
                continue
            for x in xs:
                inside = box.x0 + 0.5 < x < box.x1 - 0.5
                assert not inside, f"{fid}: the marker label {text!r} crosses the marker line at x = {x:.0f} px"
                checked += 1
    for (ta, a), (tb, b) in combinations(labels, 2):
        assert not a.overlaps(b), f"{fid}: marker labels {ta!r} and {tb!r} overlap"
    tally("vline labels", fid, checked)


@pytest.mark.parametrize("fid", SIMULATED)
def test_no_error_bar_reaches_the_floor_of_a_log_axis(quick, fid):
    fig, _ = build(fid)
    checked = 0
    for ax in fig.axes:
        if ax.get_yscale() != "log":
            continue
        for c in ax.containers:
            if isinstance(c, ErrorbarContainer) and c.has_yerr:
                lows = [min(s[:, 1]) for col in c.lines[2] for s in col.get_segments() if len(s)]
                assert all(low > 0 for low in lows), (fid, c.get_label(), min(lows))
                checked += len(lows)
    tally("error bars", fid, checked)


def guide_name(gid: str) -> str | None:
    if gid.startswith("guide:"):
        return gid.removeprefix("guide:").split("@")[0]
    if gid.startswith("width-guide:"):
        return "width-guide"
    return None


@pytest.mark.parametrize("fid", GUIDED)
def test_guides_follow_their_formula_at_the_experiments_parameters(quick, fid):
    """Every guide the config names is drawn, none other, each with its formula's slope; the grey guides of
    one panel differ in their dash pattern."""
    fig, data = build(fid)
    specs = {json.loads(th.attrs["spec"])["name"]: json.loads(th.attrs["spec"]) for _, th in data.values()}
    drawn = []
    for ax in fig.axes:
        styles = [dashes(line) for line in ax.lines if (line.get_gid() or "").startswith("guide:")]
        assert len(set(styles)) == len(styles), f"{fid}: two grey guides of one panel share a dash pattern"
        for line in ax.lines:
            gid = line.get_gid() or ""
            name = guide_name(gid)
            if name is None:
                continue
            x, y = np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)
            assert x.size > 1, (fid, gid)
            slope = np.diff(np.log(y)) / np.diff(np.log(x))
            if name == "width-guide":
                want = -theory.finite_width_exponent(float(gid.removeprefix("width-guide:")))
            else:
                want = GUIDES[name].exponent(parameters(specs[gid.split("@")[1]]))
                assert line.get_label() and not line.get_label().startswith("_"), (fid, gid)
            np.testing.assert_allclose(slope, want, rtol=1e-9, atol=1e-12, err_msg=f"{fid} {gid}")
            drawn.append(name)
    assert set(drawn) == configured_guides(fid), fid
    tally("guides", fid, len(drawn))


def dashes(line) -> tuple:
    """The dash pattern a line is drawn with (None: solid), in units of its width."""
    offset, pattern = line._unscaled_dash_pattern  # matplotlib keeps no public getter
    return None if pattern is None else tuple(np.round(pattern, 6))


def hidden_fraction(lower, upper, ax) -> float:
    """Fraction of the points of `lower` at which `upper` (on top) lies within 5 % of it: log-log interpolation
    of `upper` on a log x axis, linear in x otherwise."""
    (xl, yl), (xu, yu) = ([np.asarray(v, float) for v in line.get_data()] for line in (lower, upper))
    keep_l, keep_u = (np.isfinite(x) & np.isfinite(y) & (y > 0) for x, y in ((xl, yl), (xu, yu)))
    xl, yl, xu, yu = xl[keep_l], yl[keep_l], xu[keep_u], yu[keep_u]
    if xl.size < 2 or xu.size < 2:
        return 0.0
    if ax.get_xscale() == "log":
        xl, xu = np.log(xl), np.log(xu)
    order = np.argsort(xu)
    at = np.exp(np.interp(xl, xu[order], np.log(yu[order]), left=np.nan, right=np.nan))
    return float(np.mean(np.abs(at / yl - 1.0) <= 0.05))


def legend_keys(fig, line):
    """The line keys of the figure's legends drawn for `line`: its colour and label, or its colour alone when
    the line has no label (legends of proxy keys, one per colour, as in A2 and A3)."""
    legends = list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    mine = line.get_label()
    return [key for leg in legends for key, text in zip(leg.legend_handles, leg.get_texts())
            if isinstance(key, Line2D) and key.get_linestyle() != "None" and key.get_color() == line.get_color()
            and (mine.startswith("_") or text.get_text() == mine)]


@pytest.mark.parametrize("fid", SEVERAL_CURVES)
def test_no_curve_hides_under_another_without_a_dash(quick, fid):
    """A line within 5 % of a line below it (zorder, then drawing order) at a quarter of that line's points or
    more hides it there: it must be drawn with a dash pattern, and not the one of the line it covers."""
    fig, _ = build(fid)
    pairs = 0
    for ax in fig.axes:
        lines = [(line.get_zorder(), k, line) for k, line in enumerate(ax.lines)
                 if line.get_linestyle() not in ("None", "none", "") and len(line.get_xdata()) > 1
                 and np.ptp(np.asarray(line.get_xdata(), float)) > 0]
        lines = [line for *_, line in sorted(lines, key=lambda t: t[:2])]
        for i, upper in enumerate(lines):
            for lower in lines[:i]:
                pairs += 1
                if hidden_fraction(lower, upper, ax) >= 0.25:
                    who = (f"{fid}: {upper.get_label()!r} ({upper.get_gid()}) hides {lower.get_label()!r} "
                           f"({lower.get_gid()})")
                    assert dashes(upper) is not None, who + " and is solid"
                    assert dashes(upper) != dashes(lower), who + " with the same dash pattern"
                    for key in legend_keys(fig, upper):
                        assert dashes(key) == dashes(upper), who + ": its legend key is drawn in another pattern"
    tally("curve pairs", fid, pairs)


@pytest.mark.parametrize("fid", WITH_AXES)
def test_every_panel_names_both_axes(quick, fid):
    fig, _ = build(fid)
    panels = [ax for ax in fig.axes if ax.get_visible() and ax.axison
              and (ax.lines or ax.collections or ax.images or ax.patches or ax.containers)]
    for ax in panels:
        title = ax.get_title(loc="left") or ax.get_title()
        assert ax.get_xlabel().strip(), f"{fid} {title}: no x label"
        assert ax.get_ylabel().strip(), f"{fid} {title}: no y label"
    tally("axis labels", fid, 2 * len(panels))


@pytest.mark.parametrize("fid", sorted(FIGURES))
def test_smallest_text_is_legible_in_the_png(quick, fid):
    """Every text is at least SMALLEST_POINTS, and the PNG is written at a resolution that makes it
    SMALLEST_PIXELS high."""
    fig, _ = build(fid)
    sizes = [t.get_fontsize() for t in drawn_texts(fig)]
    small = [(t.get_text(), t.get_fontsize()) for t in drawn_texts(fig) if t.get_fontsize() < SMALLEST_POINTS]
    assert not small, f"{fid}: texts below {SMALLEST_POINTS} pt: {small[:5]}"
    (png,) = (ROOT / "results" / "quick" / "figures").glob(f"{fid}_*.png")
    dpi = Image.open(png).info["dpi"]
    assert round(dpi[0]) == round(dpi[1]) == PNG_DPI, (fid, dpi)
    assert min(sizes) * PNG_DPI / 72 >= SMALLEST_PIXELS, (fid, min(sizes), PNG_DPI)
    tally("font sizes", fid, len(sizes))


def legend_texts(fig):
    out = set()
    for leg in [ax.get_legend() for ax in fig.axes] + list(fig.legends):
        if leg is not None:
            out |= {t.get_text() for t in leg.get_texts()}
    return out


@pytest.mark.parametrize("fid", SIMULATED)
def test_every_series_is_in_a_legend(quick, fid):
    """Each theory line and guide carries a label that a legend of the figure shows."""
    fig, _ = build(fid)
    shown = legend_texts(fig)
    labels = set()
    for ax in fig.axes:
        for line in ax.lines:
            if (line.get_gid() or "").startswith(("theory:", "guide:")):
                labels.add(line.get_label())
    missing = {lab for lab in labels if lab not in shown}
    # panels of one figure share a legend: a label shown once anywhere counts
    assert not missing, (fid, missing)
    tally("legend labels", fid, len(labels))
