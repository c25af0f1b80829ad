"""What a figure says about itself: a tag in the footnote band when it is not at the paper scale, and titles
that state only what its panels show (parameters that differ between panels are named per panel)."""

import json

import pytest

from ridgerenorm import io
from ridgerenorm.plotting import draw, render
from ridgerenorm.plotting.style import SCALE_COLOR, panels_line

VENN = {"id": "B1", "kind": "lr_venn", "name": "lr-venn"}


def band_texts(fig):
    return [t for t in fig.texts if t.get_gid() == "footnote"]


def test_a_quick_figure_is_tagged_in_its_footnote_band_and_a_paper_one_is_not(tmp_path):
    fig = render(VENN, {}, tmp_path / "q.pdf", tmp_path / "q.png", scale="quick")
    band = band_texts(fig)
    assert band[0].get_text().startswith("quick scale: not the paper's parameters")
    assert band[0].get_color() == SCALE_COLOR
    # under everything the figure draws: the band starts below the lowest axes
    lowest = min(ax.get_position().y0 for ax in fig.axes)
    assert band[0].get_position()[1] < lowest
    assert (tmp_path / "q.png").stat().st_size > 0 and (tmp_path / "q.pdf").stat().st_size > 0
    for scale in ("paper", None):
        fig = render(VENN, {}, tmp_path / "p.pdf", tmp_path / "p.png", scale=scale)
        assert not any("scale" in t.get_text() for t in band_texts(fig))
    fig = render(VENN, {}, tmp_path / "v.pdf", tmp_path / "v.png", scale="preprint-v1")
    assert band_texts(fig)[0].get_text().startswith("preprint-v1 scale")


def test_panels_line_names_what_differs_per_panel():
    a = {"D": 100, "ridge": 1e-3, "sigma_eps": 0.5, "draws": 12}
    assert panels_line([("(a)-(c)", a), ("(d)", dict(a))]) == r"D=100, $\lambda$=0.001, $\sigma_\epsilon$=0.5, 12 draws"
    line = panels_line([("(a)-(c)", a), ("(d)", dict(a, ridge=1e-2, draws=20))])
    assert line == (r"D=100, $\sigma_\epsilon$=0.5; (a)-(c): $\lambda$=0.001, 12 draws; "
                    r"(d): $\lambda$=0.01, 20 draws")


def test_b2_title_follows_the_lambda_of_panel_d(quick):
    """The quick B2 data, with panel (d)'s experiment given another ridge: the title says so, per panel."""
    results, config = quick
    data = {role: [io.read_dataset(results / kind / f"{exp}.nc") for kind in ("simulation", "theory")]
            for role, exp in config["figures"]["B2"]["experiments"].items()}
    spec = dict(config["figures"]["B2"], id="B2")
    same = draw(spec, data)._suptitle.get_text()
    assert "(d):" not in same and same.endswith("; (d) on linear axes") and r"$\lambda$=0.001" in same
    for ds in data["double_descent"]:
        ds.attrs["spec"] = json.dumps(dict(json.loads(ds.attrs["spec"]), ridge=0.05))
    title = draw(spec, data)._suptitle.get_text().replace("\n", " ")
    assert r"(a)-(c): $\lambda$=0.001" in title and r"(d): $\lambda$=0.05" in title
    assert "the same" not in title


@pytest.mark.parametrize("fid", ["B3", "E1"])
def test_titles_of_figures_with_two_experiments_name_their_differences(quick, fid):
    results, config = quick
    fig_spec = config["figures"][fid]
    data = {role: [io.read_dataset(results / kind / f"{exp}.nc") for kind in ("simulation", "theory")]
            for role, exp in fig_spec["experiments"].items()}
    title = draw(dict(fig_spec, id=fid), data)._suptitle.get_text().replace("\n", " ")
    specs = {role: json.loads(d[0].attrs["spec"]) for role, d in data.items()}
    if fid == "B3":  # capacity and source differ in the teacher's r, and the title says which panel has which
        assert f"(a), (b): r={specs['capacity']['teacher']['r']:g}" in title
        assert f"(c): r={specs['source']['teacher']['r']:g}" in title
    else:
        assert f"D={specs['relu']['D']:g}" in title
