"""Command-line entry point: one subcommand per pipeline step, so every Snakemake rule is a shell line
a person can rerun by hand.  Run `ridgerenorm <command> --help` for the arguments."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

# config, io and spectra (numpy, xarray, ...) are imported by main(), inside its handling of Ctrl-C: a job
# interrupted while it starts up says one line too (deps.py follows the imports of _load_modules).
cfg = io = spectra = None


def _load_modules() -> None:
    global cfg, io, spectra
    from . import config as cfg
    from . import io, spectra


class InputError(ValueError):
    """A bad command-line input; main() prints its one-line message and exits with 2."""


def _json(text: str, what: str = "--spec"):
    """The JSON value of a command-line argument, given inline or as @file; ConfigError (one line) when it is
    not JSON."""
    if text.startswith("@"):
        try:
            with open(text[1:]) as f:
                text = f.read()
        except OSError as err:
            raise InputError(f"error: {what} {text}: cannot read ({err.strerror})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        why = f"not valid JSON ({err.msg} at line {err.lineno} column {err.colno})"
        raise cfg.config_error(what, text, why) from None


def _spec(text: str, step: str, command: str) -> dict:
    """An experiment's step spec (config.step_spec), checked: every key the step reads, valid values."""
    spec = _json(text)
    cfg.check_step_spec(spec, step, command)
    return spec


def _figure_spec(text: str, command: str) -> dict:
    """A figure spec (the figure's config entry plus its id), checked like the config checks figures."""
    spec = _json(text)
    if not isinstance(spec, dict):
        raise cfg.config_error("--spec", spec, f"expected a JSON object of a figure (ridgerenorm {command})")
    for key in ("id", "kind"):
        if key not in spec:
            raise cfg.config_error(("figures", spec.get("id", "?"), key), None, f"required by 'ridgerenorm {command}'")
    fig = {k: v for k, v in spec.items() if k != "id"}
    cfg.check_figure(str(spec["id"]), fig)
    return spec


# --------------------------------------------------------------------------------------------- steps


def cmd_check_config(args) -> None:
    from .inventory import load_alone_or_overlay

    config = load_alone_or_overlay(args.configfiles)
    for line in cfg.config_warnings(config):
        print(line, file=sys.stderr)
    print(f"config OK: scale {config['scale']!r}, {len(config['experiments'])} experiments, {len(config['figures'])} figures")


def cmd_spectrum(args) -> None:
    t0 = time.perf_counter()
    spec = _spec(args.spec, "spectrum", "spectrum")
    ds = spectra.population_dataset(spec["spectrum"], spec["teacher"])
    io.write_dataset(ds, args.out, io.provenance(spec=spec, wall_time=time.perf_counter() - t0))


def cmd_simulate(args) -> None:
    from .models import model_of

    t0 = time.perf_counter()
    spec = _spec(args.spec, "simulate", "simulate")
    model = model_of(spec)
    start, stop = _draw_range(args.draws)
    pop = io.read_dataset(args.spectrum)
    if not (0 <= start < stop <= spec["draws"]):
        raise SystemExit(f"error: --draws {args.draws}: must satisfy 0 <= start < stop <= draws ({spec['draws']})")
    print(f"[{spec['name']}] model {spec['model']}, D={spec['D']}, data draws {start}:{stop}, {args.threads} threads",
          file=sys.stderr, flush=True)
    res = model.simulate(spec, pop, range(start, stop), threads=args.threads, mem_budget_bytes=args.mem_gb * 1e9)
    wall = time.perf_counter() - t0
    gflops = (res.flops_gemm + res.flops_factor) / 1e9
    extra = {"flops_gemm": res.flops_gemm, "flops_factor": res.flops_factor, "gflops_per_s": gflops / wall,
             "threads": args.threads, **res.extra}
    io.write_dataset(res.dataset, args.out, io.provenance(spec=spec, inputs=[args.spectrum], seeds=res.seeds,
                                                          wall_time=wall, extra=extra))
    print(f"[{spec['name']}] done in {wall:.1f} s, {gflops:.1f} GFLOP ({gflops / wall:.1f} GFLOP/s)", file=sys.stderr)
    from .costs import check_observed

    note = check_observed(args.threads, res.flops_gemm, res.flops_factor, wall, res.extra.get("flops_gemm32", 0.0))
    if note:
        print(f"[{spec['name']}] {note}", file=sys.stderr)


