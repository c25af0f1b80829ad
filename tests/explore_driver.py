"""Drive `ridgerenorm explore` in headless Chromium (selenium + Debian's chromium-driver): start the server on a
free port, open the page, move its controls as a user does, wait for the redrawn plot and read the plot's data.
Used by tests/test_explore.py, tests/explore_screenshots.py and benchmarks/explore_latency.py (their start-up and
teardown: tests/explore_browser.py)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not Path(path).exists():
            return f"{path} is absent (Debian package {package})"
    for module in ("selenium", "starlette", "uvicorn"):
        try:
            __import__(module)
        except ImportError:
            return f"python package {module} is not installed (pip install selenium and the extra [explore])"
    return None


class Server:
    """`ridgerenorm explore --port 0 --no-browser` in a subprocess; .url is the address it printed."""

    def __init__(self, root: Path, scale: str, env: dict | None = None):
        cmd = [sys.executable, "-m", "ridgerenorm.cli", "explore", "--root", str(root), "--scale", scale,
               "--port", "0", "--no-browser"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env=env or os.environ.copy())
        line = self.proc.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:\d+/", line)
        if not match:
            self.stop()
            raise RuntimeError(f"explore did not print its address: {line!r} {self.proc.stderr.read()[-2000:]}")
        self.url = match.group(0)
        self.first_line = line

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def browser(width: int = 1500, height: int = 1000):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 f"--window-size={width},{height}"):
        opts.add_argument(flag)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)


def open_page(driver, url: str, timeout: float = 60.0) -> None:
    driver.get(url)
    wait(driver, "return window.__explore && window.__explore.ready && window.__explore.rendered > 0", timeout)


def wait(driver, script: str, timeout: float = 30.0):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        value = driver.execute_script(script)
        if value:
            return value
        time.sleep(0.02)
    raise TimeoutError(f"timed out waiting for: {script}")


def settled(driver, timeout: float = 60.0) -> dict:
    """Wait until the latest change is drawn (or its error shown); the page's last timing record."""
    wait(driver, "const e = window.__explore; return e.rendered === e.seq;", timeout)
    return driver.execute_script("const t = window.__explore.timings; return t[t.length - 1];")


def slide(driver, key: str, position: float) -> None:
    """Set slider `key` to `position` (its own units: log10 of the value for a log slider) and fire the
    input event the browser fires when a user drags it."""
    driver.execute_script(
        "const s = document.getElementById('s-' + arguments[0]); s.value = arguments[1];"
        "s.dispatchEvent(new Event('input', {bubbles: true}));", key, position)


def choose(driver, select_id: str, value: str) -> None:
    from selenium.webdriver.support.ui import Select

    Select(driver.find_element("id", select_id)).select_by_value(value)


def type_into(driver, input_id: str, text: str) -> None:
    """Replace a text box's content and commit it (a change event), as typing and Tab does."""
    from selenium.webdriver.common.keys import Keys

    box = driver.find_element("id", input_id)
    box.clear()
    box.send_keys(text + Keys.TAB)


def traces(driver) -> list[dict]:
    """The plot's traces as drawn: meta (kind, quantity), x, y, and error bars of simulation markers."""
    return driver.execute_script(
        "return document.getElementById('plot').data.map(t => ({meta: t.meta, x: Array.from(t.x),"
        " y: Array.from(t.y), upper: t.error_y ? Array.from(t.error_y.array) : null,"
        " lower: t.error_y ? Array.from(t.error_y.arrayminus) : null, visible: t.visible}));")


def state(driver) -> dict:
    """The experiment the page last sent."""
    return driver.execute_script("return window.__explore.state;")


def error_text(driver) -> str | None:
    return driver.execute_script("const e = document.getElementById('error');"
        " return e.hidden ? null : document.getElementById('error-text').textContent;")
