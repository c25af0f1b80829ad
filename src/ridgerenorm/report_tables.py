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
from .verdicts import CHI2_FLAG, REL_CLOSE, REL_LOOSE, Z_BULK, figure_verdict, row_status, verdict_counts

__all__ = ["agreement_html", "markdown_html", "page", "read_figure_entries", "table"]

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
    """A number as the tables show it: 3 significant digits (per cent with `pct`); from 1000 on a short
    exponent (1.45e4 %), so a column stays narrow; "–" when it is not finite."""
    v = float(text)
    if not math.isfinite(v):
        return "–"
    x = 100 * v if pct else v
    shown = f"{x:.3g}"
    if "e" in shown:  # 1.45e+04 -> 1.45e4
        mantissa, exponent = shown.split("e")
        shown = f"{mantissa}e{int(exponent)}"
    return f"{shown} %" if pct else shown


# The agreement page sits in the report's viewer beside Snakemake's sidebar: about 640 px at a 1280-px window.
# Its tables are narrow enough for that (tests/test_report.py measures it in Chromium).
_AGREEMENT_STYLE = """
<style>
body { font-size: 12px; margin: 0.5em; }
th, td { padding: 0.1em 0.25em; }
th { font-weight: 600; vertical-align: bottom; }
table { font-size: 11.5px; }
td.exp { vertical-align: top; }
td.exp, td.q, td.st { white-space: nowrap; }
tr.large-errors td.st { background: #e0f2fe !important; }
tr.points-off td.st { background: #fef3c7 !important; }
tr.departs td.st { background: #fecaca !important; }
td.verdict { font-weight: 600; }
td.worst { font-size: 11px; color: #475569; }
</style>
"""


def _rows_table(rows: list[dict]) -> str:
    """The agreement rows, grouped by experiment (its name once, over its rows), one quantity a line as
    "sim → theory" when the two names differ, with each row's status (verdicts.row_status)."""
    header = ("<thead><tr><th>experiment</th><th>quantity</th><th>n</th><th>median<br>rel. dev.</th>"
              "<th>max<br>rel. dev.</th><th>median<br>|dev|/SE</th><th>χ²/<br>point</th><th>status</th></tr></thead>")
    out = ["<table>", header, "<tbody>"]
    groups: dict[str, list[dict]] = {}
    for r in rows:
        groups.setdefault(r["experiment"], []).append(r)
    for exp, members in groups.items():
        for i, r in enumerate(members):
            status = row_status(r)
            q = r["quantity"] if r["quantity"] == r["theory_quantity"] else f"{r['quantity']}\u2009→\u2009{r['theory_quantity']}"
            cells = []
            if i == 0:
                span = f' rowspan="{len(members)}" class="exp"' if len(members) > 1 else ""
                cells.append(f"<td{span}>{html.escape(exp)}</td>")
            cells.append(f'<td class="q">{html.escape(q)}</td>')
            cells.append(f'<td class="num">{html.escape(r["n_points"])}</td>')
            for key, pct in (("median_rel_dev", True), ("max_rel_dev", True), ("median_abs_dev_over_se", False),
                             ("chi2_per_point", False)):
                cells.append(f'<td class="num">{html.escape(_fmt(r[key], pct))}</td>')
            cells.append(f'<td class="st">{html.escape(status)}</td>')
            css = status.replace(" ", "-")
            out.append(f'<tr class="{css}">' + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def _verdicts_html(figures: dict, rows: list[dict]) -> str:
    """The overall line (figures per verdict) and the table of figure verdicts (verdicts.figure_verdict)."""
    verdicts = {fid: figure_verdict(entry, rows) for fid, entry in figures.items()}
    counts = "; ".join(f"{html.escape(text)}: <b>{n}</b>" for text, n in verdict_counts(verdicts.values()))
    out = [f'<p class="overall"><b>Overall, {len(verdicts)} figures:</b> {counts}.</p>',
           "<table>", "<thead><tr><th>figure</th><th>name</th><th>verdict</th><th>worst quantity</th></tr></thead>",
           "<tbody>"]
    for fid, v in verdicts.items():
        out.append(f'<tr><td>{html.escape(fid)}</td><td>{html.escape(figures[fid]["name"])}</td>'
                   f'<td class="verdict">{html.escape(v.text)}</td><td class="worst">{html.escape(v.worst_words())}</td></tr>')
    out.append("</tbody></table>")
    return "\n".join(out)


_RULE_WORDS = (
    "<p>How a verdict is reached (<code>ridgerenorm.verdicts</code>): a row <i>agrees</i> when its median point "
    f"lies within {Z_BULK:g} standard errors (SE) of the theory and χ²/point is at most {CHI2_FLAG:g}, or when "
    f"every point is within {100 * REL_CLOSE:g} %; it has <i>large errors</i> when it agrees so but its median "
    f"relative deviation exceeds {100 * REL_LOOSE:g} %; <i>points off</i> when the median point agrees and "
    f"χ²/point exceeds {CHI2_FLAG:g}; it <i>departs</i> when the median point lies more than {Z_BULK:g} SE and "
    f"{100 * REL_CLOSE:g} % away. A figure takes its worst row; \"(see note)\" when the figure's note explains "
    "every such row. The points of one curve share their draws (docs/agreement.md): one fluctuation of a few "
    "draws moves many points at once, so χ²/point only flags, it never decides a departure.</p>"
)


def agreement_html(csv_path, out_path, scale: str | None = None, figures: dict | None = None) -> None:
    """agreement.csv as an HTML page: with `figures` (id -> verdicts.figure_entry), first the overall verdict
    and one verdict per figure; then every row, relative deviations in per cent, with its status."""
    with open(csv_path, newline="") as f:
        rows = list(csv.DictReader(f))
    parts = []
    if scale:
        parts.append(f"<p>Scale: <b>{html.escape(scale)}</b>.</p>")
    if figures:
        parts += ["<h2>Verdict per figure</h2>", _verdicts_html(figures, rows), _RULE_WORDS]
    parts += ["<h2>Every experiment and quantity</h2>",
              "<p>The theory evaluated at the simulated points (n of them). Relative deviation: "
              "|sim − theory| / |theory|. χ²/point uses the simulation's standard errors: about 1 when the theory "
              "holds within them. The same numbers, unrounded: <code>agreement.csv</code>.</p>",
              _rows_table(rows)]
    with atomic_path(out_path) as tmp:
        Path(tmp).write_text(page("Simulation vs theory: agreement", _AGREEMENT_STYLE + "\n".join(parts)))


def read_figure_entries(path) -> dict:
    """The agreement step's figure file: JSON, figure id -> verdicts.figure_entry; one line naming the file if
    it cannot be read."""
    import json

    try:
        entries = json.loads(Path(path).read_text())
    except (OSError, ValueError) as err:
        raise SystemExit(f"error: --figures {path}: {err}")
    if not isinstance(entries, dict):
        raise SystemExit(f"error: --figures {path}: not a JSON object of figure id -> entry")
    return entries


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