def cmd_merge(args) -> None:
    from .models import model_of

    t0 = time.perf_counter()
    spec = _spec(args.spec, "simulate", "merge")
    model = model_of(spec)
    blocks = [io.read_dataset(p) for p in args.blocks]
    if model.merge_needs_spectrum and not args.spectrum:
        raise SystemExit(f"error: merge of model {model.name!r} needs --spectrum")
    pop = io.read_dataset(args.spectrum) if model.merge_needs_spectrum else None
    merged, extra = model.merge(spec, blocks, pop)
    seeds = extra.pop("seeds", None)
    # the blocks are temporary: the merged file also records, checksummed, the files they were made from
    # (the spectrum), so that `audit --verify` can regenerate them from recorded inputs only
    made_from = [p for b in blocks for p in json.loads(b.attrs.get("inputs", "{}"))]
    inputs = list(dict.fromkeys(args.blocks + ([args.spectrum] if model.merge_needs_spectrum else []) + made_from))
    io.write_dataset(merged, args.out, io.provenance(spec=spec, inputs=inputs, seeds=seeds,
                                                     wall_time=time.perf_counter() - t0, extra=extra))


def cmd_theory(args) -> None:
    from .models import model_of

    t0 = time.perf_counter()
    spec = _spec(args.spec, "theory", "theory")
    th = model_of(spec).theory(spec, io.read_dataset(args.spectrum))
    io.write_dataset(th, args.out, io.provenance(spec=spec, inputs=[args.spectrum], wall_time=time.perf_counter() - t0))


def cmd_curve(args) -> None:
    from . import curve

    t0 = time.perf_counter()
    try:
        ds = curve.run(args)
    except curve.CurveError as err:
        raise InputError(str(err)) from None
    print(f"curve: {ds.sizes['P']} sample sizes, {ds.attrs['model']}, D = {ds.attrs['D']}, written to {args.out} "
          f"in {time.perf_counter() - t0:.1f} s", file=sys.stderr)


def _draw_range(text: str) -> tuple[int, int]:
    start, sep, stop = text.partition(":")
    if not (sep and start.strip().isdigit() and stop.strip().isdigit()):
        raise SystemExit(f"error: --draws {text!r}: expected START:STOP, two non-negative integers")
    return int(start), int(stop)


def _expand(items, option: str) -> list[str]:
    """Command-line values with every `@file` replaced by the file's whitespace-separated words (the
    workflow passes long file lists that way, so its printed commands stay short)."""
    out = []
    for item in items:
        item = str(item)
        if item.startswith("@"):
            try:
                out += Path(item[1:]).read_text().split()
            except OSError as err:
                raise InputError(f"error: {option} {item}: cannot read ({err.strerror})") from None
        else:
            out.append(item)
    return out


def _pairs(items, option: str) -> dict:
    out = {}
    for item in _expand(items, option):
        role, sep, paths = item.partition("=")
        if not (sep and role and paths):
            raise SystemExit(f"error: {option} {item!r}: expected NAME=FILE[,FILE...]")
        out[role] = paths.split(",")
    return out


def _figure_record(spec: dict, pairs: dict, data: dict) -> dict:
    """A figure's provenance: the record every netCDF output carries (command, versions, commit, the data
    checksum of every input, the figure spec) plus the agreement rows of each experiment it draws, computed
    by the function that writes agreement.csv."""
    from .estimators import agreement_rows

    record = io.provenance(spec=spec, inputs=[p for paths in pairs.values() for p in paths])
    rows = []
    for role, exp in sorted((spec.get("experiments") or {}).items()):
        if role in data and len(data[role]) == 2:
            rows += [{k: (round(v, 6) if isinstance(v, float) else v) for k, v in r.items()}
                     for r in agreement_rows(exp, *data[role])]
    record["agreement"] = rows
    return record


