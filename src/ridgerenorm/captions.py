"""Report captions: the parameters of each figure as recorded in its data files, the theory it draws
(docs/theory.md, specialized to its experiments) and the measured agreement numbers for that figure (its rows of
agreement.csv, or the Kolmogorov-Smirnov distances of a spectra figure).

Nothing scale-specific is taken from config text: a quick-scale figure is described by its quick-scale files.

The report's caption template calls `FigureFacts(...).rst()`.  The object is handed to the template through a
rule parameter; Snakemake does not track parameters that are not plain Python values, so the figure rule does
not rerun when agreement.csv changes, and the files are only read when the report is built.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import xarray as xr

from . import config as rr_config
from .grids import ridge_power
from .models import model_of
from .spectrum_kinds import caption_words
from .spectrum_kinds.base import number as _num, numbers as _nums
from .plotting import FIGURE_KINDS
from .verdicts import Verdict, figure_entry, figure_verdict


def _is_spectra_figure(fig: dict) -> bool:
    """A spectra figure builds its own data (plotting.spectra_data.build_*) instead of reading experiments."""
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


def _model_words(spec) -> str:
    """What the caption calls the experiment's model (its module says), or its config name."""
    try:
        return model_of(spec).caption_name or str(spec.get("model"))
    except KeyError:  # UnknownModelError too
        return str(spec.get("model"))


def _value(v) -> str:
    """A spec value in words: numbers, lists, log/linear grids; anything else as plain text."""
    if isinstance(v, dict) and len(v) == 1:
        (key, args), = v.items()
        if key == "logspace" and len(args) == 3:
            return f"{int(args[2])} log-spaced values from {_num(10.0 ** args[0])} to {_num(10.0 ** args[1])}"
        if key in ("linspace", "inverse_linspace") and len(args) == 3:
            return f"{int(args[2])} values from {_num(args[0])} to {_num(args[1])}"
    if isinstance(v, dict):
        return "; ".join(f"{k} {_value(x)}" for k, x in v.items())
    if isinstance(v, (list, tuple)):
        return ", ".join(_value(x) for x in v)
    if isinstance(v, (int, float)) or v is None:
        return _num(v)
    return str(v)


def _grid(values, name: str) -> str:
    values = [float(x) for x in values]
    if len(values) == 1:
        return f"{name} = {_num(values[0])}"
    return f"{name} = {_num(min(values))} to {_num(max(values))} ({len(values)} values)"


_HANDLED = {"model", "spectrum", "teacher", "widths", "ridge", "sigma_eps", "sigma_xi", "activation", "draws",
            "feature_draws", "sample_size", "width_grid", "weight_exponents", "weight_exponent", "samples",
            "theory_samples", "name", "seed", "D", "block"}


def experiment_parameters(sim, theory=None) -> str:
    """One line of an experiment's parameters, from its merged simulation file (the spec it ran with and its
    sample grid) and its theory file (the theory grid)."""
    spec = json.loads(sim.attrs["spec"])
    words = [_model_words(spec), *caption_words(spec["spectrum"], spec["teacher"])]
    if spec.get("widths"):
        words.append(("N = " if len(spec["widths"]) == 1 else "hidden widths N = ") + _nums(spec["widths"]))
    if spec.get("activation"):
        words.append(f"activation {spec['activation']}")
    if spec.get("sigma_xi"):
        words.append(f"feature noise σ_ξ = {_num(spec['sigma_xi'])}")
    ridge = spec.get("ridge")
    power = ridge_power(ridge)
    words.append(f"ridge λ = {_value(ridge) if power is None else f'P^-{_num(power)}'}")
    words.append(f"label noise σ_ε = {_num(spec.get('sigma_eps', 0.0))}")
    if spec.get("sample_size"):
        words.append(f"P = {_num(spec['sample_size'])}")
    if "N" in sim.dims:  # swept over widths
        words.append(_grid(sim["N"].values, "N"))
    if "alpha_F" in sim.coords:
        words.append("weight exponents α_F = " + _nums(sim["alpha_F"].values))
    elif spec.get("weight_exponent"):
        words.append(f"weight exponent α_F = {_num(spec['weight_exponent'])}")
    if "P" in sim.coords and not spec.get("sample_size"):
        words.append("simulated at " + _grid(sim["P"].values, "P"))
    draws = f"{_num(spec['draws'])} data draws" if "draws" in spec else ""
    if spec.get("feature_draws"):
        draws += f" × {_num(spec['feature_draws'])} feature draws"
    if draws:
        words.append(draws)
    if theory is not None and "P" in theory.coords and theory.sizes.get("P", 0) > 1:
        words.append(f"theory at {theory.sizes['P']} values of P")
    words += [f"{k} = {_value(v)}" for k, v in spec.items() if k not in _HANDLED]
    return "; ".join(words)


def spectra_parameters(data) -> str:
    """One line of a spectra figure's parameters, from the spec recorded in its data file."""
    spec = json.loads(data.attrs["spec"]).get("params", {})
    words = []
    for key, v in spec.items():
        if key == "q" and "q" in data.coords:
            words.append("q = N/P = " + _nums(data["q"].values))
        elif key == "widths":
            words.append("widths " + _nums(v))
        elif key == "bins":
            words.append(f"{v} histogram bins" if isinstance(v, int) else f"histogram bins: {_value(v)}")
        elif key == "alpha":
            words.append(f"α = {_num(v)}")
        else:
            words.append(f"{key} = {_value(v)}")
    return "; ".join(words)


