"""Report captions: the theory each figure draws (docs/theory.md, specialized to its experiments) and the measured
agreement numbers for that figure (its rows of agreement.csv, or the Kolmogorov-Smirnov distances of a spectra
figure).

The report's caption template calls `FigureFacts(...).rst()`.  The object is handed to the template through a
rule parameter; Snakemake does not track parameters that are not plain Python values, so the figure rule does
not rerun when agreement.csv changes, and the files are only read when the report is built.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

from . import config as rr_config
from .models import model_of
from .plotting import FIGURE_KINDS


def _is_spectra_figure(fig: dict) -> bool:
    """A spectra figure builds its own data (densities.build_*) instead of reading experiments."""
    return FIGURE_KINDS[fig["kind"]].builder is not None


def _experiments(fig: dict) -> list[str]:
    """The figure's experiments, each once, in config order."""
    return list(dict.fromkeys(fig.get("experiments", {}).values()))

def experiment_equations(spec: dict) -> list[str]:
    """The docs/theory.md equations the theory curves of one experiment evaluate, specialized to its model."""
    return model_of(spec).equations(spec)


def figure_equations(cfg: dict, fid: str) -> list[str]:
    fig = cfg["figures"][fid]
    kind = FIGURE_KINDS[fig["kind"]]
    if kind.equations:  # figures that draw no experiment state their own
        return list(kind.equations)
    lines: list[str] = []
    for exp in _experiments(fig):
        for line in experiment_equations(rr_config.experiment_spec(cfg, exp)):
            if line not in lines:
                lines.append(line)
    return lines


def _fmt(x: str, pct: bool = False) -> str:
    v = float(x)
    if not math.isfinite(v):
        return "–"
    return f"{100 * v:.3g} %" if pct else f"{v:.3g}"


def agreement_table(rows: list[dict], experiments: list[str]) -> str:
    """An rst list-table of the agreement.csv rows of these experiments."""
    chosen = [r for r in rows if r["experiment"] in experiments]
    if not chosen:
        return ""
    out = [".. list-table::", "   :header-rows: 1", "",
           "   * - experiment", "     - quantity", "     - points", "     - median rel. dev.",
           "     - max rel. dev.", "     - χ²/point"]
    for r in chosen:
        out += [f"   * - {r['experiment']}", f"     - {r['quantity']}", f"     - {r['n_points']}",
                f"     - {_fmt(r['median_rel_dev'], True)}", f"     - {_fmt(r['max_rel_dev'], True)}",
                f"     - {_fmt(r['chi2_per_point'])}"]
    return "\n".join(out)


def ks_lines(data_file) -> list[str]:
    """Kolmogorov-Smirnov distances recorded in a spectra-figure data file."""
    import xarray as xr

    lines = []
    with xr.open_dataset(data_file) as ds:
        for name in ("ks_distance", "ks_distance_nonzero", "ks_distance_population"):
            if name in ds:
                vals = ds[name].values.ravel()
                label = {"ks_distance": "KS distance to the limiting density",
                         "ks_distance_nonzero": "KS distance of the nonzero eigenvalues",
                         "ks_distance_population": "KS distance to the population spectrum (a contrast, not a fit)",
                         }[name]
                shown = ", ".join(f"{v:.2g}" for v in vals)
                where = f" (q = {', '.join(f'{q:.3g}' for q in ds['q'].values)})" if "q" in ds[name].dims else ""
                lines.append(f"{label}{where}: {shown}.")
    return lines


class FigureFacts:
    """What a figure's report caption states beyond the config: equations and measured agreement."""

    def __init__(self, cfg: dict, fid: str, results_dir: str):
        self.cfg, self.fid, self.results = cfg, fid, Path(results_dir)

    def __repr__(self) -> str:  # stable: the object never enters a rerun decision
        return f"FigureFacts({self.fid!r}, {str(self.results)!r})"

    def rst(self) -> str:
        fig = self.cfg["figures"][self.fid]
        parts = ["**Theory drawn** (docs/theory.md):", ""]
        # A bare |...| would be read as an rst substitution reference.
        parts += ["- " + line.replace("|", "\\|") for line in figure_equations(self.cfg, self.fid)]
        parts.append("")
        if _is_spectra_figure(fig):
            data = self.results / "spectra_data" / f"{self.fid}.nc"
            ks = ks_lines(data) if data.exists() else []
            if ks:
                parts += ["**Measured agreement**:", ""] + [f"- {line}" for line in ks]
            return "\n".join(parts)
        experiments = _experiments(fig)
        if not experiments:
            return "\n".join(parts)
        csv_path = self.results / "agreement.csv"
        if not csv_path.exists():
            return "\n".join(parts + ["*agreement.csv has not been built yet.*"])
        with open(csv_path, newline="") as f:
            rows = list(csv.DictReader(f))
        table = agreement_table(rows, experiments)
        parts += ["**Measured agreement** (simulation vs theory at the simulated points; relative deviation "
                  "abs(sim − theory)/abs(theory), χ² with the simulation's standard errors):", "", table]
        return "\n".join(parts)
