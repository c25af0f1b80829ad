"""Costs of a simulation: the memory a job declares, the flops it does, and this machine's measured rates.

The models count their own arrays and products (models/*.py); this module holds what they share: the
factorization flop count, the covariance snapshots a fit grid keeps, the scheduler's memory declaration,
and one measurement of the float64 matmul rate used by `ridgerenorm plan` and the benchmark summary alike.
That measurement costs about 15 s, so it is made once per machine and kept (`machine_rates`): in
$RIDGERENORM_CACHE_DIR, else $XDG_CACHE_HOME/ridgerenorm, else ~/.cache/ridgerenorm, keyed by what sets the
rate (CPU model, logical cores, threads, numpy and the BLAS library with its kernel set).

The machine may be shared, so a rate is the best of timings repeated until the fastest three agree within
10 % (`stable_time`, with pauses between tries), and a measurement is kept only if it was stable and the
load average before it left the measured threads their cores (`quiet`).  A simulation that runs more than
twice as fast as the kept rates predict shows they were measured under load: it drops them
(`check_observed`), and the next `ridgerenorm plan` measures again.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from .io import atomic_path
from .parallel import gram_flops  # counted where the product is formed; models read it here

__all__ = ["gram_flops", "factor_flops", "covariance_copies", "declared_mb", "matmul_rate", "measured_rates", "machine_rates",
           "rates_cache_file", "stable_time", "quiet", "predicted_seconds", "experiment_seconds", "kept_rates",
           "rates_note", "check_observed"]

AGREE = 0.10  # the fastest timings of a stable measurement agree within 10 %
AGREEING = 3  # how many of them
TRIES = 8  # timings at most
PAUSE_S = 0.5  # between timings, so a burst of other work can pass
OFF_FACTOR = 2.0  # a run this many times faster than the kept rates predict drops them
MIN_PREDICTED_S = 10.0  # ... if they predict at least this long (shorter jobs are start-up bound)


def factor_flops(n: int, lam: float) -> float:
    """Nominal flops of one factorization: Cholesky + triangular inverse (2n^3/3) for lam > 0, else
    eigh (counted as 4n^3)."""
    return (2.0 / 3.0) * n**3 if lam > 0 else 4.0 * n**3


def covariance_copies(dual) -> int:
    """n x n matrices fits.build_systems holds: the running covariance plus one scaled snapshot per P
    solved through it (0 when every P goes through the Gram)."""
    n_primal = int((~dual).sum())
    return n_primal + 1 if n_primal else 0


def declared_mb(need_bytes: float, side: int, threads: int) -> int:
    """Memory (MB) a job declares to the scheduler: its arrays plus one factorization workspace per
    thread (3 side^2 doubles), with 20 % and 300 MB of headroom for the interpreter and libraries."""
    workspace = threads * 8.0 * 3 * side * side
    return int((need_bytes + workspace) / 1e6 * 1.2) + 300


def stable_time(run, *, tries: int = TRIES, pause: float = PAUSE_S, timer=time.perf_counter, sleep=time.sleep):
    """Wall time of run(), timed again (after a pause) until its AGREEING fastest timings agree within
    AGREE, at most `tries` times.  Returns (fastest time, stable: whether they agreed, spread: slowest of
    those fastest over the fastest, minus 1).  `timer` and `sleep` are replaceable for tests."""
    times = []
    for i in range(tries):
        if i:
            sleep(pause)
        t0 = timer()
        run()
        times.append(timer() - t0)
        fastest = sorted(times)[:AGREEING]
        spread = fastest[-1] / fastest[0] - 1.0
        if len(fastest) == AGREEING and spread <= AGREE:
            return fastest[0], True, spread
    return min(times), False, spread


def quiet(load: float, threads: int, cores: int | None = None) -> bool:
    """Whether a 1-minute load average `load` leaves `threads` of the `cores` (default os.cpu_count())
    free for a measurement: load <= cores - threads + 0.5."""
    cores = (os.cpu_count() or 1) if cores is None else cores
    return load <= max(cores - int(threads), 0) + 0.5


def matmul_rate(threads: int, n: int = 3000, tries: int = TRIES, stable: dict | None = None,
                dtype=np.float64) -> float:
    """GEMM rate (n x n times n x n, float64 unless `dtype`) on `threads` BLAS threads, in GFLOP/s, from
    stable_time: the reference the simulation rates are compared with.  The threads are set here, not inherited:
    Snakemake runs jobs and onstart with OPENBLAS_NUM_THREADS=1.  `stable`, if given, receives whether the
    timings agreed and their spread."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((n, n)).astype(dtype), rng.standard_normal((n, n)).astype(dtype)
    with threadpool_limits(limits=max(1, int(threads)), user_api="blas"):
        a @ b
        seconds, ok, spread = stable_time(lambda: a @ b, tries=tries)
    if stable is not None:
        stable.update(stable=ok, spread=spread)
    return 2.0 * n**3 / seconds / 1e9


