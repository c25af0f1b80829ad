"""One start-up and teardown of `ridgerenorm explore` in headless Chromium, shared by the browser test
(tests/test_explore.py), the screenshots (tests/explore_screenshots.py) and the latency benchmark
(benchmarks/explore_latency.py): the server on a free port, the browser with the driver module's headless
options, the page opened and ready, and both closed again whatever happens in between.

    with explore_browser.session(root, "quick", path="?experiment=b3_capacity") as s:
        drv.settled(s.driver)
        s.driver.save_screenshot("shot.png")

A script's entry point (`run_script`) adds what a command-line run needs: a SIGTERM that still closes the
browser and the server, and one line (exit status 2) where Chromium, its driver or a package is missing.
"""

from __future__ import annotations

import contextlib
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

import explore_driver as drv

__all__ = ["Session", "session", "run_script", "show_all_guides", "upload"]


@dataclass
class Session:
    server: drv.Server
    driver: object

    @property
    def url(self) -> str:
        return self.server.url

    def open(self, path: str = "", timeout: float = 60.0) -> None:
        """Open the page at the server's address + path (e.g. '?experiment=NAME') and wait until it is ready
        and has drawn its first answer."""
        drv.open_page(self.driver, self.server.url + path, timeout)


@contextlib.contextmanager
def session(root: Path, scale: str, path: str | None = "", width: int = 1500, height: int = 1000, env=None):
    """The explorer of checkout `root` at `scale` and a headless Chromium window of width x height on it, the
    page opened at `path` (None: not opened); the browser quits and the server stops on leaving."""
    server = drv.Server(root, scale, env=env)
    driver = None
    try:
        driver = drv.browser(width, height)
        s = Session(server, driver)
        if path is not None:
            s.open(path)
        yield s
    finally:
        if driver is not None:
            driver.quit()
        server.stop()


def run_script(parser, argv, body, what: str) -> int:
    """A browser script's main(): parse argv, then body(args) unless the browser cannot run here
    ("cannot WHAT: why" on stderr, status 2).  A SIGTERM exits through the session's teardown."""
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    why = drv.missing()
    if why:
        print(f"cannot {what}: {why}", file=sys.stderr)
        return 2
    return body(args)


def show_all_guides(driver) -> None:
    """Show every guide of the plot (the page shows one and lists the others in its legend)."""
    driver.execute_script("const gd = document.getElementById('plot');"
                          "const idx = gd.data.map((t, i) => t.meta.kind === 'guide' ? i : -1).filter(i => i >= 0);"
                          "return Plotly.restyle(gd, {visible: true}, idx);")


def upload(driver, path) -> dict:
    """Choose `path` in the page's spectrum file input, as a user does; the server's answer."""
    before = driver.execute_script("return window.__explore.uploads || 0;")
    driver.find_element("id", "upload").send_keys(str(path))
    drv.wait(driver, f"return (window.__explore.uploads || 0) > {before};")
    return driver.execute_script("return window.__explore.upload;")
