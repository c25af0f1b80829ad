"""Build the Snakemake report of a finished run and look at it in headless Chromium.

    python tests/report/screenshots.py                       # quick scale, report + PNGs in report_check/
    python tests/report/screenshots.py --out /tmp/rep --figure C3

The report is a single-page app (React) with no URL routing, so each view is opened from a copy of the report
with one line of JavaScript appended that switches the app to that view after load (`app.setView`, the call the
report's own buttons make).  Per view, Chromium writes a screenshot (--screenshot) and the rendered DOM
(--dump-dom); `check` lists what the DOM is missing: the main page's workflow description and scale, the
figure list labelled by id, a figure's caption with its parameters, and the agreement table shown as an HTML
page (an <iframe> holding a <table>) instead of a download, with its verdicts.  The window is 1280 px wide;
`frame_width` measures the viewer the report gives the agreement page there and `fit` renders that page alone
at that width and measures its content (a data: iframe is another origin, so it is not measured in place).
tests/test_report.py runs the same checks.
"""

from __future__ import annotations

import argparse
import base64
import html
import json
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--virtual-time-budget=5000"]

# The report's own app calls (components/*.js), run once the app has rendered.
_RESULT = "Object.keys(results).find(k => k.includes({needle}))"
VIEWS = {
    "main": "",
    "figures": 'app.showCategory("Figures");',
    "figure": ("const k = " + _RESULT + ";"
               'app.setView({navbarMode: "resultinfo", content: "img", resultPath: k,'
               " contentPath: results[k].data_uri});"),
    "agreement": ('const k = Object.keys(results).find(k => k.endsWith("agreement.html"));'
                  'app.setView({navbarMode: "resultinfo", content: "html", resultPath: k,'
                  " contentPath: results[k].data_uri});"),
}