def measured_rates(threads: int, n_factor: int = 800) -> dict:
    """This machine's float64 GEMM rate on `threads` BLAS threads and its single-thread Cholesky +
    triangular inverse rate, in GFLOP/s, each from stable_time; "stable" (both timings agreed), "load" (the
    1-minute load average before measuring) and "quiet" (stable, and quiet(load)) say whether to keep them."""
    from .fits import chol_inverse_trace

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n_factor, n_factor + 100))
    A = x @ x.T / n_factor + np.eye(n_factor)
    with threadpool_limits(limits=1, user_api="blas"):
        chol_inverse_trace(A)
        seconds, factor_ok, _ = stable_time(lambda: chol_inverse_trace(A))
    factor = factor_flops(n_factor, 1.0) / seconds / 1e9
    gemm_info, gemm32_info = {}, {}
    gemm = matmul_rate(threads, stable=gemm_info)
    gemm32 = matmul_rate(threads, stable=gemm32_info, dtype=np.float32)
    ok = bool(factor_ok and gemm_info["stable"] and gemm32_info["stable"])
    return {"gemm": gemm, "gemm32": gemm32, "factor": factor, "stable": ok, "load": load,
            "quiet": ok and quiet(load, threads)}


def predicted_seconds(rates: dict, flops_gemm: float, flops_factor: float, threads: int,
                      flops_gemm32: float = 0.0) -> float:
    """Time the kept rates allow for a job's flops: GEMM on all threads (the part `flops_gemm32` of
    `flops_gemm` at the float32 rate: the feature product), factorizations one per thread (what
    `ridgerenorm plan` estimates, without the start-up)."""
    rate32 = rates.get("gemm32", rates["gemm"])  # a rate table without the float32 rate: as float64
    return ((flops_gemm - flops_gemm32) / (rates["gemm"] * 1e9) + flops_gemm32 / (rate32 * 1e9)
            + flops_factor / (rates["factor"] * 1e9 * max(1, int(threads))))


STARTUP_S = 3.0  # interpreter start-up and file handling of one job, about


def experiment_seconds(rates: dict, flops: dict, jobs: int, threads: int) -> float:
    """Estimated simulation time of one experiment (`ridgerenorm plan`'s column): its flops (Model.flops:
    simulation GEMM and merge on all threads, factorizations one per thread) at `rates`, plus STARTUP_S for
    each of its `jobs` simulation jobs and its spectrum, merge and theory jobs."""
    return (predicted_seconds(rates, flops["gemm"] + flops["merge"], flops["factor"], threads, flops.get("gemm32", 0.0))
            + STARTUP_S * (jobs + 3))


def kept_rates(threads: int) -> dict | None:
    """This machine's rates at `threads` as `machine_rates` kept them, without measuring; None when none are kept."""
    table = _read_table(rates_cache_file())
    kept = table.get(machine_key(threads)) if table else None  # (the key inspects the loaded libraries)
    return kept if _usable(kept) else None