def cmd_figure(args) -> None:
    from .plotting import FIGURE_KINDS, render

    t0 = time.perf_counter()
    spec = _figure_spec(args.spec, "figure")
    pairs = _pairs(args.data, "--data")
    kind = FIGURE_KINDS[spec["kind"]]
    for role in kind.roles or (("data",) if kind.builder else ()):
        if role not in pairs:
            raise SystemExit(f"error: --data: figure kind {spec['kind']!r} needs {role}=FILE[,FILE...]")
    data = {role: [io.read_dataset(p) for p in paths] for role, paths in pairs.items()}
    render(spec, data, args.out, args.png, record=_figure_record(spec, pairs, data), scale=args.scale)
    print(f"figure {spec.get('id', '?')} rendered in {time.perf_counter() - t0:.1f} s", file=sys.stderr)


def cmd_contact_sheet(args) -> None:
    from .plotting import contact_sheet

    contact_sheet(_expand(args.pngs, "PNG"), args.out)


def cmd_agreement(args) -> None:
    from .estimators import write_agreement_csv

    pairs = {name: tuple(io.read_dataset(p) for p in paths) for name, paths in _pairs(args.pair, "--pair").items()}
    for r in write_agreement_csv(pairs, args.out):
        print(f"{r['experiment']:>14s} {r['quantity']:>10s}  median rel dev {r['median_rel_dev']:.3g}  "
              f"max {r['max_rel_dev']:.3g}  median |dev|/SE {r['median_abs_dev_over_se']:.3g}", file=sys.stderr)
    if args.html:
        from .report_tables import agreement_html

        agreement_html(args.out, args.html)


def cmd_spectra_data(args) -> None:
    """Sample the eigenvalues of a random-matrix figure (section A) and evaluate its limiting densities."""
    from . import densities
    from .plotting import FIGURE_KINDS
    from .streams import experiment_key

    t0 = time.perf_counter()
    spec = _figure_spec(args.spec, "spectra-data")
    kind = FIGURE_KINDS[spec["kind"]]
    if kind.builder is None:
        raise cfg.config_error(("figures", spec["id"], "kind"), spec["kind"], "has no random-matrix data builder "
                               "(spectra-data makes the data of wigner, white_wishart, structured_wishart, deep_wishart)")
    entropy = (int(args.seed), experiment_key(spec["id"]))
    ds = getattr(densities, kind.builder)(spec.get("params", {}), entropy)
    seeds = {"root_seed": int(args.seed), "figure": spec["id"], "entropy": list(entropy)}
    io.write_dataset(ds, args.out, io.provenance(spec=spec, seeds=seeds, wall_time=time.perf_counter() - t0))
    print(f"figure {spec['id']} data in {time.perf_counter() - t0:.1f} s", file=sys.stderr)


def cmd_audit(args) -> None:
    from . import audit

    raise SystemExit(audit.main(args.file, verify=args.verify))


def cmd_compare(args) -> None:
    from . import audit

    for folder in (args.before, args.after):
        if not os.path.isdir(folder):
            raise SystemExit(f"error: {folder}: {'not a folder' if os.path.exists(folder) else 'no such folder'}")
    lines, bad = audit.compare_trees(args.before, args.after)
    print("\n".join(lines))
    raise SystemExit(1 if bad else 0)


def cmd_cache(args) -> None:
    from pathlib import Path

    from . import cache

    root = Path(args.root)
    if not (root / "Snakefile").is_file():
        raise InputError(f"error: --root {root}: not a ridgerenorm checkout (no Snakefile there)")
    t0 = time.perf_counter()
    try:
        if args.action == "export":
            info = cache.export_bundle(root, args.scale, args.archive)
            print(f"exported {info['files']} files of results/{args.scale} to {args.archive} "
                  f"({info['bytes'] / 1e6:.1f} MB, {time.perf_counter() - t0:.1f} s)")
        else:
            info = cache.import_bundle(args.archive, root)
            print(f"verified and installed {info['files']} files from {args.archive} ({time.perf_counter() - t0:.1f} s)")
    except cache.BundleError as err:
        raise InputError(str(err)) from None


