"""`ridgerenorm list` and `ridgerenorm clean`: what a config makes, at what cost, and which files under
results/<scale>/ it no longer makes.

    ridgerenorm list                                   figures and experiments, estimated time at each scale
    ridgerenorm list --configfile my.yaml              the same for config/config.yaml + my.yaml
    ridgerenorm clean --scale quick                    files of removed experiments or figures (dry run)
    ridgerenorm clean --scale quick --yes              ... deleted

A config is read as Snakemake reads it: config/config.yaml, then each --configfile merged on top.  The
scales `list` compares are the paper scale (config/config.yaml), the quick scale (+ config/quick.yaml) and
the listed config's own scale when it is another.  Costs are the simulation estimates of `ridgerenorm plan`
(costs.experiment_seconds, over this machine's kept rates).

`clean` looks only at files named after one experiment or one figure (their netCDF results, figure files,
logs, benchmark records and argument files); shared files (agreement.csv, code stamps, the contact sheet,
the benchmark summary) are remade by every run and stay.  A file whose experiment the config still uses,
or whose figure id and name it still has, is never listed.  Nothing is deleted without --yes.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from . import config as cfg

__all__ = ["BASE", "FIGURE_RULES", "figure_rule", "config_files", "load_alone_or_overlay", "scale_configs", "produced", "orphans", "list_main", "clean_main"]

BASE = "config/config.yaml"
QUICK = "config/quick.yaml"

# <exp>.<step>[.<sha>].json argument files and figure_<ID>[.<sha>].json (common.smk's arg_file names)
_EXP_SPEC = re.compile(r"(?P<exp>[a-z][a-z0-9_]*)\.(spectrum|simulate|theory)(\.[0-9a-f]{16})?\.json\Z")
# a figure's spec and the @file listing its data files by role (common.smk: figure_spec_arg, figure_data_arg)
_FIG_SPEC = re.compile(r"figure_(?P<fid>[A-Z][0-9]+)(\.[0-9a-f]{16}\.json|_data\.[0-9a-f]{16}\.txt|\.json)\Z")
_FIG_FILE = re.compile(r"(?P<fid>[A-Z][0-9]+)_(?P<name>[a-z0-9-]+)\Z")
_EXP_STEPS = ("spectrum", "merge", "theory")  # logs/<step>/<exp>.log, benchmarks/<step>/<exp>.tsv

# The workflow's figure rules (workflow/rules/figures.smk), named by what a figure is drawn from: its
# experiments' simulation and theory files, the sampled spectra of its own data job, or its parameters alone.
# One rule per source keeps each rule at one depth of the DAG, so the report's rule graph, which draws a rule
# once per depth, shows each rule once.  (Here, not in plotting: no job imports this module, so a change to
# it reruns nothing.)
FIGURE_RULES = ("figure", "spectra_figure", "diagram")


def figure_rule(fig: dict) -> str:
    """The rule of FIGURE_RULES that draws the figure of config entry `fig`."""
    from .plotting import FIGURE_KINDS

    if FIGURE_KINDS[fig["kind"]].builder:
        return "spectra_figure"
    return "figure" if fig.get("experiments") else "diagram"


def config_files(configfiles=None, scale: str | None = None, root=".") -> list[str]:
    """The files of a config as Snakemake reads them: config/config.yaml, then the overlays (--configfile),
    or config/<scale>.yaml for a scale other than paper."""
    base = str(Path(root) / BASE)
    if configfiles:
        return [base, *[str(f) for f in configfiles]]
    if scale in (None, "paper"):
        return [base]
    overlay = Path(root) / "config" / f"{scale}.yaml"
    if not overlay.is_file():
        known = sorted(p.stem for p in (Path(root) / "config").glob("*.yaml") if p.name != "config.yaml")
        raise cfg.ConfigError(f"error: --scale {scale}: no config/{scale}.yaml (scales: paper, {', '.join(known)})")
    return [base, str(overlay)]


def load_alone_or_overlay(configfiles, root=".") -> dict:
    """cfg.load_config(*configfiles); when that fails for one file that is not the base but completes the base
    config (config/config.yaml) as an overlay, one line that says so and gives the command to use."""
    try:
        return cfg.load_config(*configfiles)
    except cfg.ConfigError as alone:
        base = Path(root) / BASE
        if (len(configfiles) != 1 or "required key is missing" not in str(alone) or not base.is_file()
                or Path(configfiles[0]).resolve() == base.resolve()):
            raise
        try:
            cfg.load_config(str(base), configfiles[0])
        except cfg.ConfigError as merged:  # an overlay with an error of its own: that error, said as such
            raise cfg.ConfigError(f"{merged} (checking {configfiles[0]} as an overlay on {BASE})") from None
        raise cfg.ConfigError(f"config error: {configfiles[0]} is an overlay, not a whole config (alone: "
                              f"{str(alone).removeprefix('config error: ')}); give it after the base: "
                              f"{BASE} {configfiles[0]}") from None


def scale_configs(configfiles=None, root=".") -> tuple[dict[str, dict], str]:
    """(scale -> merged config, the listed scale): paper, quick, and the config of `configfiles` (on top of
    config/config.yaml) when given, which is then the listed one; it replaces a built-in one of its name."""
    out = {"paper": cfg.load_config(str(Path(root) / BASE))}
    quick = Path(root) / QUICK
    if quick.is_file():
        out["quick"] = cfg.load_config(str(Path(root) / BASE), str(quick))
    if not configfiles:
        return out, "paper"
    mine = cfg.load_config(*config_files(configfiles, root=root))
    out[mine["scale"]] = mine
    return out, mine["scale"]


@dataclass(frozen=True)
class Produced:
    experiments: frozenset  # experiments some figure draws (the workflow simulates no other)
    figures: dict  # figure id -> name
    data_figures: frozenset  # figure ids that sample their own data (spectra_data/<ID>.nc)


def produced(config: dict) -> Produced:
    """The experiments and figures whose files the workflow makes for `config` (common.smk's targets)."""
    from .plotting import FIGURE_KINDS

    figures = config["figures"]
    used = {e for f in figures.values() for e in f.get("experiments", {}).values()}
    data = {fid for fid, f in figures.items() if FIGURE_KINDS[f["kind"]].builder}
    return Produced(frozenset(used), {fid: f["name"] for fid, f in figures.items()}, frozenset(data))


def _why_experiment(exp: str, config: dict, made: Produced) -> str | None:
    if exp in made.experiments:
        return None
    if exp in config["experiments"]:
        return f"experiment {exp} is drawn by no figure"
    return f"experiment {exp} is not in the config"


def _why_figure(fid: str, name: str | None, made: Produced) -> str | None:
    if fid not in made.figures:
        return f"figure {fid} is not in the config"
    if name is not None and made.figures[fid] != name:
        return f"figure {fid} is now named {made.figures[fid]}"
    return None


def _why_data(fid: str, made: Produced) -> str | None:
    if fid not in made.figures:
        return f"figure {fid} is not in the config"
    return None if fid in made.data_figures else f"figure {fid} samples no data of its own now"


def _files(path: Path) -> list[Path]:
    """A file, or every file under a folder (links are files here: never followed)."""
    if path.is_dir() and not path.is_symlink():
        return sorted(Path(d) / f for d, _, fs in os.walk(path) for f in fs)
    return [path]


def orphans(config: dict, results_dir) -> list[tuple[Path, str]]:
    """(file, why) for each file under results_dir named after an experiment or figure that `config` no
    longer makes.  Files of another name are not looked at."""
    R = Path(results_dir)
    made = produced(config)
    found: list[tuple[Path, str]] = []

    def entries(sub):
        folder = R / sub
        return sorted(folder.iterdir()) if folder.is_dir() and not folder.is_symlink() else []

    def add(path, why):
        if why:
            found.extend((f, why) for f in _files(path))

    for kind in ("spectra", "theory", "simulation"):
        for p in entries(kind):
            if p.suffix == ".nc" and p.is_file():
                add(p, _why_experiment(p.stem, config, made))
            elif kind == "simulation" and p.is_dir():  # an experiment's block files
                add(p, _why_experiment(p.name, config, made))
    for p in entries("spectra_data"):
        if p.suffix == ".nc":
            add(p, _why_data(p.stem, made))
    for p in entries("figures"):
        m = _FIG_FILE.match(p.stem)
        if m and p.suffix in (".pdf", ".png"):
            add(p, _why_figure(m["fid"], m["name"], made))
    for top, ext in (("logs", ".log"), ("benchmarks", ".tsv")):
        for step in _EXP_STEPS:
            for p in entries(f"{top}/{step}"):
                if p.suffix == ext:
                    add(p, _why_experiment(p.stem, config, made))
        for p in entries(f"{top}/simulate"):
            if p.is_dir():
                add(p, _why_experiment(p.name, config, made))
        for p in entries(f"{top}/spectra_data"):
            if p.suffix == ext:
                add(p, _why_data(p.stem, made))
        for p in entries(f"{top}/figure"):
            m = _FIG_FILE.match(p.stem)
            if m and p.suffix == ext:
                add(p, _why_figure(m["fid"], m["name"], made))
    for p in entries("specs"):
        if m := _EXP_SPEC.match(p.name):
            add(p, _why_experiment(m["exp"], config, made))
        elif m := _FIG_SPEC.match(p.name):
            add(p, _why_figure(m["fid"], None, made))
    return found


# ------------------------------------------------------------------------------------------ commands


def _minutes(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def list_main(configfiles=None, root=".", out=print) -> int:
    from .costs import experiment_seconds, machine_rates, rates_note
    from .models import model_of

    scales, name = scale_configs(configfiles, root)
    listed = scales[name]
    made = produced(listed)
    threads = int(listed.get("threads", 2))
    rates = machine_rates(threads)
    cost = {s: {} for s in scales}  # scale -> experiment -> seconds
    for s, conf in scales.items():
        for exp in produced(conf).experiments:
            if exp in conf["experiments"]:
                spec = cfg.experiment_spec(conf, exp)
                cost[s][exp] = experiment_seconds(rates, model_of(spec).flops(spec), len(cfg.draw_blocks(spec)),
                                                  int(conf.get("threads", 2)))
    names = list(scales)
    files = " + ".join(config_files(configfiles, root=root))
    out(f"scale {listed['scale']!r} ({files}): {len(listed['figures'])} figures, {len(made.experiments)} experiments")
    out(f"estimated simulation time on this machine (float64 GEMM {rates['gemm']:.0f} GFLOP/s on {threads} threads; "
        f"{rates_note(rates)}); figures, theory and spectra add seconds per job")
    out("")
    head = "".join(f"{s:>12}" for s in names)
    out(f"{'figure':<8}{'name':<28}{'kind':<22}{head}  experiments")
    for fid in sorted(listed["figures"]):
        fig = listed["figures"][fid]
        exps = sorted(set(fig.get("experiments", {}).values()))
        cells = []
        for s in names:
            f = scales[s]["figures"].get(fid)
            drawn = set((f or {}).get("experiments", {}).values())
            cells.append(sum(cost[s].get(e, 0.0) for e in drawn) if drawn else None)
        what = ", ".join(exps) if exps else ("samples its own random matrices (seconds)" if fid in made.data_figures
                                             else "drawn from formulas (no simulation)")
        out(f"{fid:<8}{fig['name']:<28}{fig['kind']:<22}" + "".join(f"{_minutes(c):>12}" for c in cells) + f"  {what}")
    out("")
    out(f"{'experiment':<24}{'model':<34}{head}  figures")
    for exp in sorted(made.experiments):
        spec = listed["experiments"][exp]
        figs = sorted(fid for fid, f in listed["figures"].items() if exp in f.get("experiments", {}).values())
        out(f"{exp:<24}{spec['model']:<34}" + "".join(f"{_minutes(cost[s].get(exp)):>12}" for s in names)
            + f"  {', '.join(figs)}")
    totals = "".join(f"{_minutes(sum(cost[s].values())):>12}" for s in names)
    out(f"{'total (each experiment once)':<58}{totals}")
    unused = sorted(set(listed["experiments"]) - made.experiments)
    if unused:
        out(f"not drawn by any figure, so not run: {', '.join(unused)}")
    return 0


def _experiment_folder(parts) -> bool:
    return (len(parts) == 2 and parts[0] == "simulation") or (
        len(parts) == 3 and parts[0] in ("logs", "benchmarks") and parts[1] == "simulate")


def clean_main(configfiles=None, scale: str | None = None, yes: bool = False, root=".", out=print) -> int:
    files = config_files(configfiles, scale, root)
    config = cfg.load_config(*files)
    R = Path(root) / "results" / config["scale"]
    found = orphans(config, R)
    size = 0
    for path, why in found:
        size += path.lstat().st_size
        out(f"{'deleted' if yes else 'would delete'} {path}: {why}")
    if not found:
        out(f"{R}: every file named after an experiment or figure is one {' + '.join(files)} makes; nothing to clean")
        return 0
    if yes:
        for path, _ in found:
            path.unlink()
        for folder in sorted({p.parent for p, _ in found}):
            if _experiment_folder(folder.relative_to(R).parts) and not any(folder.iterdir()):
                folder.rmdir()  # an emptied experiment folder: simulation/<exp>/, logs|benchmarks/simulate/<exp>/
        out(f"deleted {len(found)} files ({size / 1e6:.1f} MB) that {' + '.join(files)} no longer makes")
    else:
        out(f"{len(found)} files ({size / 1e6:.1f} MB) that {' + '.join(files)} no longer makes; "
            "nothing deleted (dry run): add --yes to delete them")
    return 0
