# ridgerenorm: every figure of "Scaling and renormalization in high-dimensional regression".
#   snakemake --cores all                                  paper scale  -> results/paper/
#   snakemake --cores all --configfile config/quick.yaml   quick scale  -> results/quick/
import subprocess
import time

from snakemake.utils import min_version

RUN_START = time.time()  # the summary counts the figures written after this

# The same floor as pyproject.toml and environment.yml (tests/test_workflow.py).  The profiles are named
# profiles/*/config.yaml, which 9.0 reads (profile.yaml only from 9.19 on).
min_version("9.0")


report: "workflow/report/workflow.rst"


configfile: "config/config.yaml"


include: "workflow/rules/common.smk"


rule all:
    default_target: True
    input:
        all_targets(),


include: "workflow/rules/experiments.smk"
include: "workflow/rules/spectra.smk"
include: "workflow/rules/figures.smk"


onstart:
    start_worker()
    # Estimated run time of each experiment this run simulates (flop counts / this machine's rates, measured
    # once and kept), shown before any job starts so a user can choose between local and cluster execution.
    # Nothing is printed, or measured, when the run simulates nothing.
    planned = " ".join(shlex.quote(name) for name in to_simulate(workflow))
    if planned:
        shell("ridgerenorm plan {PLAN_CONFIGS} --experiments {planned} >&2 || true")


onsuccess:
    stop_worker()
    # Every successful run ends with a summary: the figures and where they are, the worst rows of
    # agreement.csv, how to build the report.  An argument list, no shell: config file names are user text.
    _summary = subprocess.run(
        ["ridgerenorm", "summary", R, "--since", str(RUN_START), "--configfile"]
        + [str(f) for f in workflow.overwrite_configfiles],
        capture_output=True,
        text=True,
    )
    print(_summary.stdout + _summary.stderr, end="", file=sys.stderr)


onerror:
    stop_worker()
