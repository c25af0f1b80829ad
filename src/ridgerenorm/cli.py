"""Command-line entry point: one subcommand per pipeline step, so every Snakemake rule is a shell line
a person can rerun by hand.  Run `ridgerenorm <command> --help` for the arguments."""

from __future__ import annotations

import argparse
import json
import sys
import time

from . import config as cfg
from . import io, spectra
from .models import model_of


def _spec(text: str) -> dict:
    spec = json.loads(text)
    if "name" in spec and "spectrum" in spec:
        body = {k: v for k, v in spec.items() if k not in ("name", "seed", "D")}
        cfg.check_experiment(spec["name"], body, partial=True)
    return spec


# --------------------------------------------------------------------------------------------- steps


def cmd_check_config(args) -> None:
    config = cfg.load_config(*args.configfiles)
    print(f"config OK: scale {config['scale']!r}, {len(config['experiments'])} experiments, {len(config['figures'])} figures")


def cmd_spectrum(args) -> None:
    t0 = time.perf_counter()
    spec = _spec(args.spec)
    ds = spectra.population_dataset(spec["spectrum"], spec["teacher"])
    io.write_dataset(ds, args.out, io.provenance(spec=spec, wall_time=time.perf_counter() - t0))


def cmd_simulate(args) -> None:
    t0 = time.perf_counter()
    spec = _spec(args.spec)
    model = model_of(spec)
    pop = io.read_dataset(args.spectrum)
    start, stop = (int(x) for x in args.draws.split(":"))
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


def cmd_merge(args) -> None:
    t0 = time.perf_counter()
    spec = _spec(args.spec)
    model = model_of(spec)
    blocks = [io.read_dataset(p) for p in args.blocks]
    if model.merge_needs_spectrum and not args.spectrum:
        raise SystemExit(f"error: merge of model {model.name!r} needs --spectrum")
    pop = io.read_dataset(args.spectrum) if model.merge_needs_spectrum else None
    merged, extra = model.merge(spec, blocks, pop)
    seeds = extra.pop("seeds", None)
    inputs = args.blocks + ([args.spectrum] if model.merge_needs_spectrum else [])
    io.write_dataset(merged, args.out, io.provenance(spec=spec, inputs=inputs, seeds=seeds,
                                                     wall_time=time.perf_counter() - t0, extra=extra))


def cmd_theory(args) -> None:
    t0 = time.perf_counter()
    spec = _spec(args.spec)
    th = model_of(spec).theory(spec, io.read_dataset(args.spectrum))
    io.write_dataset(th, args.out, io.provenance(spec=spec, inputs=[args.spectrum], wall_time=time.perf_counter() - t0))


def _pairs(items) -> dict:
    out = {}
    for item in items:
        role, _, paths = item.partition("=")
        out[role] = paths.split(",")
    return out


def cmd_figure(args) -> None:
    from .plotting import render

    t0 = time.perf_counter()
    spec = _spec(args.spec)
    data = {role: [io.read_dataset(p) for p in paths] for role, paths in _pairs(args.data).items()}
    render(spec, data, args.out, args.png)
    print(f"figure {spec.get('id', '?')} rendered in {time.perf_counter() - t0:.1f} s", file=sys.stderr)


def cmd_agreement(args) -> None:
    from .estimators import write_agreement_csv

    pairs = {name: tuple(io.read_dataset(p) for p in paths) for name, paths in _pairs(args.pair).items()}
    for r in write_agreement_csv(pairs, args.out):
        print(f"{r['experiment']:>14s} {r['quantity']:>10s}  median rel dev {r['median_rel_dev']:.3g}  "
              f"max {r['max_rel_dev']:.3g}  median |dev|/SE {r['median_abs_dev_over_se']:.3g}", file=sys.stderr)


def cmd_spectra_data(args) -> None:
    """Sample the eigenvalues of a random-matrix figure (section A) and evaluate its limiting densities."""
    from . import densities
    from .plotting import FIGURE_KINDS
    from .streams import experiment_key

    t0 = time.perf_counter()
    spec = json.loads(args.spec)
    kind = FIGURE_KINDS.get(spec.get("kind"))
    if kind is None or kind.builder is None:
        raise SystemExit(f"error: figure kind {spec.get('kind')!r} has no random-matrix data builder")
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

    lines, bad = audit.compare_trees(args.before, args.after)
    print("\n".join(lines))
    raise SystemExit(1 if bad else 0)