def _rst_text(text: str) -> str:
    """Plain text as rst inline text: markup characters escaped."""
    for ch in "\\*`|_":
        text = text.replace(ch, "\\" + ch)
    return text


class FigureFacts:
    """What a figure's report caption states beyond the config: equations and measured agreement."""

    def __init__(self, cfg: dict, fid: str, results_dir: str):
        self.cfg, self.fid, self.results = cfg, fid, Path(results_dir)

    def __repr__(self) -> str:  # stable: the object never enters a rerun decision
        return f"FigureFacts({self.fid!r}, {str(self.results)!r})"

    def __str__(self) -> str:
        """What the report's "Job parameters" line shows for it (no shell line uses the object)."""
        return f"read at report time from {self.results}/ (data files, agreement.csv)"

    def verdict(self) -> Verdict:
        """The figure's agreement verdict (ridgerenorm.verdicts, the rule the agreement page applies)."""
        fig = self.cfg["figures"][self.fid]
        csv_path = self.results / "agreement.csv"
        rows = None
        if csv_path.exists():
            with open(csv_path, newline="") as f:
                rows = list(csv.DictReader(f))
        return figure_verdict(figure_entry(fig, FIGURE_KINDS[fig["kind"]]), rows)

    def verdict_rst(self) -> str:
        """One line: the verdict and the row that decided it."""
        v = self.verdict()
        worst = f" Worst: {_rst_text(v.worst_words())}." if v.worst else ""
        return (f"**Agreement verdict: {_rst_text(v.text)}.**{worst} (The rule and every figure's verdict: the "
                f"report's *agreement* page.)\n")

    def parameters_rst(self) -> str:
        """The figure's parameters as an rst list, read from its data files."""
        fig = self.cfg["figures"][self.fid]
        items: list[str] = []
        if _is_spectra_figure(fig):
            data = self.results / "spectra_data" / f"{self.fid}.nc"
            if data.exists():
                with xr.open_dataset(data) as ds:
                    items.append(spectra_parameters(ds))
            else:
                items.append(f"*{data.name} has not been built yet.*")
            source = f"``spectra_data/{self.fid}.nc``"
        elif fig.get("experiments"):
            for role, exp in fig["experiments"].items():
                sim, th = self.results / "simulation" / f"{exp}.nc", self.results / "theory" / f"{exp}.nc"
                if not sim.exists():
                    items.append(f"*{role}* (``{exp}``): *not simulated yet.*")
                    continue
                with xr.open_dataset(sim) as s_ds:
                    if th.exists():
                        with xr.open_dataset(th) as t_ds:
                            text = experiment_parameters(s_ds, t_ds)
                    else:
                        text = experiment_parameters(s_ds)
                items.append(f"*{role}* (``{exp}``): {text}.")
            source = "``simulation/<experiment>.nc`` and ``theory/<experiment>.nc``"
        else:
            params = fig.get("params", {})
            items.append("theory only; " + ("; ".join(f"{k} = {_value(v)}" for k, v in params.items())
                                             if params else "no numerical parameters"))
            source = "the figure's spec"
        lines = [f"**Parameters** (read from {source}):", ""]
        lines += ["- " + item.replace("|", "\\|") for item in items]
        return "\n".join(lines + [""])

    def note_rst(self) -> str:
        """The figure's note and the paper's files, as the figure job computed and drew them: read from the
        PNG's metadata (notes.NOTE_KEY), never recomputed, so caption and figure cannot differ."""
        from PIL import Image

        from .notes import NOTE_KEY, PAPER_KEY, PAPER_PREFIX, PAPER_SOURCE

        fig = self.cfg["figures"][self.fid]
        if not fig.get("note") and not fig.get("paper_files"):
            return ""
        png = self.results / "figures" / f"{self.fid}_{fig['name']}.png"
        if not png.exists():
            return f"*{png.name} has not been built yet.*\n"
        with Image.open(png) as image:
            meta = dict(image.text)
        parts = []
        if meta.get(NOTE_KEY["png"]):
            parts.append(f"**Reading this figure.** {_rst_text(meta[NOTE_KEY['png']])}")
        if meta.get(PAPER_KEY["png"]):
            files = meta[PAPER_KEY["png"]].removeprefix(PAPER_PREFIX)
            parts.append(f"**The authors' figure files** ({PAPER_SOURCE}): {_rst_text(files)}")
        return "\n\n".join(parts) + "\n"

    def explore_rst(self, port: int = 8050) -> str:
        """Links that open `ridgerenorm explore` at each experiment of the figure (while it runs)."""
        from .explore.core import explorable_models

        curves = {m["name"] for m in explorable_models()}
        names = [e for e in _experiments(self.cfg["figures"][self.fid])
                 if self.cfg["experiments"][e]["model"] in curves]
        if not names:
            return ""
        links = ", ".join(f"`{_rst_text(n)} <http://127.0.0.1:{port}/?experiment={n}>`__" for n in names)
        return (f"**Explore** these parameters: with ``ridgerenorm explore --scale {self.cfg['scale']}`` running "
                f"(docs/explorer.md), open {links}.\n")

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
