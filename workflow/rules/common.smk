# Shared helpers: config validation, output paths and the per-step parameters each rule passes to the CLI.
import json
import shlex
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.sourcecache import LocalSourceFile
from snakemake.utils import validate

from ridgerenorm import config as rr_config
from ridgerenorm.cache import (
    align_spec_trigger,
    code_stamp,
    foreign_package_notice,
    hold_run_lock,
    scan,
    spec_file,
)
from ridgerenorm.captions import FigureFacts
from ridgerenorm.deps import (
    closure,
    kind_stamp,
    module_files,
    stamp_files,
    step_files,
)
from ridgerenorm.inventory import figure_rule
from ridgerenorm.plotting import FIGURE_KINDS
from ridgerenorm.models import model_of

# One clear line naming the offending key and value, before Snakemake's own (verbose) schema check.
# Snakemake has read the config files itself, keeping the last of two equal keys without a word, so each
# file is read again strictly first (duplicate keys, empty files): the messages of `ridgerenorm check-config`.
# A spectrum's file paths are relative to the config file that gives them: resolved here, before any check.
try:
    for configfile in workflow.configfiles:
        rr_config.read_config_file(configfile)
    rr_config.anchor_config_paths(config, workflow.configfiles)
    rr_config.validate_config(config)
except rr_config.ConfigError as err:
    sys.exit(str(err))
if workflow.is_main_process:
    # a theory infinite on its own grid (ridge 0 at an interpolation threshold): one line each, not an error
    for line in rr_config.config_warnings(config):
        print(line, file=sys.stderr)
validate(config, schema="../schemas/config.schema.yaml")

R = f"results/{config['scale']}"

# The checkout this workflow comes from (its workflow/ folder holds this file), found from the file itself
# and not from the main Snakefile or the working directory: run as a module of another folder (a snakedeploy
# deployment holds only workflow/Snakefile, config/ and results/), the package's sources and the benchmark
# summary script are still the checkout's.  The script is named relative to the working directory when it is
# below it, so a run from the checkout prints `python benchmarks/summary.py ...` as before.
_RULES_DIR = workflow.current_basedir


def local_source_path(source):
    """A local source file's path (get_path_or_uri takes `secret_free` in later Snakemake 9 releases, not in
    9.0, the lowest the project declares)."""
    try:
        return source.get_path_or_uri(secret_free=False)
    except TypeError:
        return source.get_path_or_uri()


SUMMARY_SCRIPT = (
    Path(local_source_path(_RULES_DIR), "../../benchmarks/summary.py")
    if isinstance(_RULES_DIR, LocalSourceFile)
    # a module read from a repository host: Snakemake's local copy of the script
    else Path(str(workflow.source_path("../../benchmarks/summary.py")))
).resolve()
CHECKOUT = SUMMARY_SCRIPT.parents[1]
SUMMARY_COMMAND = (
    SUMMARY_SCRIPT.relative_to(Path.cwd().resolve())
    if SUMMARY_SCRIPT.is_relative_to(Path.cwd().resolve())
    else SUMMARY_SCRIPT
)


def start_worker():
    """A local run's jobs fork from one warm worker (ridgerenorm/worker.py) instead of each importing the
    numerical libraries: started here (onstart), it ends with this process.  RIDGERENORM_WORKER=0 turns it
    off; a cluster run's jobs run in their own processes."""
    import os

    from ridgerenorm import worker

    if os.environ.get(worker.ENV) or not workflow.local_exec or workflow.remote_exec:
        return
    path = worker.start(f"{R}/logs")
    if path:
        os.environ[worker.ENV] = path


def stop_worker():
    """End this run's worker (onsuccess, onerror), once its last job is done: its log is whole when the run
    ends."""
    import os

    from ridgerenorm import worker

    path = os.environ.get(worker.ENV, "")
    if path and path in worker._STARTED:
        worker.stop(path)
        del os.environ[worker.ENV]


# The config files of this run, for `ridgerenorm plan` (onstart); --configfile overlays come last.  Each path
# is shell-quoted: a path is user text and goes into a shell line.
PLAN_CONFIGS = " ".join(
    shlex.quote(str(f)) for f in ["config/config.yaml", *workflow.overwrite_configfiles]
)
# An experiment whose spectrum needs an optional extra this machine lacks (R1's digits: scikit-learn) is left
# out with the figures that draw it (one line each, below), so a run without the extra builds everything else.
EXPERIMENTS = sorted(
    set(config["experiments"]) - set(rr_config.unavailable_experiments(config))
)
_UNAVAILABLE = rr_config.unavailable_figures(config)
if workflow.is_main_process:
    for _line in _UNAVAILABLE.values():
        print(_line, file=sys.stderr)
