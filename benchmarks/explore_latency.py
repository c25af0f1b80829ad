"""Time from a slider move to the redrawn curve in `ridgerenorm explore`, measured in the browser.

The page records performance.now() at the slider's input event and again at Plotly's plotly_afterplot event
of the plot that request drew (window.__explore.timings).  This script starts the explorer, opens it in
headless Chromium, sets D and a grid of `--points` theory sample sizes (plus the 12 simulated P of the saved
experiment) and moves the ridge slider to a new value `--moves` times per D, each move waiting for its curve.

    nice -n 19 python benchmarks/explore_latency.py                     # D = 1e3, 1e4, 1e5; linear ridge and RF
    python benchmarks/explore_latency.py --dims 4 --models linear_ridge --moves 30
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
import explore_browser  # noqa: E402
import explore_driver as drv  # noqa: E402


def measure(driver, model: str, log_d: int, points: int, moves: int) -> dict:
    drv.choose(driver, "model", model)
    drv.choose(driver, "spectrum-kind", "power_law")
    drv.choose(driver, "teacher-kind", "power_law")
    drv.choose(driver, "ridge-mode", "constant")
    drv.slide(driver, "D", float(log_d))
    if model != "linear_ridge":
        drv.slide(driver, "N", float(log_d) - np.log10(2.0))  # N = D/2
    drv.settled(driver, timeout=600)
    drv.type_into(driver, "p-min", "1")
    drv.type_into(driver, "p-max", f"{10 ** (log_d + 1):g}")
    drv.type_into(driver, "p-points", str(points))
    drv.settled(driver, timeout=600)
    n_p = len(driver.execute_script("return window.__explore.last.P;"))
    ms, theory_ms, evaluate_ms, draw_ms, cpu_ms = [], [], [], [], []
    for i in range(moves):
        drv.slide(driver, "lam", -4.0 + 3.0 * i / max(1, moves - 1))  # a new lambda each move: no cache helps
        t = drv.settled(driver, timeout=600)
        if t["error"]:
            raise RuntimeError(f"D = 1e{log_d}: {drv.error_text(driver)}")
        ms.append(t["ms"])
        theory_ms.append(t["theory_ms"])
        evaluate_ms.append(t["evaluate_ms"])
        draw_ms.append(t["draw_ms"])
        cpu_ms.append(t["theory_cpu_ms"])
    ms = np.array(ms)
    return {"model": model, "D": 10**log_d, "P_points": n_p, "moves": moves, "median_ms": float(np.median(ms)),
            "p95_ms": float(np.percentile(ms, 95)), "min_ms": float(ms.min()), "max_ms": float(ms.max()),
            "theory_median_ms": float(np.median(theory_ms)), "evaluate_median_ms": float(np.median(evaluate_ms)),
            "draw_median_ms": float(np.median(draw_ms)), "theory_cpu_median_ms": float(np.median(cpu_ms))}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dims", type=int, nargs="+", default=[3, 4, 5], help="log10 D values (default: 3 4 5)")
    p.add_argument("--models", nargs="+", default=["linear_ridge", "random_features"], help="models to time")
    p.add_argument("--points", type=int, default=200, help="dense theory points (default: 200)")
    p.add_argument("--moves", type=int, default=21, help="slider moves per D (default: 21; D = 1e5: a third)")
    p.add_argument("--out", help="also write the rows as JSON here")
    p.add_argument("--root", default=str(ROOT), help="checkout whose config/ and results/ the explorer reads")

    def body(args) -> int:
        rows = []
        with explore_browser.session(Path(args.root), "quick") as s:
            for model in args.models:
                for log_d in args.dims:
                    moves = args.moves if log_d < 5 else max(3, args.moves // 3)
                    row = measure(s.driver, model, log_d, args.points, moves)
                    rows.append(row)
                    print(f"{row['model']:<17} D = {row['D']:>6d}  {row['P_points']} P  {row['moves']:>2d} moves  "
                          f"median {row['median_ms']:7.1f} ms  p95 {row['p95_ms']:7.1f} ms  "
                          f"(min {row['min_ms']:.1f}, max {row['max_ms']:.1f}); medians of its parts: theory "
                          f"{row['theory_median_ms']:.1f} ms, server evaluate {row['evaluate_median_ms']:.1f} ms, "
                          f"drawing {row['draw_median_ms']:.1f} ms; CPU time of the theory "
                          f"{row['theory_cpu_median_ms']:.1f} ms", flush=True)
        if args.out:
            Path(args.out).write_text(json.dumps(rows, indent=1))
        return 0

    return explore_browser.run_script(p, argv, body, "measure")


if __name__ == "__main__":
    sys.exit(main())