def cmd_plan(args) -> None:
    from .costs import measured_rates

    config = cfg.load_config(*args.configfiles)
    threads = int(config.get("threads", 2))
    rates = measured_rates(threads)  # at the threads a simulate job gets
    print(f"scale {config['scale']!r}: measured float64 GEMM {rates['gemm']:.0f} GFLOP/s ({threads} threads), "
          f"Cholesky {rates['factor']:.1f} GFLOP/s per thread")
    print(f"{'experiment':<22}{'model':<17}{'GEMM TFLOP':>11}{'factor TFLOP':>13}{'fits':>9}{'est. time':>11}")
    total = 0.0
    for name in sorted(config["experiments"]):
        spec = cfg.experiment_spec(config, name)
        f = model_of(spec).flops(spec)
        jobs = len(cfg.draw_blocks(spec))
        # GEMM on all threads; factorizations one per thread; ~3 s interpreter start-up per job.
        seconds = (f["gemm"] + f["merge"]) / (rates["gemm"] * 1e9) + f["factor"] / (rates["factor"] * 1e9 * threads) + 3.0 * (jobs + 3)
        total += seconds
        print(f"{name:<22}{spec['model']:<17}{f['gemm'] / 1e12:>11.2f}{f['factor'] / 1e12:>13.2f}{f['fits']:>9d}{seconds / 60:>9.1f} min")
    print(f"total simulation estimate: {total / 60:.1f} min on this machine (figures, theory: about 10 s per job more)")


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
    s.add_argument("--spec", required=True, help="figure spec as JSON")
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

    s = sub.add_parser("plan", help="estimate each experiment's flops and run time on this machine")
    s.add_argument("configfiles", nargs="+", help="config YAML files, merged in order (later files override earlier)")
    s.set_defaults(func=cmd_plan)

    s = sub.add_parser("spectrum", help="write an experiment's population spectrum and teacher")
    s.add_argument("--spec", required=True, help="experiment parameters as JSON")
    s.add_argument("--out", required=True, help="netCDF file to write")
    s.set_defaults(func=cmd_spectrum)

    s = sub.add_parser("simulate", help="simulate a block of data draws of an experiment")
    s.add_argument("--spec", required=True, help="experiment parameters as JSON (the simulate step's keys)")
    s.add_argument("--spectrum", required=True, help="population spectrum file written by `ridgerenorm spectrum`")
    s.add_argument("--draws", required=True, help="START:STOP data-draw indices")
    s.add_argument("--threads", type=int, default=1, help="worker and BLAS threads (default: 1)")
    s.add_argument("--mem-gb", type=float, default=16.0,
                   help="memory budget in GB the simulation sizes its chunks of work to (default: 16)")
    s.add_argument("--out", required=True, help="netCDF file to write (one simulation block)")
    s.set_defaults(func=cmd_simulate)

    s = sub.add_parser("merge", help="merge simulation blocks and estimate error components")
    s.add_argument("--spec", required=True, help="experiment parameters as JSON (as given to simulate)")
    s.add_argument("--spectrum", help="population spectrum (random features: needed to rebuild the errors)")
    s.add_argument("--out", required=True, help="netCDF file to write (the merged simulation)")
    s.add_argument("blocks", nargs="+", help="simulation block files, together covering every data draw")
    s.set_defaults(func=cmd_merge)

    s = sub.add_parser("theory", help="evaluate the theory on the dense and the simulated grid")
    s.add_argument("--spec", required=True, help="experiment parameters as JSON (the theory step's keys)")
    s.add_argument("--spectrum", required=True, help="population spectrum file written by `ridgerenorm spectrum`")
    s.add_argument("--out", required=True, help="netCDF file to write")
    s.set_defaults(func=cmd_theory)

    s = sub.add_parser("figure", help="render one figure to PDF and PNG")
    s.add_argument("--spec", required=True, help="figure spec as JSON")
    s.add_argument("--data", nargs="*", default=[], help="ROLE=file.nc[,file.nc...]")
    s.add_argument("--out", required=True, help="PDF path")
    s.add_argument("--png", required=True, help="PNG path")
    s.set_defaults(func=cmd_figure)

    s = sub.add_parser("agreement", help="simulation-vs-theory agreement table (CSV)")
    s.add_argument("--pair", nargs="+", required=True, help="EXPERIMENT=simulation.nc,theory.nc")
    s.add_argument("--out", required=True, help="CSV file to write")
    s.set_defaults(func=cmd_agreement)
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except cfg.ConfigError as e:
        print(str(e), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