def build_report(out: Path, root: Path = ROOT, configfile: str = "config/quick.yaml",
                 snakemake: str = "snakemake") -> Path:
    """`snakemake --report` of the run in `root` (its results must exist)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    res = subprocess.run([snakemake, "--configfile", configfile, "--report", str(out)], cwd=root,
                         capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"snakemake --report failed:\n{res.stderr[-3000:]}")
    return out


def view_copy(report: Path, view: str, figure: str, folder: Path) -> Path:
    """A copy of the report that opens on `view`."""
    js = VIEWS[view].replace("{needle}", json.dumps(f"/{figure}_"))
    page = report.read_text()
    if js:
        script = f'<script>window.addEventListener("load", () => setTimeout(() => {{ {js} }}, 300));</script>'
        end = page.rindex("</body>")  # the last one: embedded libraries hold the string too
        page = page[:end] + script + page[end:]
    path = folder / f"{view}.html"
    path.write_text(page)
    return path


def chromium(page: Path, *args: str, size=(1400, 1000), timeout=90, scrollbars: bool = False) -> str:
    """Run headless Chromium on `page`; with `scrollbars`, scroll bars take their room as in a desktop browser."""
    flags = [f for f in FLAGS if not (scrollbars and f == "--hide-scrollbars")]
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        cmd = [CHROMIUM, *flags, f"--user-data-dir={profile}", f"--window-size={size[0]},{size[1]}", *args,
               page.resolve().as_uri()]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if res.returncode != 0:
        raise RuntimeError(f"chromium failed ({res.returncode}): {res.stderr[-2000:]}")
    return res.stdout


def capture(report: Path, out: Path, figure: str = "B3", views=tuple(VIEWS), screenshots: bool = True,
            size=(1280, 900)) -> dict:
    """view -> rendered DOM, the browser window `size` px (the issue's 1280-px window); with `screenshots`,
    also out/<view>.png."""
    out.mkdir(parents=True, exist_ok=True)
    doms = {}
    with tempfile.TemporaryDirectory(prefix="report-views-") as tmp:
        for view in views:
            page = view_copy(report, view, figure, Path(tmp))
            doms[view] = chromium(page, "--dump-dom", size=size)
            (out / f"{view}.dom.html").write_text(doms[view])
            if screenshots:
                chromium(page, f"--screenshot={(out / f'{view}.png').resolve()}", size=size)
    return doms


def _text(dom: str) -> str:
    """Visible text of a DOM dump, roughly: tags and scripts removed, whitespace collapsed."""
    dom = re.sub(r"<(script|style)\b.*?</\1>", " ", dom, flags=re.S | re.I)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", dom))


def _iframe_document(dom: str) -> str:
    m = re.search(r'<iframe[^>]*src="(data:text/html[^"]*)"', dom)
    if not m:
        return ""
    head, data = m.group(1).replace("&amp;", "&").split(",", 1)
    return base64.b64decode(data).decode() if ";base64" in head else urllib.parse.unquote(data)


# Run in a page after load: its width, the width of its content and the right edge of its widest element,
# written into the DOM (a data: iframe is another origin, so the report page cannot look inside it).
_MEASURE = ('<script>window.addEventListener("load", () => {{ {js} }});</script>')
_FIT = ("let right = 0, widest = ''; for (const e of document.querySelectorAll('body *')) {"
        " const r = e.getBoundingClientRect(); if (r.right > right) { right = r.right; widest = e.tagName; } }"
        " document.body.setAttribute('data-fit', JSON.stringify({viewport: document.documentElement.clientWidth,"
        " content: document.documentElement.scrollWidth, right: Math.ceil(right), widest: widest}));")
_FRAME = ("setTimeout(() => { const f = document.querySelector('iframe');"
          " document.body.setAttribute('data-fit', JSON.stringify(f ? {frame: f.getBoundingClientRect().width,"
          " viewport: window.innerWidth} : {})); }, 500);")


def _fit_attribute(dom: str) -> dict:
    m = re.search(r'data-fit="([^"]*)"', dom)
    return json.loads(html.unescape(m.group(1))) if m else {}


def frame_width(report: Path, size=(1280, 900)) -> float:
    """Width in CSS px of the viewer (the <iframe>) in which the report shows the agreement page, with the
    browser window at `size`."""
    with tempfile.TemporaryDirectory(prefix="report-views-") as tmp:
        page = view_copy(report, "agreement", "", Path(tmp))
        page.write_text(page.read_text().replace(VIEWS["agreement"], VIEWS["agreement"] + _FRAME))
        return float(_fit_attribute(chromium(page, "--dump-dom", size=size)).get("frame", 0))


def fit(document: str, width: int, screenshot: Path | None = None) -> dict:
    """The page `document` rendered `width` px wide, its vertical scroll bar shown as a desktop browser shows it:
    {viewport (clientWidth, without the scroll bar), content (scrollWidth), right (right edge of the widest
    element), widest (its tag)}; content > viewport means the reader must scroll sideways (or, in the
    report's viewer, loses the right of the page)."""
    script = _MEASURE.format(js=_FIT)
    end = document.rindex("</body>")
    with tempfile.TemporaryDirectory(prefix="report-views-") as tmp:
        page = Path(tmp) / "page.html"
        page.write_text(document[:end] + script + document[end:])
        if screenshot is not None:
            chromium(page, f"--screenshot={screenshot.resolve()}", size=(width, 900), scrollbars=True)
        return _fit_attribute(chromium(page, "--dump-dom", size=(width, 900), scrollbars=True))


def check(doms: dict, scale: str = "quick", figure: str = "B3", figure_name: str = "lr-powerlaw") -> list[str]:
    """What the rendered report is missing (empty when all is well)."""
    problems = []
    if "main" in doms:
        text = _text(doms["main"])
        for needle in (f"This report is the {scale} scale", "spectrum", "simulate", "merge", "theory",
                       "Rerunning one step", "docs/theory.md", "docs/figures.md", "Figures", "A1 ... E2"):
            if needle not in text:
                problems.append(f"main page: no {needle!r}")
        if "<ol" not in doms["main"]:
            problems.append("main page: the workflow steps are not a list")
    if "figures" in doms:
        text = _text(doms["figures"])
        for needle in (figure, figure_name, "A1", "E2", "section"):
            if needle not in text:
                problems.append(f"figure list: no {needle!r}")
    if "figure" in doms:
        dom, text = doms["figure"], _text(doms["figure"])
        for needle in (f"Figure {figure}", figure_name, f"regenerated at the {scale} scale", "Parameters",
                       "docs/theory.md", "Measured agreement", "Agreement verdict:"):
            if needle not in text:
                problems.append(f"figure page: no {needle!r}")
        if "THEORY.md" in text:
            problems.append("figure page: cites THEORY.md")
        if 'data:image/png' not in dom:
            problems.append("figure page: the figure image is not shown")
        if not re.search(r"<ul[^>]*>\s*<li", dom):
            problems.append("figure page: the caption has no rendered list")
    if "agreement" in doms:
        inner = _iframe_document(doms["agreement"])
        if not inner:
            problems.append("agreement: not shown as an HTML page in the viewer")
        elif "<table" not in inner or "experiment" not in inner:
            problems.append("agreement: the page has no table")
        elif "Verdict per figure" not in inner or "Overall" not in inner:
            problems.append("agreement: no overall verdict or no verdict per figure")
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=ROOT, help="the project folder holding results/<scale>")
    parser.add_argument("--configfile", default="config/quick.yaml")
    parser.add_argument("--scale", default="quick")
    parser.add_argument("--out", type=Path, default=Path("report_check"), help="folder for report, PNGs, DOMs")
    parser.add_argument("--figure", default="B3", help="figure id whose page is captured")
    parser.add_argument("--snakemake", default=shutil.which("snakemake") or "snakemake")
    args = parser.parse_args(argv)
    import yaml

    name = yaml.safe_load((args.root / "config" / "config.yaml").read_text())["figures"][args.figure]["name"]
    report = build_report(args.out.resolve() / "report.html", args.root, args.configfile, args.snakemake)
    doms = capture(report, args.out, args.figure)
    for view in doms:
        print(args.out / f"{view}.png")
    problems = check(doms, args.scale, args.figure, name)
    # the agreement page at the width the report gives it in a 1280-px window
    width = int(frame_width(report))
    measured = fit(_iframe_document(doms["agreement"]), width, args.out / "agreement_page.png")
    print(args.out / "agreement_page.png", f"(the agreement page alone, {width} px wide: {measured})")
    if measured.get("content", 0) > measured.get("viewport", 0):
        problems.append(f"agreement: the page is {measured['content']} px wide in a {width}-px viewer")
    for p in problems:
        print("MISSING:", p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
