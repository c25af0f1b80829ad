"""The Snakemake report as a reader sees it: built from the quick-scale run and rendered in headless Chromium
(tests/report/screenshots.py; run that script to get the screenshots)."""

import importlib.util
import re
from pathlib import Path

import pytest
import yaml

from test_pipeline import ROOT

pytestmark = pytest.mark.pipeline

_spec = importlib.util.spec_from_file_location("screenshots", ROOT / "tests" / "report" / "screenshots.py")
screenshots = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(screenshots)


@pytest.mark.skipif(not Path(screenshots.CHROMIUM).exists(),
                    reason=f"{screenshots.CHROMIUM} is absent (Debian package chromium)")
def test_rendered_report_reads_as_the_papers_companion(quick, quick_report, tmp_path):
    _, config = quick
    fid = "B3"
    doms = screenshots.capture(quick_report, tmp_path / "views", fid, screenshots=False)
    assert screenshots.check(doms, "quick", fid, config["figures"][fid]["name"]) == []
    # Quick-scale captions state the quick run's parameters, not the paper's (config/quick.yaml: D = 1500).
    text = screenshots._text(doms["figure"])
    assert "D = 1500" in text and "D = 10000" not in text
    # Every figure is in the one labelled list.
    listed = screenshots._text(doms["figures"])
    for f, fig in yaml.safe_load((ROOT / "config" / "config.yaml").read_text())["figures"].items():
        assert f in listed and fig["name"] in listed, f


@pytest.mark.skipif(not Path(screenshots.CHROMIUM).exists(),
                    reason=f"{screenshots.CHROMIUM} is absent (Debian package chromium)")
def test_agreement_page_fits_the_viewer_and_states_the_rules_verdicts(quick, quick_report, tmp_path):
    """In a 1280-px window the agreement page fits the viewer Snakemake leaves beside its sidebar (nothing
    wider than the viewer, its vertical scroll bar shown), and it, like each figure's caption, states the
    verdicts ridgerenorm.verdicts gives on the quick run's agreement.csv."""
    import csv

    from ridgerenorm import config as cfg
    from ridgerenorm.plotting import FIGURE_KINDS
    from ridgerenorm.verdicts import figure_entry, figure_verdict, verdict_counts

    results, _ = quick
    config = cfg.load_config(ROOT / "config" / "config.yaml", ROOT / "config" / "quick.yaml")
    fid = "E2"
    doms = screenshots.capture(quick_report, tmp_path / "views", fid, views=("figure", "agreement"),
                               screenshots=False)
    page = screenshots._iframe_document(doms["agreement"])
    width = screenshots.frame_width(quick_report, size=(1280, 900))
    assert 400 <= width <= 1280 - 400, width  # the sidebar takes about half the window
    measured = screenshots.fit(page, int(width))
    assert measured["viewport"] < width  # the scroll bar takes its room
    assert measured["content"] <= measured["viewport"] and measured["right"] <= measured["viewport"], measured

    with open(results / "agreement.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    expected = {f: figure_verdict(figure_entry(fig, FIGURE_KINDS[fig["kind"]]), rows)
                for f, fig in sorted(config["figures"].items())}
    text = re.sub(r" ([;.,:])", r"\1", screenshots._text(page))  # no space where a tag ended before punctuation
    counts = "; ".join(f"{t}: {n}" for t, n in verdict_counts(expected.values()))
    assert f"Overall, {len(expected)} figures: {counts}." in text
    for f, verdict in expected.items():
        assert f"{f} {config['figures'][f]['name']} {verdict.text} {verdict.worst_words()}".strip() in text, f
    assert f"Agreement verdict: {expected[fid].text}." in screenshots._text(doms["figure"])


def test_rule_graph_shows_each_rule_once_and_job_parameters_hold_no_internals(quick, quick_report):
    """The report's rule graph draws a rule once per depth of the DAG: each figure rule sits at one depth
    (inventory.figure_rule), so every rule is one node.  A figure's "Job parameters" are its wildcards' and
    the scale, not the argument files its command reads (those are input files)."""
    from ridgerenorm.inventory import FIGURE_RULES

    text = quick_report.read_text()
    nodes = re.findall(r'\{"rule": "(\w+)", "fx": ', text)
    assert nodes and len(nodes) == len(set(nodes)), nodes
    assert set(FIGURE_RULES) <= set(nodes), nodes
    params = dict(re.findall(r'\{"rule": "\w+", "wildcards": "fid=(\w+), [^"]*", "params": "([^"]*)"', text))
    _, config = quick
    assert set(params) == set(config["figures"]), sorted(params)
    for fid, line in params.items():
        assert line.startswith("scale=quick, caption_facts=") and "@" not in line and "settings" not in line, line
