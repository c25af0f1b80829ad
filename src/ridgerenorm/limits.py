"""Sizes checked against the machine before any job starts.

Checks that are arithmetic on the configuration (no array is allocated, no DAG is built):

* every experiment's simulation job fits: the model's own estimate (`Model.memory_mb`) for the largest
  block of data draws is at most this machine's memory and at most `mem_budget_gb` plus HEADROOM;
* its merge and theory jobs, which hold their arrays whole (`Model.merge_memory_mb`, `theory_memory_mb`),
  fit this machine's memory;
* simulating it takes at most MAX_EXPERIMENT_DAYS by `ridgerenorm plan`'s estimate (the models' flop counts
  at this machine's kept rates, costs.py; before any are measured, at ASSUMED_RATES, faster than any CPU);
* the workflow stays a sane size: spectrum, merge and theory jobs plus one simulation job per block of
  data draws, per experiment, plus the figure jobs, at most MAX_JOBS;
* the schema caps sizes at MAX_SIZE, so that the estimates stay finite numbers.

The random-matrix figures compare their own job with `machine_memory_bytes` (plotting/params.py).

Which key a message names.  A job within the machine but above the budget names `mem_budget_gb` (and the
experiment).  A job larger than the machine names `mem_budget_gb` or `threads` when one is set above what
this machine has and bringing it down is enough; otherwise each size key of the experiment (data draws per
job, the model's `size_keys`, dimension, sample grid, threads) is shrunk tenfold in turn, the way a user
would edit it, and the key whose shrinking cuts the estimate most is named (within 5 %: the earlier one).
The merge, theory and time checks name a size key the same way (with draws in all, not per job, and the
theory grid's number of points among the keys), except that the first key whose tenfold shrinking alone
is enough is named, if one is.
"""

from __future__ import annotations

import copy
import math
import os

import numpy as np

from . import spectra, spectrum_kinds
from .errors import config_error

__all__ = ["MAX_SIZE", "MAX_JOBS", "HEADROOM", "MAX_EXPERIMENT_DAYS", "JOB_KINDS", "machine_memory_bytes", "job_memory_mb",
           "check_experiment_memory", "check_simulation_times", "simulation_seconds", "check_job_count", "workflow_jobs"]

MAX_SIZE = 10**12  # largest dimension, width, sample size or draw count (config.schema.yaml says the same)
MAX_JOBS = 20_000  # jobs a workflow may have (Snakemake's DAG and scheduler slow down long before 10^5)
HEADROOM = 0.5  # a job may declare mem_budget_gb * (1 + HEADROOM): the budget bounds its chunked arrays;
#                 its outputs, factorization workspace and the scheduler's 20 % + 300 MB come on top
FIXED_EXPERIMENT_JOBS = 3  # spectrum, merge, theory
FIXED_WORKFLOW_JOBS = 3  # agreement, benchmark summary, all
ENV_MAX_MEMORY = "RIDGERENORM_MAX_MEMORY_GB"

# shared experiment keys a simulation job's size depends on, and how a user would shrink each tenfold (the
# spectrum's own come first: its kind's size_keys)
SHARED_SIZE_KEYS = {("samples",): "q_grid", ("theory_samples",): "grid_points"}
JOB_KINDS = ("simulation", "merge", "theory")  # the jobs of an experiment whose memory is checked
MAX_EXPERIMENT_DAYS = 30.0  # longest estimated simulation of one experiment on this machine
# rates assumed when this machine's are not measured yet: faster than any CPU node, so that the time check
# then refuses only what no machine would finish
ASSUMED_RATES = {"gemm": 2000.0, "factor": 100.0}


def _cgroup_limit_bytes() -> float:
    """The container's memory limit (cgroup v2 or v1), or inf when there is none."""
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(path) as f:
                text = f.read().strip()
        except OSError:
            continue
        if text.isdigit():
            return float(text)
    return math.inf


