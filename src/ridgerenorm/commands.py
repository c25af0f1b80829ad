"""The command line's grammar: every `ridgerenorm` subcommand and its arguments.  cli.py runs them (one
function per subcommand); audit.py parses a result's recorded command with the same parser, without running
it, so the grammar sits apart from the commands."""

from __future__ import annotations

import argparse

__all__ = ["DESCRIPTION", "build_parser"]

DESCRIPTION = ("Command-line entry point: one subcommand per pipeline step, so every Snakemake rule is a shell "
               "line a person can rerun by hand.  Run `ridgerenorm <command> --help` for the arguments.")


def _curve_arguments(s: argparse.ArgumentParser) -> None:
    """The options of `ridgerenorm curve` (curve.py reads them; the module is imported only when it runs)."""
    # every key of a registered spectrum kind is the option of its name (--D, --path, ...); a teacher key k is
    # --teacher-k (curve.py builds the specs from these names through the registry)
    g = s.add_argument_group("population (one of two: a spectrum kind, or a config's experiment)")
    g.add_argument("--config", nargs="+", metavar="FILE", help="config YAML files, merged in order (with --experiment)")
    g.add_argument("--experiment", metavar="NAME", help="take spectrum, teacher, model and parameters from this experiment")
    g.add_argument("--spectrum", metavar="KIND", help="a registered spectrum kind (isotropic, power_law, blocks, file, "
                   "dataset, digits, ...; docs/spectrum_kinds.md), its keys as the options below")
    g.add_argument("--D", type=int, help="input dimension (isotropic, power_law)")
    g.add_argument("--alpha", type=float, help="power-law exponent: eta_k = k^-alpha")
    g.add_argument("--sizes", type=int, nargs="+", help="block sizes (blocks)")
    g.add_argument("--values", type=float, nargs="+", help="block eigenvalues (blocks)")
    g.add_argument("--path", metavar="FILE", help="file: eta (and w, sigma_eps) in a .npy, .csv or .nc file; "
                   "dataset: the data matrix X (n x D)")
    g.add_argument("--w-path", metavar="FILE", help="file: the teacher w in its own .npy, .csv or .nc file")
    g.add_argument("--labels", metavar="FILE", help="dataset: the labels y (n values), when --path does not hold them")
    g.add_argument("--r", "--teacher-r", dest="teacher_r", type=float,
                   help="source exponent of a power-law teacher (implies --teacher-kind power_law)")
    g.add_argument("--teacher-kind", help="teacher kind (default: the kind whose keys are given, e.g. power_law with "
                   "--r; else the spectrum's own teacher that needs no key (file, dataset); else flat)")
    g.add_argument("--teacher-values", type=float, nargs="+", help="teacher weight on each block (blocks)")
    g.add_argument("--teacher-target", help="digits: labels or linear")
    g.add_argument("--teacher-norm", type=float, help="rescale the teacher to this Euclidean norm")
    g.add_argument("--eigenvalues", metavar="FILE", help="the same as --spectrum file --path FILE")
    g.add_argument("--teacher", metavar="FILE", help="the same as --spectrum file --w-path FILE")
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

    s = sub.add_parser("explore", help="a local web page that redraws an experiment's theory as you move its "
                       "parameters (needs the extra [explore])")
    s.add_argument("--scale", default="quick", help="the scale whose experiments and simulations are shown: "
                   "config/config.yaml plus config/<scale>.yaml, results/<scale>/ (default: quick)")
    s.add_argument("--port", type=int, default=8050, help="port on 127.0.0.1 (0: any free port; default: 8050)")
    s.add_argument("--no-browser", action="store_true", help="print the address without opening a browser")
    s.add_argument("--root", default=".", help="the checkout whose config/ and results/ to read (default: .)")

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

    s = sub.add_parser("list", help="every figure and experiment of a config, with its estimated time at each scale")
    s.add_argument("--configfile", nargs="+", metavar="FILE",
                   help="overlays merged on config/config.yaml, as snakemake --configfile (default: none, the paper scale)")

    s = sub.add_parser("clean", help="files under results/<scale>/ of experiments or figures the config no longer has "
                       "(a dry run; --yes deletes them)")
    s.add_argument("--scale", help="a scale whose overlay is config/<scale>.yaml (default: paper, config/config.yaml alone)")
    s.add_argument("--configfile", nargs="+", metavar="FILE", help="overlays merged on config/config.yaml, instead of --scale")
    s.add_argument("--yes", action="store_true", help="delete the files listed (without it nothing is deleted)")

    s = sub.add_parser("summary", help="what a finished run made: figures and where, the worst agreement rows, "
                       "how to build the report")
    s.add_argument("results", help="a results/<scale> folder")
    s.add_argument("--since", type=float, help="the run's start (seconds since the epoch): count the figures it wrote")
    s.add_argument("--configfile", nargs="*", metavar="FILE", help="the run's --configfile overlays (for the report command)")

    s = sub.add_parser("curve", help="theory learning curve E_g(P) for a spectrum of your own, optionally at the "
                       "optimal ridge (no Snakemake)")
    _curve_arguments(s)

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
    s.add_argument("--scale", help="the config's scale; any but paper is tagged in the figure's footnote band")

    s = sub.add_parser("contact-sheet", help="every figure PNG of a scale as one PDF, a page each, to review")
    s.add_argument("--out", required=True, help="the PDF to write")
    s.add_argument("pngs", nargs="+", help="figure PNG files, in page order, or @FILE listing them")

    s = sub.add_parser("agreement", help="simulation-vs-theory agreement table (CSV)")
    s.add_argument("--pair", nargs="+", required=True, help="EXPERIMENT=simulation.nc,theory.nc, or @FILE with one such pair per line")
    s.add_argument("--out", required=True, help="CSV file to write")
    s.add_argument("--html", help="also write the table as an HTML page (the Snakemake report shows it)")
    s.add_argument("--figures", help="with --html: JSON file, figure id -> its verdict entry (ridgerenorm.verdicts), "
                   "for the page's overall verdict and one verdict per figure")
    return p
