# Shared helpers: config validation, output paths and the per-step parameters each rule passes to the CLI.
import json
import shlex
import sys

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from ridgerenorm import config as rr_config
from ridgerenorm.captions import FigureFacts
from ridgerenorm.deps import closure, module_files, step_files
from ridgerenorm.plotting import FIGURE_KINDS
from ridgerenorm.models import model_of

# One clear line naming the offending key and value, before Snakemake's own (verbose) schema check.
try:
    rr_config.validate_config(config)
except rr_config.ConfigError as err:
    sys.exit(str(err))
validate(config, schema="../schemas/config.schema.yaml")

R = f"results/{config['scale']}"
# The config files of this run, for `ridgerenorm plan` (onstart); --configfile overlays come last.
PLAN_CONFIGS = " ".join(
    ["config/config.yaml"] + [str(f) for f in workflow.overwrite_configfiles]
)
EXPERIMENTS = sorted(config["experiments"])
FIGURES = config["figures"]
# The package files each step's command imports (ridgerenorm.deps derives them from the code): a rule lists
# them as inputs, so an edit to a module reruns exactly the steps that run it.
CODE = {
    step.replace("-", "_"): step_files(step, workflow.basedir)
    for step in (
        "spectrum",
        "simulate",
        "merge",
        "theory",
        "figure",
        "agreement",
        "spectra-data",
    )
}
CODE["benchmark_summary"] = module_files(
    closure(["ridgerenorm.costs"]), workflow.basedir
) + ["benchmarks/summary.py"]


wildcard_constraints:
    exp="|".join(EXPERIMENTS),
    fid="[A-Z][0-9]+",
    start=r"\d+",
    stop=r"\d+",


def step_arg(exp, step):
    """An experiment's parameters for one step, as a shell-quoted JSON argument."""
    return shlex.quote(
        json.dumps(rr_config.step_spec(config, exp, step), sort_keys=True)
    )


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


def figure_spec_arg(fid):
    spec = dict(FIGURES[fid], id=fid)
    return shlex.quote(json.dumps(spec, sort_keys=True))


def simulated_experiments():
    used = {e for f in FIGURES.values() for e in f.get("experiments", {}).values()}
    return sorted(used)


def all_targets():
    figs = [figure_file(fid, ext) for fid in sorted(FIGURES) for ext in ("pdf", "png")]
    agreement = [f"{R}/agreement.csv"] if simulated_experiments() else []
    return figs + agreement + [f"{R}/benchmark_summary.md"]