FIGURES = {
    fid: fig for fid, fig in config["figures"].items() if fid not in _UNAVAILABLE
}
# Before the DAG is built: leftover temporary files and corrupt or truncated netCDF files are removed
# (one line each), so the jobs that make them are planned again instead of crashing downstream.
if workflow.is_main_process:
    # Two runs in one checkout: the second is named the other (live) process before Snakemake's lock stops it.
    _busy = hold_run_lock(".snakemake")
    if _busy:
        print(_busy, file=sys.stderr)
    for line in scan(R):
        print(line, file=sys.stderr)
    # The jobs run `ridgerenorm` from PATH: say so when that is not this checkout's own code (one line).  A
    # module read from a repository host has no checkout to compare with.
    _notice = (
        foreign_package_notice(CHECKOUT)
        if isinstance(_RULES_DIR, LocalSourceFile)
        else None
    )
    if _notice:
        print(_notice, file=sys.stderr)
# Code stamps (ridgerenorm.cache): one file per step holding the SHA-256 of every package file the step's
# command imports (ridgerenorm.deps derives them), rewritten only when that content changes.  A rule lists
# its stamp as input, so an edit to a module reruns exactly the steps that import it, and a fresh clone
# given an earlier run's results reruns nothing.
CODE = {
    step.replace("-", "_"): code_stamp(R, step, step_files(step, CHECKOUT), CHECKOUT)
    for step in (
        "spectrum",
        "simulate",
        "merge",
        "theory",
        "figure",
        "agreement",
        "spectra-data",
        "contact-sheet",
    )
}
CODE["benchmark_summary"] = code_stamp(
    R,
    "benchmark_summary",
    module_files(closure(["ridgerenorm.costs", "ridgerenorm.report_tables"]), CHECKOUT)
    + [str(SUMMARY_SCRIPT)],
    CHECKOUT,
)
# the plot module and the data module of each figure kind, which plotting loads by name
CODE.update(
    {
        name: code_stamp(R, name, stamp_files(name, CHECKOUT), CHECKOUT)
        for name in sorted(
            {kind_stamp("plot_", kind.plot_module) for kind in FIGURE_KINDS.values()}
            | {
                kind_stamp("data_", kind.builder_module)
                for kind in FIGURE_KINDS.values()
                if kind.builder
            }
        )
    }
)


wildcard_constraints:
    exp="|".join(EXPERIMENTS),
    fid="[A-Z][0-9]+",
    start=r"\d+",
    stop=r"\d+",


# Argument files: the JSON parameters of every step and the long file lists, written under
# results/<scale>/specs/ when the workflow is read, so a job's shell line reads
# `--spec @results/quick/specs/c2_isotropic.simulate.<sha>.json` and stays short and runnable by hand.  Each
# file is named by its content and never rewritten (ridgerenorm.cache.spec_file): no later start, with this
# config or another, can change what a running job reads.  The parameter files are also rule inputs, and
# their modification time is set from the results themselves (align_spec_triggers below): a result whose
# recorded parameters differ from today's is planned again, with or without Snakemake's .snakemake/ records.
# The experiment rules and spectra_data also list the JSON text itself as a parameter (`settings`), which
# Snakemake's params trigger compares where it has records; the figure rules, whose parameters the report
# lists, leave it to their spec file.
SPECS = f"{R}/specs"


class ArgFile:
    """A `@path` command-line argument; not a plain value, so the params trigger skips it."""

    def __init__(self, path):
        self.path = path

    def __str__(self):
        return f"@{self.path}"


def arg_file(name, text):
    """`text` in results/<scale>/specs/, content-addressed (written once, by the main process), as an
    `@path` argument."""
    return ArgFile(spec_file(SPECS, name, text, write=workflow.is_main_process))


def step_json(exp, step):
    """An experiment's parameters for one step, as JSON text."""
    return json.dumps(rr_config.step_spec(config, exp, step), sort_keys=True)


def step_settings(exp, step):
    return shlex.quote(step_json(exp, step))


def step_arg(exp, step):
    """The `@file` argument holding an experiment's parameters for one step."""
    return arg_file(f"{exp}.{step}.json", step_json(exp, step) + "\n")


def block_files(exp):
    spec = rr_config.experiment_spec(config, exp)
    return [
        f"{R}/simulation/{exp}/draws_{a}-{b}.nc" for a, b in rr_config.draw_blocks(spec)
    ]


def simulate_mem_mb(wildcards, threads):
    spec = rr_config.experiment_spec(config, wildcards.exp)
    n = int(wildcards.stop) - int(wildcards.start)
    return model_of(spec).memory_mb(
        spec, n, config.get("mem_budget_gb", 16) * 1e9, threads
    )