def machine_memory_bytes() -> float:
    """Memory of this machine: RIDGERENORM_MAX_MEMORY_GB when set (tests; a cluster whose nodes differ from
    the submitting host), else physical memory, capped by a container's limit."""
    override = os.environ.get(ENV_MAX_MEMORY)
    if override:
        try:
            value = float(override)
        except ValueError:
            raise config_error(ENV_MAX_MEMORY, override, "must be a number of GB") from None
        if not (math.isfinite(value) and value > 0):
            raise config_error(ENV_MAX_MEMORY, override, "must be a positive finite number of GB")
        return value * 1e9
    try:
        physical = float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        physical = _meminfo_bytes()
    return min(physical, _cgroup_limit_bytes())


def _meminfo_bytes() -> float:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    return math.inf


def _fits(config: dict, need_bytes: float) -> bool:
    budget = float(config.get("mem_budget_gb", 16)) * 1e9
    return need_bytes <= min(machine_memory_bytes(), budget * (1 + HEADROOM))


# ------------------------------------------------------------------------------------- simulation memory


def _largest_block(exp: dict) -> int:
    draws = int(exp["draws"])
    return min(draws, int(exp.get("block", draws)))


def job_memory_mb(config: dict, name: str, job: str = "simulation", spec: dict | None = None) -> float | None:
    """The model's memory estimate (MB) of a job of experiment `name`: its largest simulation job, its merge
    or its theory job (JOB_KINDS); None when the model gives no estimate.  `spec`: the experiment's resolved
    spec, when the caller has it."""
    from .config import experiment_spec
    from .models import model_of

    spec = experiment_spec(config, name) if spec is None else spec
    model = model_of(spec)
    if job == "merge":
        need = model.merge_memory_mb(spec)
    elif job == "theory":
        need = model.theory_memory_mb(spec)
    else:
        budget_bytes = float(config.get("mem_budget_gb", 16)) * 1e9
        try:
            need = model.memory_mb(spec, _largest_block(spec), budget_bytes, int(config.get("threads", 2)))
        except NotImplementedError:
            need = None
    return None if need is None else float(need)


def _tenth(n) -> int:
    return max(1, math.ceil(int(n) / 10))


def _shrunk(value, how: str):
    """`value` shrunk tenfold as a user would: sizes divided, q-grids scaled up (P = D/q), size grids one
    decade lower, lists shortened."""
    if how == "size":
        return [_tenth(v) for v in value] if isinstance(value, list) else _tenth(value)
    if how == "count_list":
        return value[: _tenth(len(value))]
    if how == "size_grid":
        a, b, n = value["logspace"]
        return {**value, "logspace": [a - 1, b - 1, n]}
    if how == "q_grid":
        return [10.0 * q for q in _q_values(value)]
    if how == "grid_points":
        if isinstance(value, dict):
            form = "logspace" if "logspace" in value else "inverse_linspace"
            a, b, n = value[form]
            return {**value, form: [a, b, _tenth(n)]}
        return value[: _tenth(len(value))]
    raise ValueError(f"unknown way to shrink a size key: {how!r}")


def _q_values(grid) -> list:
    with np.errstate(all="ignore"):
        return [float(q) for q in spectra.grid_q(grid)]


def _keep_p_positive(exp: dict) -> None:
    """After a shrink, cap q at D so every P = int(D/q) stays >= 1 (only the smallest, cheapest P change)."""
    if "samples" in exp and "spectrum" in exp:
        D = spectra.dimension(exp["spectrum"])
        exp["samples"] = [min(q, float(D)) for q in _q_values(exp["samples"])]


def _set(tree: dict, path, value) -> None:
    for key in path[:-1]:
        tree = tree[key]
    tree[path[-1]] = value


def _get(tree, path):
    for key in path:
        if not isinstance(tree, dict) or key not in tree:
            return None
        tree = tree[key]
    return tree


def _trial(config: dict, name: str, path, value) -> dict:
    """A copy of config with `value` at `path` (a config path) and experiment `name`'s P kept >= 1."""
    trial = copy.deepcopy(config)
    _set(trial, path, value)
    _keep_p_positive(trial["experiments"][name])
    return trial


