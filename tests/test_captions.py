"""Report captions: figure-specific theory and the figure's own agreement numbers."""

import csv

import pytest
from docutils.core import publish_parts

from ridgerenorm import captions
from ridgerenorm.models import get_model
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


def _sim_file(path, spec, P):
    import json

    import numpy as np
    import xarray as xr

    xr.Dataset({"eg": ("P", np.ones(len(P)))}, coords={"P": P}, attrs={"spec": json.dumps(spec)}).to_netcdf(path)


def test_parameters_come_from_the_data_files_not_the_config(tmp_path):
    """A quick-scale figure states its quick-scale parameters, whatever the config's descriptions say."""
    (tmp_path / "simulation").mkdir()
    spec = {"model": "random_features", "spectrum": {"kind": "power_law", "D": 1500, "alpha": 1.5},
            "teacher": {"kind": "power_law", "r": 1.2, "norm": None}, "widths": [150], "ridge": 1e-5,
            "sigma_eps": 0.0, "draws": 6, "feature_draws": 6}
    _sim_file(tmp_path / "simulation" / "c3_variance_limited.nc", spec, [1.0, 10.0, 100.0])
    text = captions.FigureFacts(CFG, "C3", str(tmp_path)).parameters_rst()
    assert "N = 150" in text and "D = 1500" in text and "λ = 1e-05" in text and "P = 1 to 100 (3 values)" in text
    assert "6 data draws × 6 feature draws" in text
    assert "N = 1000" not in text and "10000" not in text  # the paper-scale description is not used
    html = _strict_html(text)
    assert "<ul" in html and "<li>" in html  # a list, not run-in text


def test_ridge_power_and_missing_files_are_stated(tmp_path):
    (tmp_path / "simulation").mkdir()
    spec = {"model": "random_features", "spectrum": {"kind": "power_law", "D": 1500, "alpha": 2.0},
            "teacher": {"kind": "power_law", "r": 1.5, "norm": None}, "widths": [300], "ridge": {"power": 1.5},
            "sigma_eps": 0.0, "draws": 6, "feature_draws": 6}
    _sim_file(tmp_path / "simulation" / "c4_ridge_limited.nc", spec, [3.0, 30.0])
    assert "λ = P^-1.5" in captions.FigureFacts(CFG, "C4", str(tmp_path)).parameters_rst()
    assert "not simulated yet" in captions.FigureFacts(CFG, "C3", str(tmp_path)).parameters_rst()
    for fid in CFG["figures"]:
        _strict_html(captions.FigureFacts(CFG, fid, str(tmp_path)).parameters_rst())


def test_report_tables_render_csv_and_markdown_as_html_tables(tmp_path):
    from ridgerenorm import report_tables

    (tmp_path / "a.csv").write_text(
        "experiment,quantity,theory_quantity,n_points,median_rel_dev,max_rel_dev,median_abs_dev_over_se,"
        "chi2_per_point\nb3_capacity,eg,eg,12,0.0181,0.25,1.0,nan\n")
    report_tables.agreement_html(tmp_path / "a.csv", tmp_path / "a.html")
    page = (tmp_path / "a.html").read_text()
    assert "<table>" in page and "<td>b3_capacity</td>" in page and "1.81 %" in page and "–" in page
    md = "rate: 12 GFLOP/s\n\n| rule | wall (s) |\n|---|---:|\n| figure | 2.5 |\n\n{\"a\": 1}\n"
    page = report_tables.markdown_html(md, "Run time")
    assert page.count("<table>") == 1 and '<td class="num">2.5</td>' in page and "<p>rate: 12 GFLOP/s</p>" in page
    assert "|" not in page.split("<body>")[1].split("<pre>")[0]  # no raw Markdown left


def test_explore_links_open_each_experiment_of_a_figure(tmp_path):
    """A figure of curves over P links every experiment to `ridgerenorm explore ?experiment=NAME`; the links
    are valid rst and carry the names as they are (underscores unescaped in the address)."""
    text = captions.FigureFacts(CFG, "B3", str(tmp_path)).explore_rst()
    html = _strict_html(text)
    assert 'href="http://127.0.0.1:8050/?experiment=b3_capacity"' in html
    assert 'href="http://127.0.0.1:8050/?experiment=b3_source"' in html
    assert "ridgerenorm explore --scale paper" in text
    # a spectra figure has none, and no figure links an experiment that is not a curve over P (the width sweep)
    assert captions.FigureFacts(CFG, "A1", str(tmp_path)).explore_rst() == ""
    sweeps = [e for e, exp in CFG["experiments"].items() if "samples" not in get_model(exp["model"]).required]
    assert sweeps
    for fid, fig in CFG["figures"].items():
        text = captions.FigureFacts(CFG, fid, str(tmp_path)).explore_rst()
        assert not any(f"?experiment={e}>" in text for e in sweeps), fid
        if text:
            _strict_html(text)
