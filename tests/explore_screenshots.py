"""Screenshots of `ridgerenorm explore` in headless Chromium, in five states (docs/explorer.md shows them):

  1. explore_experiment.png   a config experiment opened by its address (?experiment=b3_capacity): theory, its
                              simulation's markers and its agreement rows
  2. explore_moved.png        an additive-noise random-feature experiment (d3_additive) with N, sigma_xi and
                              lambda moved off it, a second guide shown, and "Save as experiment" pressed
  3. explore_error.png        a bad combination (nonlinear features given two layers): the library's line, the
                              last curves kept
  4. explore_guides.png       d3_additive in a 1100-pixel window with every guide shown: the title, the mode
                              bar, the legend's labels and the plot must not overlap; each guide its own dash
  5. explore_upload.png       a user's spectrum uploaded (a power law k^-1.3, D = 300, with its teacher) and
                              then a file with a negative eigenvalue: its one line, the curves kept

    python tests/explore_screenshots.py --root . --scale quick --out explore_check/
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

import explore_browser
import explore_driver as drv


def capture(root: Path, scale: str, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    shots = []
    with explore_browser.session(root, scale, "?experiment=b3_capacity", 1500, 1050) as s:
        driver = s.driver
        drv.settled(driver)
        shots.append(out / "explore_experiment.png")
        driver.save_screenshot(str(shots[-1]))

        s.open("?experiment=d3_additive")
        drv.settled(driver)
        drv.slide(driver, "N", 2.5)
        drv.slide(driver, "sigma_xi", -1.3)
        drv.slide(driver, "lam", -4.0)
        drv.settled(driver)
        driver.execute_script("const gd = document.getElementById('plot');"
                              "const i = gd.data.findIndex(t => t.meta.name === 'feature_noise_ridge');"
                              "if (i >= 0) Plotly.restyle(gd, {visible: true}, [i]);")
        driver.find_element("id", "save").click()
        drv.wait(driver, "return document.getElementById('saved-yaml').textContent.length > 0")
        shots.append(out / "explore_moved.png")
        driver.set_window_size(1500, 1500)
        driver.save_screenshot(str(shots[-1]))
        driver.set_window_size(1500, 1050)

        s.open("?experiment=e2_relu")
        drv.settled(driver)
        drv.choose(driver, "depth", "2")
        drv.settled(driver)
        shots.append(out / "explore_error.png")
        driver.save_screenshot(str(shots[-1]))

        driver.set_window_size(1100, 900)
        s.open("?experiment=d3_additive")
        drv.settled(driver)
        explore_browser.show_all_guides(driver)
        shots.append(out / "explore_guides.png")
        driver.save_screenshot(str(shots[-1]))

        driver.set_window_size(1500, 1050)
        s.open()
        drv.settled(driver)
        with tempfile.TemporaryDirectory() as tmp:
            k = np.arange(1, 301, dtype=float)
            good, bad = Path(tmp) / "my_spectrum.csv", Path(tmp) / "bad.txt"
            good.write_text("eta,w\n" + "".join(f"{e!r},{w!r}\n" for e, w in zip((k ** -1.3).tolist(),
                                                                                 (k ** -0.8).tolist())))
            bad.write_text("1\n0.5\n-0.5\n")
            for path in (good, bad):
                explore_browser.upload(driver, path)
                drv.settled(driver)
        shots.append(out / "explore_upload.png")
        driver.save_screenshot(str(shots[-1]))
    return shots


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--root", default=str(drv.ROOT), help="checkout whose config/ and results/ to show")
    p.add_argument("--scale", default="quick", help="scale (default: quick)")
    p.add_argument("--out", default="explore_check", help="folder for the PNGs (default: explore_check/)")

    def body(args) -> int:
        for path in capture(Path(args.root), args.scale, Path(args.out)):
            print(path)
        return 0

    return explore_browser.run_script(p, argv, body, "take screenshots")


if __name__ == "__main__":
    sys.exit(main())