def cmd_status(args) -> None:
    from . import status

    files = args.configfiles or ["config/config.yaml"] + ([f"config/{args.scale}.yaml"] if args.scale not in (None, "paper") else [])
    raise SystemExit(status.main(files, show_all=not args.stale_only))


def cmd_plan(args) -> None:
    from .costs import experiment_seconds, machine_rates, rates_note
    from .inventory import load_alone_or_overlay
    from .models import model_of

    config = load_alone_or_overlay(args.configfiles)
    names = sorted(config["experiments"])
    if args.experiments is not None:
        unknown = sorted(set(args.experiments) - set(names))
        if unknown:
            raise InputError(f"error: --experiments {' '.join(unknown)}: not in the config "
                             f"(experiments: {', '.join(names)})")
        names = sorted(set(args.experiments))
    if not names:
        print(f"scale {config['scale']!r}: nothing to simulate")
        return
    threads = int(config.get("threads", 2))
    rates = machine_rates(threads, remeasure=args.remeasure)  # at the threads a simulate job gets
    print(f"scale {config['scale']!r}: GEMM {rates['gemm']:.0f} GFLOP/s float64, {rates['gemm32']:.0f} float32 "
          f"({threads} threads), Cholesky {rates['factor']:.1f} GFLOP/s per thread ({rates_note(rates)})")
    print(f"{'experiment':<24}{'model':<27}{'GEMM TFLOP':>11}{'factor TFLOP':>13}{'fits':>9}{'est. time':>11}")
    total = 0.0
    for name in names:
        spec = cfg.experiment_spec(config, name)
        f = model_of(spec).flops(spec)
        seconds = experiment_seconds(rates, f, len(cfg.draw_blocks(spec)), threads)
        total += seconds
        print(f"{name:<24}{spec['model']:<27}{f['gemm'] / 1e12:>11.2f}{f['factor'] / 1e12:>13.2f}{f['fits']:>9d}{seconds / 60:>9.1f} min")
    print(f"total simulation estimate: {total / 60:.1f} min on this machine (figures, theory: about 10 s per job more)")


def cmd_explore(args) -> None:
    from .explore.app import serve

    serve(args.root, args.scale, args.port, open_browser=not args.no_browser)


def cmd_list(args) -> None:
    from . import inventory

    raise SystemExit(inventory.list_main(args.configfile))


def cmd_clean(args) -> None:
    from . import inventory

    raise SystemExit(inventory.clean_main(args.configfile, args.scale, yes=args.yes))


def cmd_summary(args) -> None:
    from . import summary

    raise SystemExit(summary.main(args.results, args.since, args.configfile or ()))


