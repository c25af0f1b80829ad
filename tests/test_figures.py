"""Machine checks of every figure at quick scale, on the matplotlib figure objects: the series each figure
must draw are there by label, every guide's slope is its formula at the experiment's own parameters, no
error bar reaches the floor of a log axis, and no two texts overlap or leave the canvas."""

import json
from itertools import combinations

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.container import ErrorbarContainer

from ridgerenorm import config as cfg
from ridgerenorm import io, theory
from ridgerenorm.plotting import FIGURE_KINDS
from ridgerenorm.plotting.guides import GUIDES, parameters
from ridgerenorm.plotting.style import apply_style

from test_pipeline import ROOT

pytestmark = pytest.mark.pipeline
CONFIG = cfg.load_config(ROOT / "config" / "config.yaml", ROOT / "config" / "quick.yaml")


def build(fid):
    """The figure object of `fid`, from the quick-scale results (what `ridgerenorm figure` draws)."""
    results = ROOT / "results" / "quick"
    fig_cfg = dict(CONFIG["figures"][fid], id=fid)
    kind = FIGURE_KINDS[fig_cfg["kind"]]
    if kind.builder:
        data = {"data": [io.read_dataset(results / "spectra_data" / f"{fid}.nc")]}
    else:
        data = {role: [io.read_dataset(results / sub / f"{exp}.nc") for sub in ("simulation", "theory")]
                for role, exp in fig_cfg.get("experiments", {}).items()}
    apply_style()
    fig = kind.plot()(fig_cfg, data)
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


@pytest.mark.parametrize("fid", sorted(CONFIG["figures"]))
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


@pytest.mark.parametrize("fid", sorted(CONFIG["figures"]))
def test_no_error_bar_reaches_the_floor_of_a_log_axis(quick, fid):
    fig, _ = build(fid)
    for ax in fig.axes:
        if ax.get_yscale() != "log":
            continue
        for c in ax.containers:
            if isinstance(c, ErrorbarContainer) and c.has_yerr:
                for segments in (col.get_segments() for col in c.lines[2]):
                    lows = [min(s[:, 1]) for s in segments if len(s)]
                    assert all(low > 0 for low in lows), (fid, c.get_label(), min(lows))


@pytest.mark.parametrize("fid", sorted(CONFIG["figures"]))
def test_guides_follow_their_formula_at_the_experiments_parameters(quick, fid):
    fig, data = build(fid)
    specs = {json.loads(th.attrs["spec"])["name"]: json.loads(th.attrs["spec"]) for _, th in data.values()
             if "spec" in th.attrs} if not FIGURE_KINDS[CONFIG["figures"][fid]["kind"]].builder else {}
    for ax in fig.axes:
        for line in ax.lines:
            gid = line.get_gid() or ""
            x, y = np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)
            slope = np.diff(np.log(y)) / np.diff(np.log(x)) if x.size > 1 else np.array([])
            if gid.startswith("guide:"):
                name, exp = gid.removeprefix("guide:").split("@")
                want = GUIDES[name].exponent(parameters(specs[exp]))
                np.testing.assert_allclose(slope, want, rtol=1e-9, atol=1e-12, err_msg=f"{fid} {gid}")
                assert line.get_label() and not line.get_label().startswith("_"), (fid, gid)
            elif gid.startswith("width-guide:"):
                want = -theory.finite_width_exponent(float(gid.removeprefix("width-guide:")))
                np.testing.assert_allclose(slope, want, rtol=1e-9, atol=1e-12, err_msg=f"{fid} {gid}")


def legend_texts(fig):
    out = set()
    for leg in [ax.get_legend() for ax in fig.axes] + list(fig.legends):
        if leg is not None:
            out |= {t.get_text() for t in leg.get_texts()}
    return out


@pytest.mark.parametrize("fid", sorted(CONFIG["figures"]))
def test_every_series_is_in_a_legend(quick, fid):
    """Each theory line and simulation series carries a label that a legend of the figure shows."""
    fig, _ = build(fid)
    shown = legend_texts(fig)
    kind = CONFIG["figures"][fid]["kind"]
    if kind in ("lr_venn", "rf_venn", "rf_phase") or FIGURE_KINDS[kind].builder:
        return  # schematics and maps draw no series; the spectra figures build their legends by q
    labels = set()
    for ax in fig.axes:
        for line in ax.lines:
            if (line.get_gid() or "").startswith(("theory:", "guide:")):
                labels.add(line.get_label())
    assert labels, fid
    missing = {lab for lab in labels if lab not in shown}
    # panels of one figure share a legend: a label shown once anywhere counts
    assert not missing, (fid, missing)
