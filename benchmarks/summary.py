"""Summarize a pipeline run's benchmark files against this machine's float64 matmul rate.

    python benchmarks/summary.py results/paper          # markdown tables on stdout

Reads Snakemake's benchmark TSVs (results/<scale>/benchmarks/<rule>/...), the flop counts recorded in the
simulation netCDF attributes, and compares with the float64 GEMM rate (n = 3000, on --threads BLAS threads,
default all), which ridgerenorm.costs.machine_rates measures once per machine and keeps.  Wall times are per job; the whole-run time is what `time snakemake ...` reports.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
from collections import defaultdict
from pathlib import Path

from ridgerenorm.costs import machine_rates


def benchmark_rows(results: Path):
    for tsv in sorted((results / "benchmarks").rglob("*.tsv")):
        rel = tsv.relative_to(results / "benchmarks")
        with open(tsv) as f:
            row = next(csv.DictReader(f, delimiter="\t"))
        rule = rel.parts[0] if len(rel.parts) > 1 else rel.stem
        job = str(rel.with_suffix("").relative_to(rule)) if len(rel.parts) > 1 else "-"
        yield rule, job, float(row["s"]), row.get("max_rss", "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", type=Path, help="results/<scale> folder of a finished run")
    parser.add_argument("--out", type=Path, help="write the tables to this file (atomically) instead of stdout")
    parser.add_argument("--html", type=Path,
                        help="also write the tables as an HTML page (with --out; the Snakemake report shows it)")
    parser.add_argument("--threads", type=int, default=os.cpu_count(),
                        help="BLAS threads of the matmul-rate measurement (default: every CPU, os.cpu_count())")
    args = parser.parse_args()
    if args.out:
        import contextlib
        import io as _io

        from ridgerenorm.io import atomic_path

        buffer = _io.StringIO()
        with contextlib.redirect_stdout(buffer):
            report(args)
        with atomic_path(args.out) as tmp:
            tmp.write_text(buffer.getvalue())
        if args.html:
            from ridgerenorm.report_tables import markdown_html

            with atomic_path(args.html) as tmp:
                tmp.write_text(markdown_html(buffer.getvalue(), "Run time and performance"))
        return
    report(args)


def report(args) -> None:
    threads = args.threads
    rates = machine_rates(threads)
    rate = rates["gemm"]
    print(f"float64 matmul rate on this machine: {rate:.1f} GFLOP/s ({threads} BLAS threads; "
          f"measured {rates['measured']}, kept per machine by ridgerenorm.costs.machine_rates)\n")

    per_rule = defaultdict(lambda: [0, 0.0])
    print("| rule | job | wall (s) | max RSS (MB) |\n|---|---|---:|---:|")
    for rule, job, s, rss in benchmark_rows(args.results):
        per_rule[rule][0] += 1
        per_rule[rule][1] += s
        print(f"| {rule} | {job} | {s:.1f} | {rss} |")
    print("\n| rule | jobs | total wall (s) |\n|---|---:|---:|")
    for rule, (n, s) in sorted(per_rule.items()):
        print(f"| {rule} | {n} | {s:.1f} |")

    print("\n| experiment | simulation wall (s) | GFLOP | GFLOP/s | % of matmul rate |\n|---|---:|---:|---:|---:|")
    import xarray as xr

    for nc in sorted((args.results / "simulation").glob("*.nc")):
        with xr.open_dataset(nc) as ds:
            wall, flops = float(ds.attrs["simulation_wall_time_s"]), float(ds.attrs["flops_total"])
        print(f"| {nc.stem} | {wall:.1f} | {flops / 1e9:.0f} | {flops / 1e9 / wall:.1f} | {100 * flops / 1e9 / wall / rate:.0f} % |")
    summary = {"matmul_gflops": rate, "per_rule_wall_s": {k: v[1] for k, v in per_rule.items()}}
    print("\n" + json.dumps(summary, sort_keys=True))


if __name__ == "__main__":
    main()
