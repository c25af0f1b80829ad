"""The `ridgerenorm` command: one function per subcommand (`cmd_<name>`, a pipeline step or a tool), run by
main().  The subcommands' arguments are in commands.py."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from .commands import build_parser

# config, io and spectra (numpy, xarray, ...) are imported by main(), inside its handling of Ctrl-C: a job
# interrupted while it starts up says one line too (deps.py follows the imports of _load_modules).
# Imports placed inside the cmd_<step> functions are placed there on purpose: a step's code stamp (deps.py),
# which its results record and the workflow reruns it by, is the import closure of this module's top-level
# imports plus those inside _load_modules and its own functions.  An import moved to the top joins every
# step's stamp.
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
    pop = io.read_dataset(args.spectrum)
    th = spectra.with_structure(model_of(spec).theory(spec, pop), pop)
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
    from .agreement import write_agreement_csv

    if args.figures and not args.html:
        raise SystemExit(f"error: --figures {args.figures}: needs --html (the verdicts are drawn on the page)")
    pairs = {name: tuple(io.read_dataset(p) for p in paths) for name, paths in _pairs(args.pair, "--pair").items()}
    for r in write_agreement_csv(pairs, args.out):
        print(f"{r['experiment']:>14s} {r['quantity']:>10s}  median rel dev {r['median_rel_dev']:.3g}  "
              f"max {r['max_rel_dev']:.3g}  median |dev|/SE {r['median_abs_dev_over_se']:.3g}", file=sys.stderr)
    if args.html:
        from .report_tables import agreement_html, read_figure_entries

        agreement_html(args.out, args.html, figures=read_figure_entries(args.figures) if args.figures else None)


def cmd_spectra_data(args) -> None:
    """Make the data of a figure that reads no experiment (its kind's builder; section A: sample the
    eigenvalues of its random matrices and evaluate their limiting densities)."""
    from .plotting import FIGURE_KINDS, build_data
    from .streams import experiment_key

    t0 = time.perf_counter()
    spec = _figure_spec(args.spec, "spectra-data")
    if FIGURE_KINDS[spec["kind"]].builder is None:
        makers = ", ".join(sorted(name for name, kind in FIGURE_KINDS.items() if kind.builder))
        raise cfg.config_error(("figures", spec["id"], "kind"), spec["kind"], "has no data builder "
                               f"(spectra-data makes the data of {makers})")
    entropy = (int(args.seed), experiment_key(spec["id"]))
    ds = build_data(spec, entropy)
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
    if not any((root / name).is_file() for name in ("workflow/Snakefile", "Snakefile")):
        raise InputError(f"error: --root {root}: not a ridgerenorm checkout or deployment "
                         "(no workflow/Snakefile there)")
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


# the function that runs each subcommand (commands.py holds their arguments)
COMMANDS = {
    "agreement": cmd_agreement,
    "audit": cmd_audit,
    "cache": cmd_cache,
    "check-config": cmd_check_config,
    "clean": cmd_clean,
    "compare": cmd_compare,
    "contact-sheet": cmd_contact_sheet,
    "curve": cmd_curve,
    "explore": cmd_explore,
    "figure": cmd_figure,
    "list": cmd_list,
    "merge": cmd_merge,
    "plan": cmd_plan,
    "simulate": cmd_simulate,
    "spectra-data": cmd_spectra_data,
    "spectrum": cmd_spectrum,
    "status": cmd_status,
    "summary": cmd_summary,
    "theory": cmd_theory,
}


def _one_line(text) -> str:
    return " ".join(str(text).split())


def main(argv=None) -> int:
    """Run one subcommand.  A bad input (config, spec, path, file) is one line on stderr and exit status 2.

    The `ridgerenorm` command (argv None) of a job in a local Snakemake run is handed to the run's warm worker
    (worker.py), which runs this function in a fork of a process that has the libraries loaded."""
    if argv is None:
        from .worker import delegate

        served = delegate()
        if served is not None:
            return served
    args = build_parser().parse_args(argv)
    try:
        _load_modules()
        for target in (getattr(args, "out", None), getattr(args, "png", None)):
            if target:
                io.probe_writable(target)  # before any compute: a read-only folder fails in a second, not an hour
        COMMANDS[args.command](args)
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


def serve_worker() -> None:
    """The process of a local run's warm worker (worker.start launches it): each job forks and runs main."""
    from .worker import main as worker_main

    worker_main(main)


if __name__ == "__main__":
    sys.exit(main())
