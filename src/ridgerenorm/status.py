"""`ridgerenorm status`: every result a config makes, up to date, stale (and why) or missing, from the files alone.

Nothing is run, written or planned: no Snakemake, no `.snakemake/` records.  A netCDF result is stale when
the parameters it records differ from those the config gives its step today, when the code its step runs
differs from the code stamp it was made under (results/<scale>/code/), or when an input's data checksum
differs from the one it records.  A figure (its record sits in the PNG and PDF metadata) is stale when its
recorded figure spec differs, when one of its data files or code stamps is newer than it, or when one of
its data files is stale itself.  The same rules decide what Snakemake reruns (cache.align_spec_trigger).

    ridgerenorm status --scale quick
    ridgerenorm status config/config.yaml config/quick.yaml
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import cache, io
from . import config as cfg
from .deps import kind_stamp, stamp_files

__all__ = ["Result", "results_of", "check", "simulation_progress", "remaining_minutes", "main"]

_STEP = re.compile(r"\] draws (\d+)/(\d+) ")  # a simulation log's progress line (progress.Progress)


@dataclass
class Result:
    path: Path
    steps: tuple  # the CLI steps whose code made it (their code stamps)
    spec: dict | None = None  # the parameters its step gets today (a figure's: its config entry with its id)
    inputs: list = field(default_factory=list)


def results_of(config: dict, root=".") -> list[Result]:
    """The results the workflow makes for `config` (as workflow/rules/common.smk lists its targets)."""
    from .plotting import FIGURE_KINDS

    R = Path(root) / "results" / config["scale"]
    out, figures = [], config["figures"]
    used = sorted({e for f in figures.values() for e in f.get("experiments", {}).values()})
    for exp in used:
        spectrum = R / "spectra" / f"{exp}.nc"
        out += [Result(spectrum, ("spectrum",), cfg.step_spec(config, exp, "spectrum")),
                Result(R / "simulation" / f"{exp}.nc", ("simulate", "merge"), cfg.step_spec(config, exp, "simulate"),
                       [spectrum]),
                Result(R / "theory" / f"{exp}.nc", ("theory",), cfg.step_spec(config, exp, "theory"), [spectrum])]
    for fid in sorted(figures):
        fig, kind = figures[fid], FIGURE_KINDS[figures[fid]["kind"]]
        if kind.builder:
            data = [R / "spectra_data" / f"{fid}.nc"]
            out.append(Result(data[0], ("spectra-data", kind_stamp("data_", kind.builder_module)), dict(fig, id=fid)))
        else:
            data = [R / k / f"{e}.nc" for _, e in sorted(fig.get("experiments", {}).items()) for k in ("simulation", "theory")]
        plot = kind_stamp("plot_", kind.plot_module)
        for ext in ("pdf", "png"):
            out.append(Result(R / "figures" / f"{fid}_{fig['name']}.{ext}", ("figure", plot), dict(fig, id=fid), data))
    return out


def check(results: list[Result], results_dir, root=".") -> list[tuple[str, Path, str]]:
    """(state, path, why) per result: state is 'up to date', 'stale' or 'missing'."""
    stamps, code_reason = {}, {}

    def code(step):  # why the code of `step` is newer than its last stamp, and the stamp's time
        if step not in stamps:
            stamp = Path(results_dir) / cache.STAMP_DIR / f"{step}.sha256"
            now = cache.stamp_text(stamp_files(step, root), root)
            if not stamp.is_file():
                code_reason[step] = f"no code stamp for {step} (never built here)"
                stamps[step] = None
            else:
                code_reason[step] = None if stamp.read_text() == now else f"the code of {step} changed"
                stamps[step] = stamp.stat().st_mtime
        return code_reason[step], stamps[step]

    rows, state_of = [], {}
    for res in results:
        why = []
        if not res.path.is_file():
            rows.append(("missing", res.path, ""))
            state_of[res.path] = "missing"
            continue
        mtime = res.path.stat().st_mtime
        attrs = io.read_attrs(res.path)  # the result's record, read once
        if res.spec is not None:
            recorded = cache.spec_of(attrs)
            if recorded != res.spec:
                why.append("parameters " + "; ".join(cache.spec_changes(recorded or {}, res.spec)))
        for step in res.steps:
            reason, stamp_time = code(step)
            if reason:
                why.append(reason)
            elif stamp_time is not None and stamp_time > mtime:
                why.append(f"the code of {step} is newer than it")
        recorded_inputs = json.loads(attrs.get("inputs", "{}")) if res.path.suffix == ".nc" else None
        for inp in res.inputs:
            key = os.path.relpath(inp, root)
            if state_of.get(Path(inp)) in ("missing", "stale"):
                why.append(f"input {key} is {state_of[Path(inp)]}")
            elif recorded_inputs is None:  # a figure records no inputs: Snakemake's rule, by modification time
                if Path(inp).stat().st_mtime > mtime:
                    why.append(f"input {key} is newer")
            elif key in recorded_inputs and recorded_inputs[key] != f"data:{io.read_attrs(inp).get('data_sha256')}":
                why.append(f"input {key} changed")
        state = "stale" if why else "up to date"
        state_of[res.path] = state
        rows.append((state, res.path, "; ".join(why)))
    return rows


def main(configfiles, root=".", show_all: bool = True) -> int:
    t0 = time.perf_counter()
    config = cfg.load_config(*configfiles)
    root = Path(root)
    rows = check(results_of(config, root), root / "results" / config["scale"], root)
    counts = {s: sum(1 for r in rows if r[0] == s) for s in ("up to date", "stale", "missing")}
    for state, path, why in rows:
        if show_all or state != "up to date":
            print(f"{state:<11} {path}" + (f": {why}" if why else ""))
    progress = simulation_progress(config, rows, root)
    if progress:
        print(progress)
    print(f"scale {config['scale']!r} ({' + '.join(map(str, configfiles))}): {len(rows)} results, "
          + ", ".join(f"{n} {s}" for s, n in counts.items()) + f" ({time.perf_counter() - t0:.1f} s)")
    return 0 if counts["stale"] == counts["missing"] == 0 else 1


def remaining_minutes(work: dict, observed_flops: float, observed_wall: float):
    """(done flops, total flops, observed GFLOP/s, minutes left): `work` maps an experiment to (its flops,
    the fraction of them done); the rate is that of the simulation work finished under the current code
    (flops counted as float64 GEMM-equivalent, as the plan counts them), None before any finished."""
    total = sum(f for f, _ in work.values())
    done = sum(f * frac for f, frac in work.values())
    if observed_wall <= 0 or observed_flops <= 0:
        return done, total, None, None
    rate = observed_flops / observed_wall
    return done, total, rate / 1e9, (total - done) / rate / 60.0


def simulation_progress(config: dict, rows, root=".") -> str | None:
    """One line on the simulation work of the config: how much of its flops is done (up-to-date merged files,
    finished blocks and, from its log, the running block's steps) and, at the rate the finished work ran,
    how long the rest takes.  None when nothing is left to simulate."""
    from .models import model_of

    R = Path(root) / "results" / config["scale"]
    state = {Path(path): s for s, path, _ in rows}
    used = sorted({e for f in config["figures"].values() for e in f.get("experiments", {}).values()})
    work, seen_flops, seen_wall = {}, 0.0, 0.0
    for exp in used:
        spec = cfg.experiment_spec(config, exp)
        f = model_of(spec).flops(spec)
        flops, frac = f["gemm"] + f["factor"], 0.0
        merged = R / "simulation" / f"{exp}.nc"
        if state.get(merged) == "up to date":
            attrs = io.read_attrs(merged)
            seen_flops += float(attrs.get("flops_total", 0.0))
            seen_wall += float(attrs.get("simulation_wall_time_s", 0.0))
            work[exp] = (flops, 1.0)
            continue
        today = cfg.step_spec(config, exp, "simulate")
        for log in sorted((R / "logs" / "simulate" / exp).glob("draws_*.log")):
            lo, hi = (int(x) for x in log.stem.split("_", 1)[1].split("-"))
            share = (hi - lo) / int(spec["draws"])
            block = R / "simulation" / exp / f"{log.stem}.nc"
            if block.is_file():
                attrs = io.read_attrs(block)
                if cache.spec_of(attrs) != today:
                    continue
                frac += share
                seen_flops += float(attrs.get("flops_gemm", 0.0)) + float(attrs.get("flops_factor", 0.0))
                seen_wall += float(attrs.get("wall_time_s", 0.0))
            elif log.stat().st_mtime >= merged.stat().st_mtime if merged.is_file() else True:
                steps = _STEP.findall(log.read_text(errors="replace"))
                if steps:
                    k, n = (int(x) for x in steps[-1])
                    frac += share * k / max(n, 1)
        work[exp] = (flops, min(frac, 1.0))
    done, total, rate, minutes = remaining_minutes(work, seen_flops, seen_wall)
    if total <= 0 or done >= total:
        return None
    line = f"simulation: {done / 1e12:.1f} of {total / 1e12:.1f} TFLOP done ({done / total:.0%})"
    if rate is None:
        return line + "; nothing finished yet to time (`ridgerenorm plan` estimates from measured rates)"
    return line + (f"; the finished work ran at {rate:.0f} GFLOP/s, at which the rest takes about "
                   f"{minutes:.0f} min")