def _curve_arguments(s: argparse.ArgumentParser) -> None:
    """The options of `ridgerenorm curve` (curve.py reads them; the module is imported only when it runs)."""
    g = s.add_argument_group("population (one of three)")
    g.add_argument("--config", nargs="+", metavar="FILE", help="config YAML files, merged in order (with --experiment)")
    g.add_argument("--experiment", metavar="NAME", help="take spectrum, teacher, model and parameters from this experiment")
    g.add_argument("--spectrum", metavar="KIND", help="a spectrum kind of the config (isotropic, power_law, blocks)")
    g.add_argument("--D", type=int, help="input dimension (isotropic, power_law)")
    g.add_argument("--alpha", type=float, help="power-law exponent: eta_k = k^-alpha")
    g.add_argument("--sizes", type=int, nargs="+", help="block sizes (blocks)")
    g.add_argument("--values", type=float, nargs="+", help="block eigenvalues (blocks)")
    g.add_argument("--r", type=float, help="source exponent of a power-law teacher (implies --teacher-kind power_law)")
    g.add_argument("--teacher-kind", help="teacher kind (default: power_law with --r, blocks with --teacher-values, "
                   "else flat)")
    g.add_argument("--teacher-values", type=float, nargs="+", help="teacher weight on each block (blocks)")
    g.add_argument("--teacher-norm", type=float, help="rescale the teacher to this Euclidean norm")
    g.add_argument("--eigenvalues", metavar="FILE", help="population eigenvalues, .npy or .csv (one a line)")
    g.add_argument("--teacher", metavar="FILE", help="teacher weights in the eigenbasis, .npy or .csv (one a line)")
    m = s.add_argument_group("model")
    m.add_argument("--model", help="linear_ridge (default) or random_features")
    m.add_argument("--widths", type=int, nargs="+", metavar="N",
                   help="feature-layer widths N_1 .. N_L (random_features; several: deep features)")
    m.add_argument("--sigma-eps", type=float, help="label-noise std (default 0)")
    m.add_argument("--sigma-xi", type=float, help="additive feature-noise std (random_features; default 0)")
    r = m.add_mutually_exclusive_group()
    r.add_argument("--ridge", type=float, help="a constant ridge lambda")
    r.add_argument("--ridge-power", type=float, metavar="L", help="the ridge schedule lambda = P^-L")
    m.add_argument("--optimal-ridge", action="store_true",
                   help="add the theory-optimal ridge lambda*(P) and the E_g there (lam_opt, eg_opt)")
    m.add_argument("--lambda-bounds", type=float, nargs=2, default=[1e-10, 1e4], metavar=("LO", "HI"),
                   help="search range of the optimal ridge (default: 1e-10 1e4)")
    p = s.add_argument_group("sample sizes (default: the experiment's theory grid, else 1 .. 10 D, 200 points)")
    p.add_argument("--P-min", type=float, help="smallest P")
    p.add_argument("--P-max", type=float, help="largest P")
    p.add_argument("--points", type=int, help="number of P, geometrically spaced (default 200)")
    s.add_argument("--out", required=True, help="netCDF file to write")
    s.add_argument("--png", help="figure to write (default: --out with suffix .png)")


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    p = argparse.ArgumentParser(prog="ridgerenorm", description=__doc__)
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}",
                   help="print the package version (derived from git by setuptools-scm) and exit")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND",
                           help="a pipeline step or tool; `ridgerenorm COMMAND --help` lists its arguments")

    s = sub.add_parser("check-config", help="validate (merged) config files")
    s.add_argument("configfiles", nargs="+", help="config YAML files, merged in order (later files override earlier)")
    s.set_defaults(func=cmd_check_config)

    s = sub.add_parser("spectra-data", help="eigenvalues and limiting densities of a random-matrix figure")
    s.add_argument("--spec", required=True, help="figure spec as JSON, inline or @FILE")
    s.add_argument("--seed", type=int, default=0,
                   help="root seed; the figure's samples draw from (seed, figure id) (default: 0)")
    s.add_argument("--out", required=True, help="netCDF file to write")
    s.set_defaults(func=cmd_spectra_data)

    s = sub.add_parser("audit", help="print how a netCDF output was made; --verify recomputes it and compares bits")
    s.add_argument("file", help="a netCDF file written by a ridgerenorm command")
    s.add_argument("--verify", action="store_true", help="rerun the recorded command in a temporary folder")
    s.set_defaults(func=cmd_audit)

    s = sub.add_parser("compare", help="compare two result trees' netCDF files variable by variable, bit for bit")
    s.add_argument("before", help="a results/<scale> folder")
    s.add_argument("after", help="another results/<scale> folder")
    s.set_defaults(func=cmd_compare)

    s = sub.add_parser("cache", help="export or import the cached results of a scale as one verified archive")
    cache_sub = s.add_subparsers(dest="action", required=True, metavar="ACTION",
                                 help="export (write a bundle) or import (verify and install one)")
    e = cache_sub.add_parser("export", help="write results/<scale>'s cached results and a checksum manifest")
    e.add_argument("--scale", required=True, help="the scale to export (results/<scale>/)")
    e.add_argument("archive", help="the .tar.gz to write")
    e.add_argument("--root", default=".", help="the checkout whose results/ to read (default: .)")
    e.set_defaults(func=cmd_cache)
    i = cache_sub.add_parser("import", help="verify an archive against its manifest and install it")
    i.add_argument("archive", help="a .tar.gz written by `ridgerenorm cache export`")
    i.add_argument("--root", default=".", help="the checkout to install into (default: .)")
    i.set_defaults(func=cmd_cache)

    s = sub.add_parser("explore", help="a local web page that redraws an experiment's theory as you move its "
                       "parameters (needs the extra [explore])")
    s.add_argument("--scale", default="quick", help="the scale whose experiments and simulations are shown: "
                   "config/config.yaml plus config/<scale>.yaml, results/<scale>/ (default: quick)")
    s.add_argument("--port", type=int, default=8050, help="port on 127.0.0.1 (0: any free port; default: 8050)")
    s.add_argument("--no-browser", action="store_true", help="print the address without opening a browser")
    s.add_argument("--root", default=".", help="the checkout whose config/ and results/ to read (default: .)")
    s.set_defaults(func=cmd_explore)

    s = sub.add_parser("status", help="every result of a config: up to date, stale (and why) or missing, from the files alone")
    s.add_argument("configfiles", nargs="*", help="config YAML files, merged in order (default: config/config.yaml, "
                   "plus config/<scale>.yaml with --scale)")
    s.add_argument("--scale", help="a scale whose overlay is config/<scale>.yaml (paper: config/config.yaml alone)")
    s.add_argument("--stale-only", action="store_true", help="list only results that are stale or missing")
    s.set_defaults(func=cmd_status)

    s = sub.add_parser("plan", help="estimate each experiment's flops and run time on this machine")
    s.add_argument("configfiles", nargs="+", help="config YAML files, merged in order (later files override earlier)")
    s.add_argument("--experiments", nargs="*", metavar="NAME",
                   help="only these experiments (the workflow passes those it will simulate; none: nothing to plan)")
    s.add_argument("--remeasure", action="store_true",
                   help="measure this machine's rates again instead of reusing the kept measurement")
    s.set_defaults(func=cmd_plan)

    s = sub.add_parser("list", help="every figure and experiment of a config, with its estimated time at each scale")
    s.add_argument("--configfile", nargs="+", metavar="FILE",
                   help="overlays merged on config/config.yaml, as snakemake --configfile (default: none, the paper scale)")
    s.set_defaults(func=cmd_list)

    s = sub.add_parser("clean", help="files under results/<scale>/ of experiments or figures the config no longer has "
                       "(a dry run; --yes deletes them)")
    s.add_argument("--scale", help="a scale whose overlay is config/<scale>.yaml (default: paper, config/config.yaml alone)")
    s.add_argument("--configfile", nargs="+", metavar="FILE", help="overlays merged on config/config.yaml, instead of --scale")
    s.add_argument("--yes", action="store_true", help="delete the files listed (without it nothing is deleted)")
    s.set_defaults(func=cmd_clean)

    s = sub.add_parser("summary", help="what a finished run made: figures and where, the worst agreement rows, "
                       "how to build the report")
    s.add_argument("results", help="a results/<scale> folder")
    s.add_argument("--since", type=float, help="the run's start (seconds since the epoch): count the figures it wrote")
    s.add_argument("--configfile", nargs="*", metavar="FILE", help="the run's --configfile overlays (for the report command)")
    s.set_defaults(func=cmd_summary)

    s = sub.add_parser("curve", help="theory learning curve E_g(P) for a spectrum of your own, optionally at the "
                       "optimal ridge (no Snakemake)")
    _curve_arguments(s)
    s.set_defaults(func=cmd_curve)

    s = sub.add_parser("spectrum", help="write an experiment's population spectrum and teacher")
    s.add_argument("--spec", required=True, help="experiment parameters as JSON, inline or @FILE")
    s.add_argument("--out", required=True, help="netCDF file to write")
    s.set_defaults(func=cmd_spectrum)

    s = sub.add_parser("simulate", help="simulate a block of data draws of an experiment")
    s.add_argument("--spec", required=True, help="experiment parameters as JSON, inline or @FILE (the simulate step's keys)")
    s.add_argument("--spectrum", required=True, help="population spectrum file written by `ridgerenorm spectrum`")
    s.add_argument("--draws", required=True, help="START:STOP data-draw indices")
    s.add_argument("--threads", type=int, default=1, help="worker and BLAS threads (default: 1)")
    s.add_argument("--mem-gb", type=float, default=16.0,
                   help="memory budget in GB the simulation sizes its chunks of work to (default: 16)")
    s.add_argument("--out", required=True, help="netCDF file to write (one simulation block)")
    s.set_defaults(func=cmd_simulate)

    s = sub.add_parser("merge", help="merge simulation blocks and estimate error components")
    s.add_argument("--spec", required=True, help="experiment parameters as JSON, inline or @FILE (as given to simulate)")
    s.add_argument("--spectrum", help="population spectrum (random features: needed to rebuild the errors)")
    s.add_argument("--out", required=True, help="netCDF file to write (the merged simulation)")
    s.add_argument("blocks", nargs="+", help="simulation block files, together covering every data draw")
    s.set_defaults(func=cmd_merge)

    s = sub.add_parser("theory", help="evaluate the theory on the dense and the simulated grid")
    s.add_argument("--spec", required=True, help="experiment parameters as JSON, inline or @FILE (the theory step's keys)")
    s.add_argument("--spectrum", required=True, help="population spectrum file written by `ridgerenorm spectrum`")
    s.add_argument("--out", required=True, help="netCDF file to write")
    s.set_defaults(func=cmd_theory)

    s = sub.add_parser("figure", help="render one figure to PDF and PNG")
    s.add_argument("--spec", required=True, help="figure spec as JSON, inline or @FILE")
    s.add_argument("--data", nargs="*", default=[], help="ROLE=file.nc[,file.nc...]")
    s.add_argument("--out", required=True, help="PDF path")
    s.add_argument("--png", required=True, help="PNG path")
    s.add_argument("--scale", help="the config's scale; any but paper is tagged in the figure's footnote band")
    s.set_defaults(func=cmd_figure)

    s = sub.add_parser("contact-sheet", help="every figure PNG of a scale as one PDF, a page each, to review")
    s.add_argument("--out", required=True, help="the PDF to write")
    s.add_argument("pngs", nargs="+", help="figure PNG files, in page order, or @FILE listing them")
    s.set_defaults(func=cmd_contact_sheet)

    s = sub.add_parser("agreement", help="simulation-vs-theory agreement table (CSV)")
    s.add_argument("--pair", nargs="+", required=True, help="EXPERIMENT=simulation.nc,theory.nc, or @FILE with one such pair per line")
    s.add_argument("--out", required=True, help="CSV file to write")
    s.add_argument("--html", help="also write the table as an HTML page (the Snakemake report shows it)")
    s.set_defaults(func=cmd_agreement)
    return p


def _one_line(text) -> str:
    return " ".join(str(text).split())


def main(argv=None) -> int:
    """Run one subcommand.  A bad input (config, spec, path, file) is one line on stderr and exit status 2."""
    args = build_parser().parse_args(argv)
    try:
        _load_modules()
        for target in (getattr(args, "out", None), getattr(args, "png", None)):
            if target:
                io.probe_writable(target)  # before any compute: a read-only folder fails in a second, not an hour
        args.func(args)
    except KeyboardInterrupt:  # Ctrl-C: one line, no traceback; a half-written output is removed (io.atomic_path).
        # This clause comes first: cfg and io may not be loaded yet.
        print(f"ridgerenorm {args.command}: interrupted", file=sys.stderr)
        return 130
    except (cfg.ConfigError, InputError, io.CorruptFileError) as err:
        print(str(err), file=sys.stderr)
        return 2
    except OSError as e:  # a missing or unreadable input file, a folder where a file was expected
        where = f"{e.filename}: " if e.filename else ""
        print(f"error: {where}{_one_line(e.strerror or e)}", file=sys.stderr)
        return 2
    except SystemExit as e:
        if isinstance(e.code, str):  # a usage error a step reports in words
            print(_one_line(e.code), file=sys.stderr)
            return 2
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