def rates_note(rates: dict) -> str:
    """Where machine_rates' answer comes from, in words: kept from when, measured now and kept, or
    measured now under load and not kept."""
    if rates["fresh"] and not rates["kept"]:
        why = f"load average {rates['load']:.1f}" if rates["stable"] else "its timings did not agree within 10 %"
        return f"measured now under load: {why}; not kept, the next plan measures again"
    if rates["fresh"]:
        return f"measured now; kept in {rates_cache_file()}"
    return f"measured {rates['measured']}; kept in {rates_cache_file()}, --remeasure to refresh"


def rates_cache_file() -> Path:
    """Where this machine's measured rates are kept."""
    root = os.environ.get("RIDGERENORM_CACHE_DIR")
    if not root:
        root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ridgerenorm"
    return Path(root) / "machine_rates.json"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith(("model name", "hardware", "cpu model")):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_key(threads: int) -> str:
    """What the measured rates depend on, as one string: CPU, cores, threads, numpy, BLAS and its kernel."""
    from threadpoolctl import threadpool_info

    libs = [lib for lib in threadpool_info() if lib.get("user_api") == "blas"]
    # numpy's own BLAS does the measured matmul (scipy may have loaded another one, or not yet)
    own = [lib for lib in libs if "numpy" in str(lib.get("filepath", ""))] or libs
    blas = sorted(f"{lib.get('internal_api')} {lib.get('version')} {lib.get('architecture')}" for lib in own)
    return " | ".join([_cpu_model(), f"{os.cpu_count()} cores", f"{int(threads)} threads",
                       f"numpy {np.__version__}", *blas])


def machine_rates(threads: int, remeasure: bool = False) -> dict:
    """measured_rates(threads), measured once per machine and kept in rates_cache_file() if it was quiet;
    the dict also says when it was measured ("measured"), whether this call measured it ("fresh") and, if
    so, whether it was kept ("kept").  A cache that cannot be read or written only costs a new measurement."""
    path, key = rates_cache_file(), machine_key(threads)
    table = _read_table(path)
    hit = table.get(key)
    if not remeasure and _usable(hit):
        return {**hit, "fresh": False}
    rates = measured_rates(threads)
    rates["measured"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    kept = bool(rates.get("quiet", True))
    if kept:
        table[key] = rates
        _write_table(path, table)
    return {**rates, "fresh": True, "kept": kept}


def _usable(entry) -> bool:
    return isinstance(entry, dict) and all(isinstance(entry.get(k), float) and entry[k] > 0
                                           for k in ("gemm", "gemm32", "factor"))


def _read_table(path: Path) -> dict:
    try:
        table = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return table if isinstance(table, dict) else {}


def _write_table(path: Path, table: dict) -> None:
    try:
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")
    except OSError:
        pass


def check_observed(threads: int, flops_gemm: float, flops_factor: float, wall: float,
                   flops_gemm32: float = 0.0) -> str | None:
    """After a simulation job of `wall` seconds: if the kept rates of this machine and thread count predict
    at least MIN_PREDICTED_S for its flops and it ran more than OFF_FACTOR times faster, they were measured
    under load, so they are dropped (the next `plan` measures again).  Returns a line saying so, or None.
    A slower run is not evidence against them (other jobs, memory-bound steps), so it drops nothing."""
    path, key = rates_cache_file(), machine_key(threads)
    table = _read_table(path)
    kept = table.get(key)
    if not _usable(kept):
        return None
    predicted = predicted_seconds(kept, flops_gemm, flops_factor, threads, flops_gemm32)
    if predicted < MIN_PREDICTED_S or predicted <= OFF_FACTOR * wall:
        return None
    del table[key]
    _write_table(path, table)
    return (f"kept rates (GEMM {kept['gemm']:.1f} GFLOP/s, measured {kept.get('measured', '?')}) predicted "
            f"{predicted:.0f} s, the run took {wall:.0f} s: dropped from {path}; the next plan measures again")
