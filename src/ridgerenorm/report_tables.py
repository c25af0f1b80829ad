"""HTML renderings of the run's tables for the Snakemake report, which shows an HTML result in its viewer
(a CSV or a Markdown file would only be offered as a download or shown as raw text).

The CSV (agreement.csv) and the Markdown (benchmark_summary.md) stay the files for users; these pages are
written next to them, from the same content.  Standard library only.
"""

from __future__ import annotations

import csv
import html
import math
import re
from pathlib import Path

from .io import atomic_path

__all__ = ["agreement_html", "markdown_html", "page", "table"]

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; font-size: 14px; margin: 1.5em; color: #1e293b; }
h1 { font-size: 1.3em; } h2 { font-size: 1.1em; margin-top: 1.5em; }
table { border-collapse: collapse; margin: 0.8em 0; }
th, td { border: 1px solid #cbd5e1; padding: 0.25em 0.6em; }
th { background: #f1f5f9; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr:nth-child(even) td { background: #f8fafc; }
td.warn { background: #fef3c7 !important; }
pre { background: #f1f5f9; padding: 0.6em; white-space: pre-wrap; }
"""


def page(title: str, body: str) -> str:
    """A self-contained HTML page (inline style, no scripts)."""
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{_STYLE}</style></head>\n<body>\n<h1>{html.escape(title)}</h1>\n{body}\n</body></html>\n")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def table(header: list[str], rows: list[list[str]], numeric: list[bool] | None = None,
          warn: list[list[bool]] | None = None) -> str:
    """An HTML <table>; `numeric` right-aligns columns, `warn` highlights cells."""
    numeric = numeric or [all(_is_number(r[i]) for r in rows if r[i] not in ("", "-", "–")) and bool(rows)
                          for i in range(len(header))]
    out = ["<table>", "<thead><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr></thead>",
           "<tbody>"]
    for i, row in enumerate(rows):
        cells = []
        for j, cell in enumerate(row):
            cls = " ".join(c for c in ("num" if numeric[j] else "", "warn" if warn and warn[i][j] else "") if c)
            cells.append(f'<td class="{cls}">{html.escape(cell)}</td>' if cls else f"<td>{html.escape(cell)}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def _fmt(text: str, pct: bool = False) -> str:
    v = float(text)
    if not math.isfinite(v):
        return "–"
    return f"{100 * v:.3g} %" if pct else f"{v:.3g}"


def agreement_html(csv_path, out_path, scale: str | None = None) -> None:
    """agreement.csv as an HTML table: relative deviations in percent, chi-squared per point above 3 marked."""
    with open(csv_path, newline="") as f:
        rows = list(csv.DictReader(f))
    header = ["experiment", "quantity", "theory quantity", "points", "median rel. dev.", "max rel. dev.",
              "median |dev|/SE", "χ²/point"]
    body, warn = [], []
    for r in rows:
        chi2 = float(r["chi2_per_point"])
        body.append([r["experiment"], r["quantity"], r["theory_quantity"], r["n_points"],
                     _fmt(r["median_rel_dev"], True), _fmt(r["max_rel_dev"], True),
                     _fmt(r["median_abs_dev_over_se"]), _fmt(r["chi2_per_point"])])
        warn.append([False] * 7 + [math.isfinite(chi2) and chi2 > 3])
    numeric = [False, False, False, True, True, True, True, True]
    intro = ("<p>Simulation against theory, one row per experiment and quantity, the theory evaluated at the "
             "simulated points. Relative deviation: |sim − theory| / |theory|. χ²/point uses the simulation's "
             "standard errors: about 1 when the theory holds within them (cells above 3 are shaded). "
             "The same numbers, unrounded: <code>agreement.csv</code>.</p>")
    if scale:
        intro = f"<p>Scale: <b>{html.escape(scale)}</b>.</p>\n" + intro
    with atomic_path(out_path) as tmp:
        Path(tmp).write_text(page("Simulation vs theory: agreement", intro + "\n" + table(header, body, numeric, warn)))


_SEPARATOR = re.compile(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def markdown_html(text: str, title: str) -> str:
    """The subset of Markdown benchmarks/summary.py writes (headings, pipe tables, paragraphs, a JSON line)
    as an HTML page."""
    lines = text.splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i].rstrip()
        if not line.strip():
            i += 1
        elif line.startswith("|") and i + 1 < len(lines) and _SEPARATOR.match(lines[i + 1].strip()):
            header = _cells(line)
            numeric = [c.strip().endswith(":") for c in _cells(lines[i + 1])]
            rows = []
            i += 2
            while i < len(lines) and lines[i].startswith("|"):
                rows.append(_cells(lines[i]))
                i += 1
            out.append(table(header, rows, numeric))
        elif line.startswith("#"):
            level = min(len(line) - len(line.lstrip("#")) + 1, 6)
            out.append(f"<h{level}>{html.escape(line.lstrip('#').strip())}</h{level}>")
            i += 1
        elif line.lstrip().startswith(("{", "[")):
            out.append(f"<pre>{html.escape(line)}</pre>")
            i += 1
        else:
            para = [line]
            i += 1
            while i < len(lines) and lines[i].strip() and not lines[i].startswith(("|", "#", "{")):
                para.append(lines[i].rstrip())
                i += 1
            out.append(f"<p>{html.escape(' '.join(para))}</p>")
    return page(title, "\n".join(out))
