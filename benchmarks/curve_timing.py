"""Time `ridgerenorm curve` at D = 10^4 and 200 sample sizes for each model kind it offers: the whole process
(interpreter start-up, imports, writing the netCDF file and the PNG) and in-process (curve.curve_dataset
alone), each at a fixed ridge and with --optimal-ridge.

    PYTHONPATH=src python benchmarks/curve_timing.py [REPEATS]

Prints one line per (model, ridge) with the best of REPEATS (default 3) wall times, and beside each the CPU
time (user + system) it took: on a loaded machine the wall time measures the load, the CPU time the work.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from types import SimpleNamespace

import numpy as np

from ridgerenorm import curve, spectra

SPECTRUM = ["--spectrum", "power_law", "--D", "10000", "--alpha", "1.5", "--r", "0.5", "--sigma-eps", "0.2"]
GRID = ["--P-min", "1", "--P-max", "100000", "--points", "200"]
MODELS = {
    "ridge": ["--model", "linear_ridge"],
    "rf": ["--model", "random_features", "--widths", "2000"],
    "deep_rf": ["--model", "random_features", "--widths", "4000", "2000"],
    "noisy_rf": ["--model", "random_features", "--widths", "2000", "--sigma-xi", "0.01"],
}


def spec_of(argv: list[str]) -> dict:
    """The model spec `ridgerenorm curve` builds from `argv` (its own option parser)."""
    from ridgerenorm.cli import build_parser

    args = build_parser().parse_args(["curve", *argv, "--out", "unused.nc"])
    return curve.model_spec(args, 10000, None)


def main(repeats: int = 3) -> None:
    eta, w = spectra.population({"kind": "power_law", "D": 10000, "alpha": 1.5}, {"kind": "power_law", "r": 0.5})
    P = np.geomspace(1, 1e5, 200)
    print(f"D = 10000, 200 P, best of {repeats}; load average {os.getloadavg()[0]:.1f}")
    for name, model_args in MODELS.items():
        for ridge, extra in (("lambda = 1e-3", ["--ridge", "1e-3"]), ("optimal", ["--optimal-ridge"])):
            spec = spec_of(SPECTRUM + model_args + extra)
            model = curve.curve_models()[spec["model"]]
            inproc, whole = [], []
            for _ in range(repeats):
                t0, c0 = time.perf_counter(), time.process_time()
                curve.curve_dataset(model, spec, eta, w, P, optimal="--optimal-ridge" in extra)
                inproc.append((time.perf_counter() - t0, time.process_time() - c0))
                with tempfile.TemporaryDirectory() as tmp:
                    before = resource.getrusage(resource.RUSAGE_CHILDREN)
                    t0 = time.perf_counter()
                    subprocess.run([sys.executable, "-m", "ridgerenorm.cli", "curve", *SPECTRUM, *model_args, *extra,
                                    *GRID, "--out", os.path.join(tmp, "c.nc")], check=True, capture_output=True)
                    after = resource.getrusage(resource.RUSAGE_CHILDREN)
                    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
                    whole.append((time.perf_counter() - t0, cpu))
            (wi, ci), (ww, cw) = min(inproc), min(whole)
            print(f"{name:>9s} {ridge:>14s}: in-process {wi:7.2f} s (CPU {ci:7.2f} s), "
                  f"whole process {ww:7.2f} s (CPU {cw:7.2f} s)", flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
