"""The Snakemake report as a reader sees it: built from the quick-scale run and rendered in headless Chromium
(tests/report/screenshots.py; run that script to get the screenshots)."""

import importlib.util
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
