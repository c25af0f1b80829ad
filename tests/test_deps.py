"""Each step's code dependencies are derived from the code (ridgerenorm.deps), and they are right: the
modules a real run of each subcommand imports equal the derived set, and an edit to any module of the
package makes a dry run plan exactly the jobs of the steps that import it, and what depends on them."""

import functools
import json
import re
import shlex
import shutil
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ridgerenorm import config as cfg
from ridgerenorm import deps
from ridgerenorm.inventory import figure_rule
from ridgerenorm.plotting import FIGURE_KINDS

from clones import QUICK, edited, job_counts, snakemake
from test_pipeline import ROOT

pytestmark = pytest.mark.pipeline

RECORD = """
import json, sys
from ridgerenorm import cli
try:
    cli.main(json.loads(sys.argv[1]))
finally:
    with open(sys.argv[2], "w") as f:
        json.dump(sorted(m for m in sys.modules if m == "ridgerenorm" or m.startswith("ridgerenorm.")), f)

"""
# one experiment of each model, with a single simulation block at quick scale
EXPERIMENTS = ("b2_double_descent", "d2_transition", "c7_anisotropic_weights")
STEP_OF_RULE = {"spectrum": "spectrum", "simulate": "simulate", "merge_simulation": "merge", "theory": "theory",
                "figure": "figure", "agreement": "agreement", "spectra_data": "spectra-data",
                "contact_sheet": "contact-sheet"}


@functools.lru_cache(maxsize=1)
def dry_run_output() -> str:
    """What a forced quick-scale dry run with -p prints (run once per test session; test_plan_and_progress
    reads it too)."""
    res = subprocess.run(["snakemake", "-n", "-p", "--forceall", *QUICK], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-2000:]
    return res.stdout + res.stderr


def shell_commands():
    """rule -> [shell commands] of a forced quick-scale dry run."""
    commands, rule = {}, None
    for line in dry_run_output().splitlines():
        if m := re.match(r"^(?:local)?rule (\w+):", line):
            rule = m.group(1)
        elif line.startswith("Shell command: ") and rule:
            commands.setdefault(rule, []).append(line.removeprefix("Shell command: "))
    return commands


def run_recorded(command: str, tmp: Path, replace=None) -> set:
    """Run a rule's `ridgerenorm ...` command (its outputs moved to tmp) and return the package modules
    the process imported."""
    argv = shlex.split(command.split(" 2> ")[0])
    assert argv[0] == "ridgerenorm", command
    argv = [(replace or {}).get(a, a) for a in argv[1:]]
    for flag in ("--out", "--png", "--html"):
        if flag in argv:
            i = argv.index(flag) + 1
            if argv[i] not in (replace or {}).values():
                argv[i] = str(tmp / Path(argv[i]).name)
    record = tmp / "modules.json"
    res = subprocess.run([sys.executable, "-c", RECORD, json.dumps(argv), str(record)], cwd=ROOT, capture_output=True,
                         text=True)
    assert res.returncode == 0, res.stderr[-2000:]
    return set(json.loads(record.read_text())) - deps.NOT_CODE  # _version.py is data, written at install


@pytest.fixture(scope="module")
def imported(quick, tmp_path_factory):
    """rule -> modules a real run imported (union over one experiment of each model); plot module -> modules."""
    tmp = tmp_path_factory.mktemp("deps")
    commands = shell_commands()
    out = {}

    def pick(rule, key):
        return [c for c in commands[rule] if key in c]

    for rule in ("spectrum", "theory"):
        out[rule] = set().union(*(run_recorded(pick(rule, f"/{e}.nc")[0], tmp) for e in EXPERIMENTS))
    out["simulate"], out["merge_simulation"] = set(), set()
    for exp in EXPERIMENTS:
        (sim,) = pick("simulate", f"/{exp}/draws_")
        block = shlex.split(sim.split(" 2> ")[0])
        block = block[block.index("--out") + 1]
        out["simulate"] |= run_recorded(sim, tmp, {block: str(tmp / f"{exp}_block.nc")})
        (merge,) = pick("merge_simulation", f"simulation/{exp}.nc ")
        out["merge_simulation"] |= run_recorded(merge, tmp, {block: str(tmp / f"{exp}_block.nc")})
    out["agreement"] = run_recorded(commands["agreement"][0], tmp)
    out["contact_sheet"] = run_recorded(commands["contact_sheet"][0], tmp)
    out["spectra_data"] = run_recorded(pick("spectra_data", "spectra_data/A1.nc")[0], tmp)
    config = cfg.load_config(ROOT / "config" / "config.yaml", ROOT / "config" / "quick.yaml")
    plots = {}
    for fid, fig in sorted(config["figures"].items()):
        module = FIGURE_KINDS[fig["kind"]].plot_module
        if module not in plots:
            (cmd,) = pick(figure_rule(fig), f"figures/{fid}_")
            plots[module] = run_recorded(cmd, tmp)
    return out, plots, config


