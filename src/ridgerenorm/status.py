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
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import cache, io
from . import config as cfg
from .deps import kind_stamp, stamp_files

__all__ = ["Result", "results_of", "check", "main"]


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
    print(f"scale {config['scale']!r} ({' + '.join(map(str, configfiles))}): {len(rows)} results, "
          + ", ".join(f"{n} {s}" for s, n in counts.items()) + f" ({time.perf_counter() - t0:.1f} s)")
    return 0 if counts["stale"] == counts["missing"] == 0 else 1
