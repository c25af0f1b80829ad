"""Statistical equivalence of two result trees whose arithmetic differs (round-off only, same seeds).

    python benchmarks/zscores.py OLD_RESULTS NEW_RESULTS          # e.g. results_before/quick results/quick
    python benchmarks/zscores.py OLD NEW --long                   # one row per quantity, not per experiment

For every merged simulation file (simulation/<experiment>.nc) in both trees and every quantity with a
standard error (E_g, E_tr, the error components Bias^2, Var_X, Var_F, Var_XF, Var_Xeps, Var_XFeps, and the
estimators df1_hat, kappa_hat, GCV), over the simulated P:
- z = (new - old) / SE_old: the change in units of the estimate's own standard error (|z| << 1: the change is
  invisible next to the sampling noise the figures' error bars show);
- rel = |new - old| / |old|: the size of the change (1e-16..1e-13 is round-off, amplified where a component
  is a small difference of large sums).
The last line gives the maxima over everything; the exit status is 1 if any |z| exceeds --max-z (0.01).
`ridgerenorm compare OLD NEW` says which files and variables differ at all.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import xarray as xr

COMPONENTS = ("bias", "var_x", "var_f", "var_xf", "var_f_xf", "var_xeps", "var_xfeps")
ESTIMATORS = ("etr", "df1_hat", "kappa_hat", "gcv")


def differences(old: xr.Dataset, new: xr.Dataset) -> dict:
    """quantity -> (max |z|, max rel) over P, for every quantity with a standard error in both files."""
    out = {}
    for name in ("eg",) + COMPONENTS + ESTIMATORS:
        if name not in old or name + "_se" not in old or name not in new:
            continue
        a, b, se = (np.asarray(x, dtype=float) for x in (old[name], new[name], old[name + "_se"]))
        d = np.abs(b - a)
        ok = np.isfinite(a) & np.isfinite(b)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(ok & (se > 0), d / se, 0.0)
            rel = np.where(ok & (a != 0), d / np.abs(a), 0.0)
        both_nan = np.isnan(a) & np.isnan(b)
        if np.any(~ok & ~both_nan):
            z = np.append(z, np.inf)  # a value finite in one tree only
        out[name] = (float(np.max(z, initial=0.0)), float(np.max(rel, initial=0.0)))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("old", type=Path, help="results/<scale> before the change")
    parser.add_argument("new", type=Path, help="results/<scale> after it")
    parser.add_argument("--long", action="store_true", help="one row per (experiment, quantity)")
    parser.add_argument("--max-z", type=float, default=0.01, help="fail above this |z| (default: %(default)s)")
    args = parser.parse_args()
    names = sorted(p.name for p in (args.old / "simulation").glob("*.nc") if (args.new / "simulation" / p.name).is_file())
    if not names:
        print(f"error: no simulation/*.nc in both {args.old} and {args.new}", file=sys.stderr)
        return 2
    worst_z = worst_rel = 0.0
    if args.long:
        print("| experiment | quantity | max abs z | max rel diff |\n|---|---|---:|---:|")
    else:
        print("| experiment | E_g max abs z | E_g max rel | components max abs z | components max rel | "
              "estimators max abs z | estimators max rel |\n|---|---:|---:|---:|---:|---:|---:|")
    for name in names:
        with xr.open_dataset(args.old / "simulation" / name) as old, xr.open_dataset(args.new / "simulation" / name) as new:
            diff = differences(old, new)
        if not diff:
            continue
        worst_z = max([worst_z] + [z for z, _ in diff.values()])
        worst_rel = max([worst_rel] + [r for _, r in diff.values()])
        if args.long:
            for q, (z, rel) in diff.items():
                print(f"| {name[:-3]} | {q} | {z:.1e} | {rel:.1e} |")
            continue

        def group(keys):
            hits = [diff[k] for k in keys if k in diff]
            return (max(z for z, _ in hits), max(r for _, r in hits)) if hits else (float("nan"),) * 2

        cells = [diff["eg"], group(COMPONENTS), group(ESTIMATORS)]
        print(f"| {name[:-3]} | " + " | ".join("- | -" if np.isnan(z) else f"{z:.1e} | {rel:.1e}" for z, rel in cells)
              + " |")
    print(f"\n{len(names)} experiments: max |z| = {worst_z:.2e}, max relative difference = {worst_rel:.2e}")
    return 1 if worst_z > args.max_z else 0


if __name__ == "__main__":
    sys.exit(main())
