"""The command line's grammar: every `ridgerenorm` subcommand and its arguments.  cli.py runs them (one
function per subcommand); audit.py parses a result's recorded command with the same parser, without running
it, so the grammar sits apart from the commands."""

from __future__ import annotations

import argparse

__all__ = ["DESCRIPTION", "build_parser"]

DESCRIPTION = ("Command-line entry point: one subcommand per pipeline step, so every Snakemake rule is a shell "
               "line a person can rerun by hand.  Run `ridgerenorm <command> --help` for the arguments.")


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    p = argparse.ArgumentParser(prog="ridgerenorm", description=DESCRIPTION)
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}",
                   help="print the package version (derived from git by setuptools-scm) and exit")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND",
                           help="a pipeline step or tool; `ridgerenorm COMMAND --help` lists its arguments")

    s = sub.add_parser("check-config", help="validate (merged) config files")
    s.add_argument("configfiles", nargs="+", help="config YAML files, merged in order (later files override earlier)")

    s = sub.add_parser("spectra-data", help="eigenvalues and limiting densities of a random-matrix figure")
    s.add_argument("--spec", required=True, help="figure spec as JSON, inline or @FILE")
    s.add_argument("--seed", type=int, default=0,
                   help="root seed; the figure's samples draw from (seed, figure id) (default: 0)")
    s.add_argument("--out", required=True, help="netCDF file to write")

    s = sub.add_parser("audit", help="print how a netCDF output was made; --verify recomputes it and compares bits")
    s.add_argument("file", help="a netCDF file written by a ridgerenorm command")
    s.add_argument("--verify", action="store_true", help="rerun the recorded command in a temporary folder")

    s = sub.add_parser("compare", help="compare two result trees' netCDF files variable by variable, bit for bit")
    s.add_argument("before", help="a results/<scale> folder")
    s.add_argument("after", help="another results/<scale> folder")

    s = sub.add_parser("cache", help="export or import the cached results of a scale as one verified archive")
    cache_sub = s.add_subparsers(dest="action", required=True, metavar="ACTION",
                                 help="export (write a bundle) or import (verify and install one)")
    e = cache_sub.add_parser("export", help="write results/<scale>'s cached results and a checksum manifest")
    e.add_argument("--scale", required=True, help="the scale to export (results/<scale>/)")
    e.add_argument("archive", help="the .tar.gz to write")
    e.add_argument("--root", default=".", help="the checkout whose results/ to read (default: .)")
    i = cache_sub.add_parser("import", help="verify an archive against its manifest and install it")
    i.add_argument("archive", help="a .tar.gz written by `ridgerenorm cache export`")
    i.add_argument("--root", default=".", help="the checkout to install into (default: .)")

    s = sub.add_parser("status", help="every result of a config: up to date, stale (and why) or missing, from the files alone")
    s.add_argument("configfiles", nargs="*", help="config YAML files, merged in order (default: config/config.yaml, "
                   "plus config/<scale>.yaml with --scale)")
    s.add_argument("--scale", help="a scale whose overlay is config/<scale>.yaml (paper: config/config.yaml alone)")
    s.add_argument("--stale-only", action="store_true", help="list only results that are stale or missing")

    s = sub.add_parser("plan", help="estimate each experiment's flops and run time on this machine")
    s.add_argument("configfiles", nargs="+", help="config YAML files, merged in order (later files override earlier)")
    s.add_argument("--experiments", nargs="*", metavar="NAME",
                   help="only these experiments (the workflow passes those it will simulate; none: nothing to plan)")
    s.add_argument("--remeasure", action="store_true",
                   help="measure this machine's rates again instead of reusing the kept measurement")

    s = sub.add_parser("spectrum", help="write an experiment's population spectrum and teacher")
    s.add_argument("--spec", required=True, help="experiment parameters as JSON, inline or @FILE")
    s.add_argument("--out", required=True, help="netCDF file to write")

    s = sub.add_parser("simulate", help="simulate a block of data draws of an experiment")
    s.add_argument("--spec", required=True, help="experiment parameters as JSON, inline or @FILE (the simulate step's keys)")
    s.add_argument("--spectrum", required=True, help="population spectrum file written by `ridgerenorm spectrum`")
    s.add_argument("--draws", required=True, help="START:STOP data-draw indices")
    s.add_argument("--threads", type=int, default=1, help="worker and BLAS threads (default: 1)")
    s.add_argument("--mem-gb", type=float, default=16.0,
                   help="memory budget in GB the simulation sizes its chunks of work to (default: 16)")
    s.add_argument("--out", required=True, help="netCDF file to write (one simulation block)")

    s = sub.add_parser("merge", help="merge simulation blocks and estimate error components")
    s.add_argument("--spec", required=True, help="experiment parameters as JSON, inline or @FILE (as given to simulate)")
    s.add_argument("--spectrum", help="population spectrum (random features: needed to rebuild the errors)")
    s.add_argument("--out", required=True, help="netCDF file to write (the merged simulation)")
    s.add_argument("blocks", nargs="+", help="simulation block files, together covering every data draw")

    s = sub.add_parser("theory", help="evaluate the theory on the dense and the simulated grid")
    s.add_argument("--spec", required=True, help="experiment parameters as JSON, inline or @FILE (the theory step's keys)")
    s.add_argument("--spectrum", required=True, help="population spectrum file written by `ridgerenorm spectrum`")
    s.add_argument("--out", required=True, help="netCDF file to write")

    s = sub.add_parser("figure", help="render one figure to PDF and PNG")
    s.add_argument("--spec", required=True, help="figure spec as JSON, inline or @FILE")
    s.add_argument("--data", nargs="*", default=[], help="ROLE=file.nc[,file.nc...]")
    s.add_argument("--out", required=True, help="PDF path")
    s.add_argument("--png", required=True, help="PNG path")

    s = sub.add_parser("contact-sheet", help="every figure PNG of a scale as one PDF, a page each, to review")
    s.add_argument("--out", required=True, help="the PDF to write")
    s.add_argument("pngs", nargs="+", help="figure PNG files, in page order, or @FILE listing them")

    s = sub.add_parser("agreement", help="simulation-vs-theory agreement table (CSV)")
    s.add_argument("--pair", nargs="+", required=True, help="EXPERIMENT=simulation.nc,theory.nc, or @FILE with one such pair per line")
    s.add_argument("--out", required=True, help="CSV file to write")
    s.add_argument("--html", help="also write the table as an HTML page (the Snakemake report shows it)")
    return p