def all_local_cores(wildcards):
    """Every core of a local run (--cores), so a job that times the machine runs alone.  A cluster run gives
    --jobs and no --cores, where workflow.cores is undefined (reading it raises): there the job asks for
    the configured threads per job, like the other multi-threaded rules."""
    try:
        return workflow.cores
    except WorkflowError:
        return config.get("threads", 2)


def figure_file(fid, ext):
    return f"{R}/figures/{fid}_{FIGURES[fid]['name']}.{ext}"


def figure_labels(fid):
    """The report's columns for a figure: its id, its name and the section of the paper."""
    fig = FIGURES[fid]
    return {"figure": fid, "name": fig["name"], "section": fig.get("section", "")}


def figure_kind(fid):
    return FIGURE_KINDS[FIGURES[fid]["kind"]]


def figure_inputs(fid):
    """role -> [files] the figure reads: simulation and theory of each experiment, or its own data."""
    if figure_kind(fid).builder:
        return {"data": [f"{R}/spectra_data/{fid}.nc"]}
    return {
        role: [f"{R}/simulation/{exp}.nc", f"{R}/theory/{exp}.nc"]
        for role, exp in sorted(FIGURES[fid].get("experiments", {}).items())
    }


def figure_json(fid):
    return json.dumps(dict(FIGURES[fid], id=fid), sort_keys=True)


def figure_settings(fid):
    return shlex.quote(figure_json(fid))


def figure_spec_arg(fid):
    """The `@file` argument holding a figure's config entry (with its id)."""
    return arg_file(f"figure_{fid}.json", figure_json(fid) + "\n")


def figure_data_arg(fid):
    """The `@file` argument listing a figure's data files by role, one ROLE=FILE[,FILE] a line: a figure of many
    experiments (R1 reads eight) keeps its printed command short."""
    return arg_file(
        f"figure_{fid}_data.txt",
        "".join(
            f"{role}={','.join(files)}\n" for role, files in figure_inputs(fid).items()
        ),
    )


def figure_ids(rule):
    """The wildcard constraint of a figure rule: the ids of the figures it draws (inventory.figure_rule)."""
    ids = sorted(fid for fid in FIGURES if figure_rule(FIGURES[fid]) == rule)
    return (
        "|".join(ids) if ids else "(?!)"
    )  # (?!) matches nothing: a config without such figures


def to_simulate(workflow):
    """The experiments whose simulation this run will (re)compute, from the planned jobs."""
    jobs = workflow.dag.needrun_jobs()
    return sorted(
        {
            j.wildcards["exp"]
            for j in jobs
            if j.rule.name in ("simulate", "merge_simulation")
        }
    )


def simulated_experiments():
    used = {e for f in FIGURES.values() for e in f.get("experiments", {}).values()}
    return sorted(used)


def cached_results():
    """The netCDF results a bundle carries: every figure's spectra data and every used experiment's
    population, merged simulation and theory.  They are targets themselves, so one that is missing
    (or was removed as corrupt) is rebuilt even when the figures made from it still exist.
    """
    spectra_data = [
        f"{R}/spectra_data/{fid}.nc"
        for fid in sorted(FIGURES)
        if figure_kind(fid).builder
    ]
    return spectra_data + [
        f"{R}/{kind}/{e}.nc"
        for e in simulated_experiments()
        for kind in ("spectra", "simulation", "theory")
    ]


def all_targets():
    figs = [figure_file(fid, ext) for fid in sorted(FIGURES) for ext in ("pdf", "png")]
    agreement = [f"{R}/agreement.csv"] if simulated_experiments() else []
    return (
        figs
        + agreement
        + [f"{R}/benchmark_summary.md", f"{R}/contact_sheet.pdf"]
        + cached_results()
    )


# Every argument file is written now, so each job's printed command can be rerun by hand at once; and each
# existing result is held to the parameters it records (one line per stale result).
if workflow.is_main_process:
    for _exp in EXPERIMENTS:
        for _step, _kind in (
            ("spectrum", "spectra"),
            ("simulate", "simulation"),
            ("theory", "theory"),
        ):
            for _line in align_spec_trigger(
                step_arg(_exp, _step).path,
                [f"{R}/{_kind}/{_exp}.nc"],
                rr_config.step_spec(config, _exp, _step),
            ):
                print(_line, file=sys.stderr)
    for _fid in FIGURES:
        _results = [figure_file(_fid, "png"), figure_file(_fid, "pdf")]
        if figure_kind(_fid).builder:
            _results.append(f"{R}/spectra_data/{_fid}.nc")
        for _line in align_spec_trigger(
            figure_spec_arg(_fid).path, _results, json.loads(figure_json(_fid))
        ):
            print(_line, file=sys.stderr)
