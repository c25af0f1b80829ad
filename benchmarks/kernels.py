"""The simulation's hot kernels, each timed against the float64 GEMM rate measured in the same process.

    python benchmarks/kernels.py                  # the environment's BLAS kernel and one other, side by side
    python benchmarks/kernels.py --kernels env    # only the environment as it is
    python benchmarks/kernels.py --full           # the feature product at full C5/D5 shapes (P = 10^4 rows)
    python benchmarks/kernels.py --json out.json  # also write every row as JSON

Kernels (--kernels, comma-separated): `env` runs with the environment as it is; `auto` unsets
OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, so OpenBLAS picks its kernel from the CPU; any other word is an
OpenBLAS core name set as OPENBLAS_CORETYPE (e.g. Haswell, SkylakeX, Zen).  The default is `env` and,
beside it, `auto` if the environment forces a core type, else `Haswell`.  Each kernel runs in its own
child process (only that child's environment changes), which reports the kernel threadpoolctl saw and
divides every rate by its own GEMM peak, so a busy machine shows up in both and the ratios stay comparable.

Items, as the simulation runs them (the project's pool of --threads workers, BLAS on one thread each):
- peak: n = 3000 GEMM on --threads BLAS threads, and on one thread (the reference of the one-per-thread
  factorizations);
- peak float32: the same GEMM in float32 (the feature product's precision);
- features: X (P x D) times F (D x N) in the fixed 256-row blocks of LinearFeatures.apply, float32 as the
  simulation runs it beside the same blocks in float64 (the former way), D = 10^4 and N = 2000 (C5) and
  5000 (D5); P = 2048 rows by default (the full P = 10^4 with --full: 0.4 and 1 TFLOP);
- gram / covariance: X X^T (P = 2000 rows of N = 2000) and X^T X (8192 rows of N = 2000) by GEMM
  (blocked_matmul_many, the former way) and by syrk (blocked_gram_many); rates count the flops each does
  (2M^2K for GEMM, M(M+1)K for syrk), the speedup is in time;
- fits: Cholesky + triangular inverse (nominal 2n^3/3 flops) at n = 1000, 2000 and eigh (nominal 4n^3)
  at n = 1000, one thread, against the one-thread GEMM rate;
- rng: 10^7 standard normals from PCG64 (the project's generator) and SFC64, in numbers per second;
- rf simulation: simulate_random_features at the quick C5 and D5 shapes (D = 1500, N = 300 and 750, P up
  to 1479), with the Gram and covariance by GEMM and by syrk: the end-to-end effect (both rates count
  the syrk flops, so their ratio is the speedup);
- figure: one `ridgerenorm figure` job (C5) from --results (default results/quick) if that run exists.
Every timing is the fastest of repeated runs once three agree within 10 % (ridgerenorm.costs.stable_time,
at most --tries runs); the GEMM/syrk pairs alternate their runs, so load hits both alike; rows marked `~`
never agreed (a busy machine).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CORETYPE_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


# -------------------------------------------------------------------- the child: one kernel, every item


def blas_kernels() -> str:
    """The BLAS libraries threadpoolctl sees, with their kernel (architecture)."""
    from threadpoolctl import threadpool_info

    libs = [lib for lib in threadpool_info() if lib.get("user_api") == "blas"]
    return "; ".join(f"{Path(lib['filepath']).name.split('-')[0]} {lib.get('version')} {lib.get('architecture')}"
                     for lib in libs)


def timed(run, tries: int):
    from ridgerenorm.costs import stable_time

    run()  # warm-up: first touch of the arrays, the pool's threads
    seconds, stable, _ = stable_time(run, tries=tries, pause=0.2)
    return seconds, stable


def paired(run_a, run_b, tries: int):
    """Times of two runs to compare, interleaved a, b, a, b, ... (`tries` rounds, at least 3), each the
    fastest of its rounds: load that comes and goes hits both alike.  Stable if each one's three fastest
    agree within 10 %."""
    from ridgerenorm.costs import AGREE, AGREEING

    run_a(), run_b()  # warm-up
    times = ([], [])
    for _ in range(max(tries, AGREEING)):
        for run, t in zip((run_a, run_b), times):
            t0 = time.perf_counter()
            run()
            t.append(time.perf_counter() - t0)
    fastest = [sorted(t)[:AGREEING] for t in times]
    return [(f[0], f[-1] <= f[0] * (1 + AGREE)) for f in fastest]


def child(args) -> dict:
    import scipy.linalg  # noqa: F401  (loads scipy's BLAS, so blas_kernels sees it)
    from threadpoolctl import threadpool_limits

    from ridgerenorm.costs import factor_flops, gram_flops
    from ridgerenorm.features import LinearFeatures
    from ridgerenorm.fits import chol_inverse_trace
    from ridgerenorm.parallel import blocked_gram_many, blocked_matmul_many

    threads, tries = args.threads, args.tries
    rng = np.random.default_rng(0)
    rows = []

    def row(item, shape, seconds, stable, amount, unit, peak=None, **extra):
        rows.append({"item": item, "shape": shape, "seconds": seconds, "stable": bool(stable),
                     "rate": amount / seconds / (1e9 if unit == "GFLOP/s" else 1e6), "unit": unit,
                     "of_peak": (amount / seconds / 1e9 / peak) if peak else None, **extra})
        print(f"  {item:34s} {shape:28s} {rows[-1]['rate']:9.2f} {unit}", file=sys.stderr, flush=True)

    n = 3000
    a, b = rng.standard_normal((n, n)), rng.standard_normal((n, n))
    peaks = {}
    for t in (threads, 1):
        with threadpool_limits(limits=t, user_api="blas"):
            seconds, stable = timed(lambda: a @ b, tries)
        peaks[t] = 2.0 * n**3 / seconds / 1e9
        row(f"peak GEMM, {t} BLAS thread{'s' if t > 1 else ''}", f"{n}^3", seconds, stable, 2.0 * n**3, "GFLOP/s")
    peak = peaks[threads]
    a32, b32 = a.astype(np.float32), b.astype(np.float32)
    with threadpool_limits(limits=threads, user_api="blas"):
        seconds, stable = timed(lambda: a32 @ b32, tries)
    peak32 = 2.0 * n**3 / seconds / 1e9
    row(f"peak float32 GEMM, {threads} BLAS threads", f"{n}^3", seconds, stable, 2.0 * n**3, "GFLOP/s")
    del a, b, a32, b32

    with threadpool_limits(limits=1, user_api="blas"):
        D, P = 10_000, (10_000 if args.full else 2048)
        X = rng.standard_normal((P, D))
        for N in (2000, 5000):
            F = rng.standard_normal((D, N))
            Phi = np.empty((1, P, N))
            fmap = LinearFeatures(D, (N,), "bench", 0)
            F32 = fmap.rounded([F])

            def float64_features():  # the former feature product: the same blocks, in float64
                blocked_matmul_many([(X, F, Phi[0])], threads)

            (s64, ok64), (s32, ok32) = paired(float64_features, lambda: fmap.apply(X, F32, Phi, threads), tries)
            row(f"features X F float64 (N={N})", f"P={P} D={D} N={N}", s64, ok64, 2.0 * P * D * N, "GFLOP/s", peak)
            # float64-equivalent flops against the float64 peak (the plan's unit), and against float32's own
            row(f"features X F float32 (N={N})", f"P={P} D={D} N={N}", s32, ok32, 2.0 * P * D * N, "GFLOP/s", peak,
                speedup=s64 / s32, of_float32_peak=2.0 * P * D * N / s32 / 1e9 / peak32)
            del F, F32, Phi
        del X

        for name, M, K, make in (("gram X X^T", 2000, 2000, lambda Z: Z), ("covariance X^T X", 2000, 8192, lambda Z: Z.T)):
            Z = rng.standard_normal((2000, 2000) if name.startswith("gram") else (8192, 2000))
            A = make(Z)  # M x K: X itself, or the transposed view of the covariance's rows
            out = np.empty((M, M))
            (gemm_s, ok_gemm), (syrk_s, ok_syrk) = paired(lambda: blocked_matmul_many([(A, A.T, out)], threads),
                                                          lambda: blocked_gram_many([(A, out)], threads), tries)
            row(f"{name} by GEMM", f"M={M} K={K}", gemm_s, ok_gemm, 2.0 * M * M * K, "GFLOP/s", peak)
            row(f"{name} by syrk", f"M={M} K={K}", syrk_s, ok_syrk, gram_flops(M, K), "GFLOP/s", peak,
                speedup=gemm_s / syrk_s)
            del Z, A, out

        for side in (1000, 2000):
            x = rng.standard_normal((side, side + 100))
            S = x @ x.T / side + np.eye(side)
            seconds, stable = timed(lambda: chol_inverse_trace(S), tries)
            row("fit: Cholesky + triangular inverse", f"n={side}, 1 thread", seconds, stable,
                factor_flops(side, 1.0), "GFLOP/s", peaks[1])
        S = S[:1000, :1000].copy()
        seconds, stable = timed(lambda: np.linalg.eigh(S), tries)
        row("fit: eigh", "n=1000, 1 thread", seconds, stable, factor_flops(1000, 0.0), "GFLOP/s", peaks[1])

    out = np.empty(10**7)
    for bitgen in ("PCG64", "SFC64"):
        gen = np.random.Generator(getattr(np.random, bitgen)(0))
        seconds, stable = timed(lambda: gen.standard_normal(out=out), tries)
        row(f"rng: normals, {bitgen}", "10^7, 1 thread", seconds, stable, 1e7, "M numbers/s")

    rf_simulation(threads, tries, row)
    figure_job(args.results, tries, row)
    return {"kernels": blas_kernels(), "env": {k: os.environ.get(k) for k in CORETYPE_VARS}, "rows": rows}


RF_SHAPES = {  # the quick scale's C5 and D5: D, N, sample grid, data draws x feature draws timed
    "C5 quick": (1500, 300, np.unique(np.round(np.logspace(0, 3.17, 8))).astype(int)[1:], 2, 6),
    "D5 quick": (1500, 750, np.unique(np.round(np.logspace(0.5, 3.17, 8))).astype(int), 1, 5),
}


def rf_simulation(threads: int, tries: int, row) -> None:
    """simulate_random_features at the quick scale's C5 and D5 shapes (RF_SHAPES), with the Gram and
    covariance by GEMM (the former blocked_matmul_many, swapped in here only) and by syrk."""
    for label, shape in RF_SHAPES.items():
        rf_pair(label, *shape, threads, tries, row)


def rf_pair(label, D, N, P, n, m, threads, tries, row) -> None:
    from ridgerenorm import fits
    from ridgerenorm.models.random_features import simulate_random_features
    from ridgerenorm.parallel import blocked_matmul_many

    k = np.arange(1, D + 1, dtype=float)
    eta, w = k**-3.0, k**-0.65
    flops = {}

    def run():
        res = simulate_random_features(eta, w, P, P.astype(float) ** -2.0, [N], 0.4, 0.0, range(n), m,
                                       experiment="bench", seed=0, threads=threads)
        flops["total"] = res["flops"] + res["flops_factor"]

    def gemm_gram_many(products, threads, accumulate=False):
        blocked_matmul_many([(A, A.T, out) for A, out in products], threads, accumulate)

    def run_gemm():
        syrk_gram_many = fits.blocked_gram_many
        try:
            fits.blocked_gram_many = gemm_gram_many
            run()
        finally:
            fits.blocked_gram_many = syrk_gram_many

    (gemm_s, ok_gemm), (syrk_s, ok_syrk) = paired(run_gemm, run, tries)
    shape = f"{label}, N={N}, {n} x {m} draws"
    row("rf simulation, Gram by GEMM", shape, gemm_s, ok_gemm, flops["total"], "GFLOP/s")
    row("rf simulation, Gram by syrk", shape, syrk_s, ok_syrk, flops["total"], "GFLOP/s", speedup=gemm_s / syrk_s)


def figure_job(results: Path, tries: int, row) -> None:
    """One C5 figure job, as the figure rule runs it (a fresh process), into a temporary folder."""
    spec = results / "specs" / "figure_C5.json"
    if not spec.is_file():
        print(f"  (no {spec}: figure job skipped; build the quick scale first)", file=sys.stderr)
        return
    roles = json.loads(spec.read_text())["experiments"]
    data = [f"{role}={results}/simulation/{exp}.nc,{results}/theory/{exp}.nc" for role, exp in sorted(roles.items())]
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "ridgerenorm.cli", "figure", "--spec", f"@{spec}", "--data", *data,
               "--out", f"{tmp}/C5.pdf", "--png", f"{tmp}/C5.png"]
        seconds, stable = timed(lambda: subprocess.run(cmd, check=True, capture_output=True), min(tries, 4))
    row("figure job (C5, quick data)", "one process", seconds, stable, 1e6, "jobs/s")


# -------------------------------------------------------------------- the parent: children side by side


def kernel_env(kernel: str) -> dict:
    env = dict(os.environ)
    if kernel == "env":
        return env
    for var in CORETYPE_VARS:
        env.pop(var, None)
    if kernel != "auto":
        env["OPENBLAS_CORETYPE"] = kernel
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    forced = bool(os.environ.get("OPENBLAS_CORETYPE"))
    parser.add_argument("--kernels", default="env,auto" if forced else "env,Haswell",
                        help="comma-separated: env, auto, or OpenBLAS core names (default: %(default)s)")
    parser.add_argument("--threads", type=int, default=2, help="pool workers, as a simulate job's (default: 2)")
    parser.add_argument("--tries", type=int, default=6, help="timings per item at most (default: 6)")
    parser.add_argument("--full", action="store_true", help="feature product at P = 10^4 rows (2.4 GB, minutes)")
    parser.add_argument("--results", type=Path, default=ROOT / "results" / "quick",
                        help="a finished run, for the figure job (default: results/quick)")
    parser.add_argument("--json", type=Path, help="also write the rows of every kernel here")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args)))
        return
    kernels = [k.strip() for k in args.kernels.split(",") if k.strip()]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average before: {load:.1f} on {os.cpu_count()} cores; {time.strftime('%Y-%m-%d %H:%M:%S %Z')}")
    results = {}
    for kernel in kernels:
        print(f"[{kernel}] running", file=sys.stderr, flush=True)
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", "--threads", str(args.threads),
               "--tries", str(args.tries), "--results", str(args.results)] + (["--full"] if args.full else [])
        out = subprocess.run(cmd, env=kernel_env(kernel), check=True, stdout=subprocess.PIPE, text=True).stdout
        results[kernel] = json.loads(out)
    report(kernels, results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")


def report(kernels, results) -> None:
    for kernel in kernels:
        env = ", ".join(f"{k}={v}" for k, v in results[kernel]["env"].items() if v) or "no OPENBLAS_CORETYPE"
        print(f"[{kernel}] {env}: {results[kernel]['kernels']}")
    head = "| item | shape |" + "".join(f" {k} | % of {k} peak |" for k in kernels)
    ratio = len(kernels) > 1
    print("\n" + head + (f" {kernels[1]} / {kernels[0]} |" if ratio else "") + " notes |")
    print("|---|---|" + "---:|---:|" * len(kernels) + ("---:|" if ratio else "") + "---|")
    first = results[kernels[0]]["rows"]
    for i, r in enumerate(first):
        cells, notes = "", []
        for k in kernels:
            rk = results[k]["rows"][i]
            mark = "" if rk["stable"] else "~"
            cells += f" {mark}{rk['rate']:.2f} {rk['unit']} | " + (f"{rk['of_peak']:.0%} |" if rk["of_peak"] else "- |")
            if rk.get("speedup"):
                than = "the float64 product" if "float32" in r["item"] else "GEMM"
                notes.append(f"{k}: {rk['speedup']:.2f}x faster than {than}")
            if rk.get("of_float32_peak"):
                notes.append(f"{k}: {rk['of_float32_peak']:.0%} of the float32 peak")
        cells += f" {results[kernels[1]]['rows'][i]['rate'] / r['rate']:.2f} |" if ratio else ""
        print(f"| {r['item']} | {r['shape']} |{cells} {'; '.join(notes)} |")


if __name__ == "__main__":
    main()
