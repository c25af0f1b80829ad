"""`ridgerenorm summary`: the lines a finished run ends with (the Snakefile's onsuccess calls it).

    ridgerenorm summary results/quick --since 1764900000 --configfile config/quick.yaml

It says which figures exist and where (and how many this run wrote, from their times against --since), the
worst rows of agreement.csv by chi-squared per point, and the command that builds the browsable report.
It reads files only; a missing agreement table or figure folder is said in words, never an error.
"""

from __future__ import annotations

import csv
import math
import shlex
from pathlib import Path

__all__ = ["worst_rows", "summary_lines", "main"]

WORST = 3  # agreement rows shown


def worst_rows(csv_path, n: int = WORST) -> list[dict]:
    """The n rows of an agreement table with the largest chi-squared per point (ties: larger median relative
    deviation first); rows whose chi-squared is not a number come last."""
    with open(csv_path, newline="") as f:
        rows = list(csv.DictReader(f))

    def key(row):
        chi2, med = _number(row.get("chi2_per_point")), _number(row.get("median_rel_dev"))
        return (-chi2 if math.isfinite(chi2) else math.inf, -med if math.isfinite(med) else math.inf)

    return sorted(rows, key=key)[:n]


def _number(text) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return math.nan


def _shown(path) -> str:
    """A path as a user would type it here: relative to the current folder when inside it (Snakemake passes
    its --configfile paths absolute)."""
    p = Path(path)
    if p.is_absolute() and p.is_relative_to(Path.cwd()):
        return str(p.relative_to(Path.cwd()))
    return str(p)


def summary_lines(results_dir, since: float | None = None, configfiles=()) -> list[str]:
    R = Path(results_dir)
    figures = R / "figures"
    pngs = sorted(figures.glob("*.png")) if figures.is_dir() else []
    lines = []
    if pngs:
        fresh = [p for p in pngs if since is not None and p.stat().st_mtime >= since]
        new = f", {len(fresh)} written by this run" if since is not None else ""
        lines.append(f"figures: {len(pngs)} in {figures}/ (PDF and PNG{new})")
        sheet = R / "contact_sheet.pdf"
        if sheet.is_file():
            lines.append(f"  all of them on one page each: {sheet}")
    else:
        lines.append(f"figures: none in {figures}/ yet")
    table = R / "agreement.csv"
    if table.is_file():
        rows = worst_rows(table)
        if rows:
            lines.append(f"agreement of simulation and theory, worst {len(rows)} rows by chi-squared per point ({table}):")
            for r in rows:
                lines.append(f"  {r['experiment']:<24} {r['quantity']:<10} chi2/point {_number(r['chi2_per_point']):.3g}"
                             f"  median rel dev {100 * _number(r['median_rel_dev']):.3g}%"
                             f"  max {100 * _number(r['max_rel_dev']):.3g}%")
            lines.append("  (docs/agreement.md explains the known disagreements)")
    extra = "".join(f" --configfile {shlex.quote(_shown(f))}" for f in configfiles)
    lines.append(f"report: snakemake --report report.html{extra}    (then open report.html in a browser)")
    return lines


def main(results_dir, since=None, configfiles=()) -> int:
    for line in summary_lines(results_dir, since, configfiles):
        print(line)
    return 0
