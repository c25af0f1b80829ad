"""Sizes checked against the machine before any job starts.

Checks that are arithmetic on the configuration (no array is allocated, no DAG is built):

* every experiment's simulation job fits: the model's own estimate (`Model.memory_mb`) for the largest
  block of data draws is at most this machine's memory and at most `mem_budget_gb` plus HEADROOM;
* the workflow stays a sane size: spectrum, merge and theory jobs plus one simulation job per block of
  data draws, per experiment, plus the figure jobs, at most MAX_JOBS;
* the schema caps sizes at MAX_SIZE, so that the estimates stay finite numbers.

The random-matrix figures compare their own job with `machine_memory_bytes` (plotting/params.py).

Which key a message names.  A job within the machine but above the budget names `mem_budget_gb` (and the
experiment).  A job larger than the machine names `mem_budget_gb` or `threads` when one is set above what
this machine has and bringing it down is enough; otherwise each size key of the experiment (data draws per
job, the model's `size_keys`, dimension, sample grid, threads) is shrunk tenfold in turn, the way a user
would edit it, and the key whose shrinking cuts the estimate most is named (within 5 %: the earlier one).
"""

from __future__ import annotations

import copy
import math
import os

import numpy as np

from . import spectra, spectrum_kinds
from .errors import config_error

__all__ = ["MAX_SIZE", "MAX_JOBS", "HEADROOM", "machine_memory_bytes", "job_memory_mb", "check_experiment_memory",
           "check_job_count", "workflow_jobs"]

MAX_SIZE = 10**12  # largest dimension, width, sample size or draw count (config.schema.yaml says the same)
MAX_JOBS = 20_000  # jobs a workflow may have (Snakemake's DAG and scheduler slow down long before 10^5)
HEADROOM = 0.5  # a job may declare mem_budget_gb * (1 + HEADROOM): the budget bounds its chunked arrays;
#                 its outputs, factorization workspace and the scheduler's 20 % + 300 MB come on top
FIXED_EXPERIMENT_JOBS = 3  # spectrum, merge, theory
FIXED_WORKFLOW_JOBS = 3  # agreement, benchmark summary, all
ENV_MAX_MEMORY = "RIDGERENORM_MAX_MEMORY_GB"

# shared experiment keys a simulation job's size depends on, and how a user would shrink each tenfold (the
# spectrum's own come first: its kind's size_keys)
SHARED_SIZE_KEYS = {("samples",): "q_grid"}


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


def job_memory_mb(config: dict, name: str) -> float | None:
    """The model's memory estimate (MB) of the largest simulation job of experiment `name`; None when the
    model gives no estimate."""
    from .config import experiment_spec
    from .models import model_of

    spec = experiment_spec(config, name)
    budget_bytes = float(config.get("mem_budget_gb", 16)) * 1e9
    try:
        return float(model_of(spec).memory_mb(spec, _largest_block(spec), budget_bytes, int(config.get("threads", 2))))
    except NotImplementedError:
        return None


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


def _candidates(config: dict, name: str):
    """(config path, shrunk config) of every size key of experiment `name`, in the order ties are broken:
    draws per job, the model's size keys, the shared ones, threads."""
    from .models import MODELS

    exp = config["experiments"][name]
    base = ("experiments", name)
    n = _tenth(_largest_block(exp))
    per_job = _trial(config, name, base + ("draws",), n)  # for every model: a job of n draws
    per_job["experiments"][name]["block"] = n
    out = [(base + ("block" if "block" in exp else "draws",), per_job)]
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


def _culprit(config: dict, name: str, need_mb: float):
    """The config path of the key a job too large for this machine depends on most: a machine setting above
    the machine (_machine_culprit), else the size key whose tenfold shrinking cuts the estimate most."""
    found = _machine_culprit(config, name)
    if found is not None:
        return found
    best, best_ratio = ("experiments", name), 0.0
    for path, trial in _candidates(config, name):
        try:
            smaller = job_memory_mb(trial, name)
        except (ValueError, ArithmeticError):  # a shrink that leaves no valid grid is not a way out
            continue
        if smaller is not None and smaller > 0 and need_mb / smaller > best_ratio * 1.05:
            best, best_ratio = path, need_mb / smaller
    return best


def check_experiment_memory(config: dict, name: str) -> None:
    """ConfigError when the largest simulation job of experiment `name` needs more memory than this machine
    has (naming the key it depends on most) or than mem_budget_gb allows with HEADROOM (naming the budget)."""
    need_mb = job_memory_mb(config, name)
    if need_mb is None or _fits(config, need_mb * 1e6):
        return
    machine = machine_memory_bytes()
    budget = float(config.get("mem_budget_gb", 16))
    if need_mb * 1e6 > machine:
        path = _culprit(config, name, need_mb)
        job = "a simulation job" if path[0] == "experiments" else f"a simulation job of {name}"
        raise config_error(path, _get(config, path), f"{job} needs {need_mb:.3g} MB, more than this machine's "
                                                     f"{machine / 1e9:.1f} GB (mem_budget_gb = {budget:g})")
    raise config_error(("mem_budget_gb",), config.get("mem_budget_gb", 16),
                       f"a simulation job of {name} needs {need_mb:.3g} MB, more than the budget allows "
                       f"({budget * (1 + HEADROOM):.1f} GB with {HEADROOM:.0%} headroom)")


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
