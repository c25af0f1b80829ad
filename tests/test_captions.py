"""Report captions: figure-specific theory and the figure's own agreement numbers."""

import csv

import pytest
from docutils.core import publish_parts

from ridgerenorm import captions
from ridgerenorm.config import load_config

CFG = load_config("config/config.yaml")


def _strict_html(rst: str) -> str:
    """Render rst as the report does, but fail on any docutils warning (e.g. a stray |...|)."""
    return publish_parts(rst, writer="html", settings_overrides={"halt_level": 2, "report_level": 2})["body"]


def test_equations_follow_the_model_of_each_experiment():
    eq = {fid: " ".join(captions.figure_equations(CFG, fid)) for fid in CFG["figures"]}
    assert "λ = κ(1 − q·df₁(κ))" in eq["B2"] and "κ₂" not in eq["B2"]
    assert "κ₁ = κ₂(N/D − df₁(κ₂))" in eq["C3"] and "σ_ξ" not in eq["C3"]
    assert "inner-layer prefactor" in eq["C8"] and "inner-layer prefactor" not in eq["C3"]
    assert "d̄f₁" in eq["D3"] and "σ_ξ = 0.025" in eq["D3"]  # sigma-tilde 2.5 / sqrt(10^4)
    assert "Structured weights" in eq["C7"] and "minimum-norm" in eq["C7"]
    assert "Marchenko-Pastur" in eq["A2"] and "Silverstein" in eq["A3"]
    assert "r inside the noisy signal term" in eq["C6"]


def test_agreement_rows_of_the_figure_only(tmp_path):
    rows = [
        {"experiment": "c3_variance_limited", "quantity": "eg", "theory_quantity": "eg", "n_points": "12",
         "median_rel_dev": "0.0181", "max_rel_dev": "0.25", "median_abs_dev_over_se": "1.0", "chi2_per_point": "2.5"},
        {"experiment": "c4_ridge_limited", "quantity": "eg", "theory_quantity": "eg", "n_points": "12",
         "median_rel_dev": "0.0893", "max_rel_dev": "0.9", "median_abs_dev_over_se": "3.0", "chi2_per_point": "nan"},
    ]
    with open(tmp_path / "agreement.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    text = captions.FigureFacts(CFG, "C3", str(tmp_path)).rst()
    assert "c3_variance_limited" in text and "1.81 %" in text and "25 %" in text and "2.5" in text
    assert "c4_ridge_limited" not in text and "8.93 %" not in text
    html = _strict_html(text)
    assert "<table" in html and "1.81 %" in html
    c4 = captions.FigureFacts(CFG, "C4", str(tmp_path)).rst()
    assert "8.93 %" in c4 and "–" in c4  # NaN chi-squared shown as a dash


def test_missing_agreement_is_said_not_hidden(tmp_path):
    text = captions.FigureFacts(CFG, "B3", str(tmp_path)).rst()
    assert "agreement.csv has not been built yet" in text
    _strict_html(text)


@pytest.mark.parametrize("fid", sorted(CFG["figures"]))
def test_every_caption_is_valid_rst(fid, tmp_path):
    _strict_html(captions.FigureFacts(CFG, fid, str(tmp_path)).rst())