def _candidates(config: dict, name: str, per_job: bool = True):
    """(config path, shrunk config) of every size key of experiment `name`, in the order ties are broken:
    draws (per job when `per_job`, else in all), the model's size keys, the shared ones, threads."""
    from .models import MODELS

    exp = config["experiments"][name]
    base = ("experiments", name)
    if per_job:
        n = _tenth(_largest_block(exp))
        fewer = _trial(config, name, base + ("draws",), n)  # for every model: a job of n draws
        fewer["experiments"][name]["block"] = n
        out = [(base + ("block" if "block" in exp else "draws",), fewer)]
    else:
        n = _tenth(exp["draws"])
        fewer = _trial(config, name, base + ("draws",), n)
        if "block" in exp:
            fewer["experiments"][name]["block"] = min(int(exp["block"]), n)
        out = [(base + ("draws",), fewer)]
    model = MODELS.get(exp.get("model"))
    keys = [((k,), how) for k, how in getattr(model, "size_keys", {}).items()]
    keys += [(("spectrum", k), how) for k, how in spectrum_kinds.size_keys(exp["spectrum"]).items()]
    keys += list(SHARED_SIZE_KEYS.items())
    for path, how in keys:
        value = _get(exp, path)
        if value is not None:
            out.append((base + path, _trial(config, name, base + path, _shrunk(value, how))))
    out.append((("threads",), _trial(config, name, ("threads",), _tenth(config.get("threads", 2)))))
    return out


def _machine_culprit(config: dict, name: str):
    """mem_budget_gb or threads when set above what this machine has (memory, cores) and bringing it down to
    that makes the job fit; else None."""
    for key, fitting in (("mem_budget_gb", machine_memory_bytes() / (1 + HEADROOM) / 1e9),
                         ("threads", os.cpu_count() or 1)):
        if float(config.get(key, fitting)) > fitting:
            smaller = job_memory_mb(_trial(config, name, (key,), fitting), name)
            if smaller is not None and _fits(config, smaller * 1e6):
                return (key,)
    return None


def _largest_cut(config: dict, name: str, need: float, cost, per_job: bool = True, within: float | None = None):
    """The config path of the size key of experiment `name` whose tenfold shrinking cuts cost(config, name)
    (of value `need`) most; ties within 5 % go to the earlier key (_candidates).  Given `within`, the first
    key whose tenfold shrinking alone brings the cost within it is named, if there is one."""
    best, best_ratio = ("experiments", name), 0.0
    for path, trial in _candidates(config, name, per_job):
        try:
            smaller = cost(trial, name)
        except (ValueError, ArithmeticError):  # a shrink that leaves no valid grid is not a way out
            continue
        if smaller is not None and within is not None and smaller <= within:
            return path
        if smaller is not None and smaller > 0 and need / smaller > best_ratio * 1.05:
            best, best_ratio = path, need / smaller
    return best


def _culprit(config: dict, name: str, need_mb: float, job: str = "simulation"):
    """The config path of the key a job too large for this machine depends on most: for a simulation job a
    machine setting above the machine (_machine_culprit), else the size key whose tenfold shrinking cuts the
    estimate most."""
    found = _machine_culprit(config, name) if job == "simulation" else None
    if found is not None:
        return found
    simulation = job == "simulation"
    return _largest_cut(config, name, need_mb, lambda c, n: job_memory_mb(c, n, job), per_job=simulation,
                        within=None if simulation else machine_memory_bytes() / 1e6)


def check_experiment_memory(config: dict, name: str) -> None:
    """ConfigError when a job of experiment `name` needs more memory than this machine has (naming the key it
    depends on most): its largest simulation job, its merge or its theory job; or when the simulation job
    needs more than mem_budget_gb allows with HEADROOM (naming the budget).  The merge and theory jobs hold
    their arrays whole (they are not chunked to the budget), so only the machine bounds them."""
    from .config import experiment_spec

    machine = machine_memory_bytes()
    budget = float(config.get("mem_budget_gb", 16))
    spec = experiment_spec(config, name)
    needs = {}
    for job in JOB_KINDS:
        need_mb = needs[job] = job_memory_mb(config, name, job, spec)
        if need_mb is None or need_mb * 1e6 <= machine:
            continue
        path = _culprit(config, name, need_mb, job)
        if job == "simulation":
            who = "a simulation job" if path[0] == "experiments" else f"a simulation job of {name}"
            raise config_error(path, _get(config, path), f"{who} needs {need_mb:.3g} MB, more than this machine's "
                                                         f"{machine / 1e9:.1f} GB (mem_budget_gb = {budget:g})")
        who = f"the {job} job" + ("" if path[:2] == ("experiments", name) else f" of {name}")
        raise config_error(path, _get(config, path), f"{who} needs {need_mb:.3g} MB, more than this machine's "
                                                     f"{machine / 1e9:.1f} GB")
    need_mb = needs["simulation"]
    if need_mb is None or _fits(config, need_mb * 1e6):
        return
    raise config_error(("mem_budget_gb",), config.get("mem_budget_gb", 16),
                       f"a simulation job of {name} needs {need_mb:.3g} MB, more than the budget allows "
                       f"({budget * (1 + HEADROOM):.1f} GB with {HEADROOM:.0%} headroom)")


