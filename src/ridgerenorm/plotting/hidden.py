"""No curve hides under another: the one rule every figure shares, applied to the finished figure.

Two curves within COINCIDE (5 %) of each other look like one line on a log axis; the one drawn later covers
the earlier one there.  `dash_hidden_lines` finds, on every panel, each line that runs within COINCIDE of a
line below it (lower in the stacking order: zorder, then drawing order) at SHARE (a quarter) of either one's
points or more, and draws the upper one with a dash pattern that none of the lines it covers has, so both
colours show: Bias^2 under Var_F in C2 for P/D > 1, E_g under Var_Xeps in B2 (c) and (d), gamma_2 under
gamma_1 in C4 and C5, and for P below about 10 in D4 and D5 (a third of their range: a stretch that long
hides a curve from the reader, which a rule of half the points missed).  Markers-only series and vertical
markers are not curves here.
"""

from __future__ import annotations

import numpy as np
from matplotlib.lines import Line2D

__all__ = ["COINCIDE", "SHARE", "HIDDEN_DASHES", "curves", "dash_pattern", "covers", "legend_keys_of",
           "dash_hidden_lines"]

COINCIDE = 0.05
SHARE = 0.25
# patterns for a line drawn on top of others, tried in order: the first one that no covered line has
HIDDEN_DASHES = ((0, (4.0, 2.0)), (0, (1.2, 1.8)), (0, (7.0, 1.5, 1.2, 1.5)), (0, (2.5, 1.0, 2.5, 3.0)))


def dash_pattern(line) -> tuple:
    """The line's dash pattern as drawn, in units of its width: (offset, None) for a solid line."""
    offset, dashes = line._unscaled_dash_pattern  # noqa: SLF001 (matplotlib keeps no public getter)
    return (float(offset), None if dashes is None else tuple(float(d) for d in dashes))


def curves(ax) -> list:
    """The panel's curves in stacking order: lines drawn with a line style, at least two finite points and
    a varying x (a vertical marker is not a curve)."""
    found = []
    for k, line in enumerate(ax.lines):
        if not line.get_visible() or line.get_linestyle() in ("None", "none", " ", ""):
            continue
        x, y = (np.asarray(v, dtype=float) for v in line.get_data())
        ok = np.isfinite(x) & np.isfinite(y)
        if ok.sum() < 2 or np.ptp(x[ok]) == 0 or (np.ptp(y[ok]) == 0 and y[ok][0] == 0):
            continue
        found.append((line.get_zorder(), k, line))
    return [line for _, _, line in sorted(found, key=lambda t: t[:2])]


def _close_fraction(a, b, logx: bool) -> float:
    """Fraction of the points of line `a` (positive y) at which line `b` is within COINCIDE of it."""
    xa, ya = (np.asarray(v, dtype=float) for v in a.get_data())
    xb, yb = (np.asarray(v, dtype=float) for v in b.get_data())
    oka = np.isfinite(xa) & np.isfinite(ya) & (ya > 0) & ((xa > 0) if logx else True)
    okb = np.isfinite(xb) & np.isfinite(yb) & (yb > 0) & ((xb > 0) if logx else True)
    if oka.sum() < 2 or okb.sum() < 2:
        return 0.0
    fx = np.log if logx else (lambda v: v)
    xa, ya, xb, yb = fx(xa[oka]), ya[oka], fx(xb[okb]), yb[okb]
    order = np.argsort(xb)
    xb, yb = xb[order], yb[order]
    inside = (xa >= xb[0]) & (xa <= xb[-1])
    yb_at = np.exp(np.interp(xa, xb, np.log(yb)))
    return float(np.mean(inside & (np.abs(np.log(ya / yb_at)) < np.log1p(COINCIDE))))


def covers(lower, upper, ax) -> bool:
    """Whether `upper` runs within COINCIDE of `lower` at SHARE of the points of either one or more."""
    logx = ax.get_xscale() == "log"
    return max(_close_fraction(lower, upper, logx), _close_fraction(upper, lower, logx)) >= SHARE


def _legend_keys(fig):
    """(legend key, its text) of every legend of the figure."""
    legends = list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    return [(key, text.get_text()) for leg in legends for key, text in zip(leg.legend_handles, leg.get_texts())]


def legend_keys_of(line, keys) -> list:
    """The legend keys (of `keys`, from _legend_keys) drawn for `line`: line keys of its colour and its label,
    or of its colour alone when the line has no label of its own (a legend of proxy keys, as in A2 and A3)."""
    unlabelled = line.get_label().startswith("_")
    return [key for key, text in keys if isinstance(key, Line2D) and key.get_linestyle() != "None"
            and key.get_color() == line.get_color() and (unlabelled or text == line.get_label())]


def dash_hidden_lines(fig) -> int:
    """Give every line that covers a line below it a dash pattern none of the covered lines has, in the
    panel and in the legend keys drawn for it; returns how many lines it changed."""
    changed = []
    for ax in fig.axes:
        below = []
        for line in curves(ax):
            covered = {dash_pattern(other) for other in below if covers(other, line, ax)}
            if covered and (dash_pattern(line)[1] is None or dash_pattern(line) in covered):
                for pattern in HIDDEN_DASHES:
                    line.set_linestyle(pattern)
                    if dash_pattern(line) not in covered:
                        break
                changed.append(line)
            below.append(line)
    keys = _legend_keys(fig) if changed else []
    for line in changed:
        for key in legend_keys_of(line, keys):
            key.set_linestyle(dash_pattern(line))
    return len(changed)