@pytest.mark.parametrize("rule", sorted(STEP_OF_RULE))
def test_derived_modules_equal_what_a_run_imports(imported, rule):
    out, plots, config = imported
    if rule == "figure":
        for module, seen in plots.items():
            assert deps.step_modules("figure") | deps.closure([module]) == seen, module
    elif rule == "spectra_data":  # A1's kind loads its data builder by name (a code stamp of its own)
        builder = FIGURE_KINDS[config["figures"]["A1"]["kind"]].builder_module
        assert deps.step_modules("spectra-data") | deps.closure([builder]) == out[rule]
    else:
        assert deps.step_modules(STEP_OF_RULE[rule]) == out[rule]


def expected_jobs(module: str, imported_by: dict, plots: dict, config: dict) -> dict:
    """The jobs a dry run plans after an edit to `module`, computed from the modules each rule imported."""
    hit = {rule for rule, mods in imported_by.items() if module in mods}
    n_exp = len(config["experiments"])
    blocks = sum(len(cfg.draw_blocks(cfg.experiment_spec(config, name))) for name in config["experiments"])
    jobs = {}
    chain = {"spectrum": {"spectrum", "simulate", "merge_simulation", "theory"},
             "simulate": {"simulate", "merge_simulation"},
             # the simulation blocks are temporary: a merge that reruns needs them made again
             "merge_simulation": {"merge_simulation", "simulate"},
             "theory": {"theory"}}
    rerun = set().union(*(chain[r] for r in hit if r in chain)) if hit & set(chain) else set()
    for rule in rerun:
        jobs[rule] = blocks if rule == "simulate" else n_exp
    if "spectra_data" in hit:
        jobs["spectra_data"] = sum(1 for fig in config["figures"].values() if FIGURE_KINDS[fig["kind"]].builder)
    figures = Counter()  # figure rule -> figures it redraws
    for fig in config["figures"].values():
        kind = FIGURE_KINDS[fig["kind"]]
        if ("figure" in hit or module in plots[kind.plot_module] or (fig.get("experiments") and rerun)
                or (kind.builder and "spectra_data" in hit)):
            figures[figure_rule(fig)] += 1
    jobs.update(figures)
    if rerun or "agreement" in hit:
        jobs["agreement"] = 1
    if figures or module in imported_by["contact_sheet"]:
        jobs["contact_sheet"] = 1
    # benchmark_summary reads every figure and the agreement table
    if figures or "agreement" in jobs or module in imported_by["benchmark_summary"]:
        jobs["benchmark_summary"] = 1
    if jobs:
        jobs["all"] = 1
    return jobs


@pytest.fixture
def clone_c(clone_b):
    """The session's fresh clone with the imported bundle (conftest.clone_b), brought up to date: the
    cache tests may have left it with jobs to run."""
    clone = clone_b[0]
    snakemake(clone, "--cores", "2", *QUICK)
    assert "Nothing to be done" in snakemake(clone, "-n", *QUICK)
    return clone


def test_an_edit_to_each_module_reruns_exactly_the_steps_that_import_it(imported, clone_c, tmp_path):
    out, plots, config = imported
    # benchmark_summary runs benchmarks/summary.py, which imports ridgerenorm.costs and ridgerenorm.report_tables
    imported_by = dict(out, benchmark_summary=deps.closure(["ridgerenorm.costs", "ridgerenorm.report_tables"]))
    # two copies of the up-to-date clone, a dry run in each at a time (one per core): each edit is made and
    # undone in one copy, so the two never see each other's edits
    twin = tmp_path / "twin"
    shutil.copytree(clone_c, twin, symlinks=True, ignore=shutil.ignore_patterns("ridgerenorm-run.lock"))
    assert "Nothing to be done" in snakemake(twin, "-n", *QUICK)
    modules = []
    for path in sorted((clone_c / "src" / "ridgerenorm").rglob("*.py")):
        rel = path.relative_to(clone_c / "src").with_suffix("")
        modules.append((".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts), path.relative_to(clone_c)))

    def plan(clone, share):
        found = []
        for module, rel in share:
            with edited(clone, clone / rel):
                found.append((module, job_counts(snakemake(clone, "-n", *QUICK))))
        return found

    with ThreadPoolExecutor(2) as pool:
        halves = [pool.submit(plan, clone, modules[i::2]) for i, clone in enumerate((clone_c, twin))]
        planned = dict(item for half in halves for item in half.result())
    for module, _ in modules:
        assert planned[module] == expected_jobs(module, imported_by, plots, config), (module, planned[module])
    checked = list(planned)
    assert len(checked) >= 25 and "ridgerenorm.theory" in checked and "ridgerenorm.models.random_features" in checked