# ----------------------------------------------------------------------------------------- run time


def simulation_seconds(config: dict, name: str, rates: dict) -> float:
    """`ridgerenorm plan`'s estimate of experiment `name`'s simulation time at `rates` (costs.py)."""
    from .config import draw_blocks, experiment_spec
    from .costs import experiment_seconds
    from .models import model_of

    spec = experiment_spec(config, name)
    try:
        flops = model_of(spec).flops(spec)
    except NotImplementedError:
        return 0.0
    return experiment_seconds(rates, flops, len(draw_blocks(spec)), int(config.get("threads", 2)))


def _duration(seconds: float) -> str:
    days = seconds / 86400
    return f"{days / 365.25:.3g} years" if days >= 365.25 else f"{days:.3g} days"


def check_simulation_times(config: dict) -> None:
    """ConfigError when simulating an experiment would take more than MAX_EXPERIMENT_DAYS at this machine's
    kept rates (costs.kept_rates, looked up once; ASSUMED_RATES before any are measured), naming the size key
    whose tenfold shrinking alone brings it within the limit (the first, in _candidates' order), else the one
    that cuts it most."""
    from .costs import kept_rates

    rates = kept_rates(int(config.get("threads", 2)))
    where = "at this machine's measured rates" if rates else "even at an assumed 2 TFLOP/s (none measured yet)"
    rates = rates or ASSUMED_RATES
    limit = MAX_EXPERIMENT_DAYS * 86400
    for name in config["experiments"]:
        need = simulation_seconds(config, name, rates)
        if need <= limit:
            continue
        path = _largest_cut(config, name, need, lambda c, n: simulation_seconds(c, n, rates), per_job=False,
                            within=limit)
        raise config_error(path, _get(config, path), f"simulating {name} would take about {_duration(need)} "
                                                     f"{where}, more than {MAX_EXPERIMENT_DAYS:g} days")


# ------------------------------------------------------------------------------------------ DAG size


def experiment_jobs(exp: dict) -> int:
    """Jobs of one experiment: one simulation job per block of data draws, plus spectrum, merge and theory."""
    draws = int(exp["draws"])
    block = int(exp.get("block", draws))
    return -(-draws // block) + FIXED_EXPERIMENT_JOBS


def workflow_jobs(config: dict) -> int:
    """Jobs of the whole workflow: every experiment's, one per figure, one more per figure that samples its
    own random matrices, and the fixed ones."""
    from .plotting import FIGURE_KINDS

    jobs = sum(experiment_jobs(exp) for exp in config["experiments"].values())
    for fig in config["figures"].values():
        kind = FIGURE_KINDS.get(fig.get("kind"))
        jobs += 1 + (1 if kind is not None and kind.builder else 0)
    return jobs + FIXED_WORKFLOW_JOBS


def check_job_count(config: dict) -> None:
    """ConfigError when the workflow would have more than MAX_JOBS jobs, naming the draws of the experiment
    that makes the most."""
    total = workflow_jobs(config)
    if total <= MAX_JOBS:
        return
    name = max(config["experiments"], key=lambda n: experiment_jobs(config["experiments"][n]))
    exp = config["experiments"][name]
    sims = experiment_jobs(exp) - FIXED_EXPERIMENT_JOBS
    blocks = f" in blocks of {exp['block']}" if "block" in exp else ""
    raise config_error(("experiments", name, "draws"), exp["draws"],
                       f"{sims} simulation jobs (draws{blocks}); the workflow would have {total} jobs, "
                       f"more than {MAX_JOBS}")
