"""Facts every layer may read: the size cap of every count in a configuration, the workflow's job cap, the
longest simulation of one experiment, the memory headroom of a job, and this machine's memory.

A leaf module: it imports nothing of the package but errors.py, so the numeric kernels, the registries
(models, figure kinds) and the pipeline can all read it.  The checks of a whole configuration against these
facts (does each job fit, does each simulation end in time, is the workflow a sane size) live with the
configuration (config.py).

MAX_SIZE, the largest dimension, width, sample size or draw count, is the `maximum` of `positive_int` in
the config schema (schemas/config.schema.yaml): stated once, there, where Snakemake's own validation reads
it too.  It keeps every memory estimate a finite number; whether a job fits is checked against the machine.
"""

from __future__ import annotations

import functools
import math
import os
from importlib import resources
from pathlib import Path

import yaml

from .errors import config_error

__all__ = ["SCHEMA_PATH", "schema_file", "MAX_SIZE", "MAX_JOBS", "MAX_EXPERIMENT_DAYS", "HEADROOM",
           "ENV_MAX_MEMORY", "machine_memory_bytes"]

SCHEMA_PATH = Path(str(resources.files("ridgerenorm") / "schemas" / "config.schema.yaml"))


@functools.lru_cache(maxsize=1)
def schema_file() -> dict:
    """The config schema file's contents, parsed once (callers copy before changing it)."""
    with open(SCHEMA_PATH) as f:
        return yaml.safe_load(f)


MAX_SIZE = int(schema_file()["$defs"]["positive_int"]["maximum"])
MAX_JOBS = 20_000  # jobs a workflow may have (Snakemake's DAG and scheduler slow down long before 10^5)
MAX_EXPERIMENT_DAYS = 30.0  # longest estimated simulation of one experiment on this machine
HEADROOM = 0.5  # a job may declare mem_budget_gb * (1 + HEADROOM): the budget bounds its chunked arrays;
#                 its outputs, factorization workspace and the scheduler's 20 % + 300 MB come on top
ENV_MAX_MEMORY = "RIDGERENORM_MAX_MEMORY_GB"


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
