"""Figure notes: facts computed from the figure's own simulation and theory data, drawn under the figure, stored
in its PNG and PDF, and shown unchanged in the report caption; the config's prose carries no numbers."""

import re

import numpy as np
import pytest
import xarray as xr
from PIL import Image

from ridgerenorm import captions, notes
from ridgerenorm.config import ConfigError, check_figure, load_config, read_config_file
from ridgerenorm.plotting import FIGURE_KINDS, FigureKind, render

CFG = load_config("config/config.yaml")
P = np.array([1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0])
THEORY = 1.0 / P


def _pair(eg, se_frac=0.01, **extra):
    """(simulation, theory) Datasets over P with E_g = eg (theory 1/P) and standard errors se_frac × theory."""
    sim = {"eg": ("P", eg), "eg_se": ("P", se_frac * THEORY)}
    th = {"eg": ("P", THEORY)}
    for name, (s, t) in extra.items():
        sim |= {name: ("P", s), name + "_se": ("P", se_frac * THEORY)}
        th[name] = ("P", t)
    # the theory grid is finer than the simulated one, as in the pipeline
    fine = np.union1d(P, [1.5, 3.0, 150.0])
    theory = xr.Dataset({k: ("P", np.interp(fine, P, v[1])) for k, v in th.items()}, coords={"P": fine})
    return xr.Dataset(sim, coords={"P": P}), theory


def test_departure_above_at_small_p_then_within_one_percent():
    sim, th = _pair(np.where(P <= 10, 1.5, 1.005) * THEORY)
    text = notes.departure({"quantity": "eg"}, sim, th)
    assert text == ("At P = 1–10 the simulated E_g lies above the theory by more than 2 standard errors (SE): 1.5 "
                    "times the theory, z = +50.0. It agrees within 2 SE from P = 20 on (deviations up to 0.5 %).")
    assert notes.departure({"quantity": "eg", "within": 0.01}, sim, th) == text + (
        " It is within 1 % of the theory from P = 20 on.")
    assert notes.departure({"quantity": "eg", "within": 0.004}, sim, th) == text + (
        " At the largest simulated P it is not within 0.4 % of the theory.")


def test_departure_below_the_theory_says_below():
    ratio = np.array([0.48, 0.5, 0.9, 1.0, 1.0, 1.01, 0.99, 1.0])
    sim, th = _pair(ratio * THEORY, se_frac=0.1)
    text = notes.departure({"quantity": "eg"}, sim, th)
    assert text == ("At P = 1–2 the simulated E_g lies below the theory by more than 2 standard errors (SE): "
                    "0.48–0.5 times the theory, z = −5.2 to −5.0. It agrees within 2 SE from P = 5 on (deviations "
                    "up to 10 %).")
    assert "above" not in text


def test_departure_counts_agreeing_points_inside_the_range_and_states_both_sides():
    ratio = np.array([1.0, 1.3, 1.01, 0.7, 1.0, 1.0, 1.0, 1.0])  # departs at P = 2 (above) and 10 (below)
    sim, th = _pair(ratio * THEORY, se_frac=0.1)
    text = notes.departure({"quantity": "eg", "z": 3}, sim, th)
    assert text == ("At P = 2–10 (2 of the 3 simulated P there) the simulated E_g lies on both sides of the theory "
                    "by more than 3 standard errors (SE): 0.7–1.3 times the theory, z = −3.0 to +3.0. It agrees "
                    "within 3 SE below P = 2 (deviations up to 0 %) and from P = 20 on (deviations up to 0 %).")


def test_departure_everywhere_and_nowhere():
    sim, th = _pair(1.02 * THEORY, se_frac=0.1)
    assert notes.departure({"quantity": "eg"}, sim, th) == (
        "The simulated E_g agrees with the theory within 2 standard errors at every simulated P "
        "(P = 1–200; deviations up to 2 %).")
    sim, th = _pair(8.0 * THEORY, se_frac=10.0)  # heavy-tailed draws: far off, yet within the error bars
    assert notes.departure({"quantity": "eg"}, sim, th).endswith("(P = 1–200; deviations up to 700 %).")
    sim, th = _pair(0.8 * THEORY)
    text = notes.departure({"quantity": "eg"}, sim, th)
    assert "At P = 1–200 the simulated E_g lies below the theory" in text and "0.8 times" in text
    assert text.endswith("z = −20.0. The departure reaches the largest simulated P.")


def test_departure_of_a_sum_uses_its_parts_and_their_errors_in_quadrature():
    """Var_F + Var_XF is formed from the simulated parts (SE in quadrature) and read against its theory."""
    sim, th = _pair(THEORY, var_f=(0.25 * THEORY, 0.3 * THEORY), var_xf=(0.25 * THEORY, 0.3 * THEORY))
    th["var_f_xf"] = th["var_f"] + th["var_xf"]
    text = notes.departure({"quantity": "var_f_xf"}, sim, th)
    # sim 0.5/P against theory 0.6/P, SE 0.01·sqrt(2)/P: z = -0.1/0.01414 = -7.07 at every P
    assert text == ("At P = 1–200 the simulated Var_F + Var_XF lies below the theory by more than 2 standard "
                    "errors (SE): 0.833 times the theory, z = −7.1. The departure reaches the largest simulated P.")


def test_share_from_which_p_the_terms_are_negligible():
    small = np.where(P >= 50, 0.001, 0.5) * THEORY
    tiny = np.where(P >= 20, 0.005, 0.3) * THEORY
    sim, th = _pair(THEORY, bias=(small, small), var_x=(tiny * np.where(P == 200, 7.0, 1.0), tiny))
    text = notes.share({"quantities": ["bias", "var_x"], "of": "eg", "below": 0.01}, sim, th)
    # from P = 50 both are under 1 % of E_g; Var_X at P = 200 is 0.03/P off with SE 0.01/P (z = 3): 5 of 6 within
    assert text == ("From P = 50 on, Bias² and Var_X are each under 1 % of E_g in the theory; there the simulated "
                    "values lie within 2 standard errors of the theory at 5 of 6 points.")
    sim, th = _pair(THEORY, bias=(0.5 * THEORY, 0.5 * THEORY))
    assert notes.share({"quantities": ["bias"], "of": "eg"}, sim, th) == (
        "At the largest simulated P, Bias² is not under 1 % of E_g in the theory.")


def _spec(**note):
    return {"id": "X1", "name": "test", "kind": "notes_test", "note": note,
            "paper_files": [{"notebook": "nb.ipynb", "cell": 4, "file": "figures/x.pdf"},
                            {"notebook": "nb.ipynb", "cell": 5, "file": "figures/x_params.pdf", "commented_out": True}]}


@pytest.fixture
def test_kind(monkeypatch):
    """A figure kind with one experiment role that draws B1's schematic (the data only feed the note)."""
    monkeypatch.setitem(FIGURE_KINDS, "notes_test", FigureKind("notes_test", "ridgerenorm.plotting.linear_ridge:plot_venn", roles=("main",)))


def _pdf_info(path, key):
    """A text entry of a PDF's Info dictionary (matplotlib writes it uncompressed; UTF-16 with a byte-order mark when not ASCII)."""
    raw = path.read_bytes()
    m = re.search(rb"/" + key.encode() + rb" (<[0-9A-Fa-f]+>|\((?:[^()\\]|\\.)*\))", raw)
    assert m, f"no /{key} in {path}"
    value = m.group(1)
    if value.startswith(b"<"):
        data = bytes.fromhex(value[1:-1].decode())
    else:  # a literal string: undo the escapes \\, \( \) and \ddd
        data = re.sub(rb"\\([0-7]{1,3}|.)", lambda e: bytes([int(e.group(1), 8)]) if e.group(1)[:1].isdigit()
                      else e.group(1), value[1:-1], flags=re.S)
    return data.decode("utf-16") if data.startswith(b"\xfe\xff") else data.decode("latin-1")


def test_note_is_drawn_saved_and_read_back_by_the_caption(tmp_path, test_kind):
    sim, th = _pair(np.where(P <= 10, 1.5, 1.005) * THEORY)
    spec = _spec(facts=[{"fact": "departure", "quantity": "eg"}], text="Prose without numbers.")
    (tmp_path / "figures").mkdir()
    png, pdf = tmp_path / "figures" / "X1_test.png", tmp_path / "figures" / "X1_test.pdf"
    render(spec, {"main": [sim, th]}, pdf, png)
    expected = notes.departure({"quantity": "eg"}, sim, th) + " Prose without numbers."
    paper = ("paper: nb.ipynb: figures/x.pdf (cell 4), figures/x_params.pdf (cell 5, savefig commented out)")
    with Image.open(png) as image:
        assert image.text["Description"] == expected and image.text["Source"] == paper
        height = image.size[1]
        ink = np.flatnonzero((np.asarray(image.convert("L")) < 128).any(axis=1))
    assert ink[-1] < height - 8  # the band is inside the saved image, not cut at its bottom edge
    assert _pdf_info(pdf, "Subject") == expected and _pdf_info(pdf, "Keywords") == paper
    # the caption shows the stored text (read from the PNG), not a recomputation
    cfg = {"figures": {"X1": {k: v for k, v in spec.items() if k != "id"}}}
    rst = captions.FigureFacts(cfg, "X1", str(tmp_path)).note_rst()
    assert "**Reading this figure.** At P = 1–10 the simulated E\\_g lies above the theory" in rst
    assert "z = +50.0. It agrees within 2 SE from P = 20 on" in rst and "figures/x\\_params.pdf (cell 5, savefig commented out)" in rst
    assert "**The authors' figure files** (the notebooks of github.com/Pehlevan-Group/S_transform at commit 803180d): " \
           "nb.ipynb: figures/x.pdf (cell 4)" in rst
    html = publish(rst)
    assert "At P = 1–10 the simulated E_g lies above" in html and "x_params.pdf" in html
    # a figure without the band would be shorter: the band adds the note's lines to the PNG
    spec_bare = {k: v for k, v in spec.items() if k not in ("note", "paper_files")}
    render(spec_bare, {"main": [sim, th]}, tmp_path / "b.pdf", tmp_path / "b.png")
    with Image.open(tmp_path / "b.png") as image:
        assert "Description" not in image.text and image.size[1] < height - 30


def publish(rst):
    from docutils.core import publish_parts

    return publish_parts(rst, writer="html", settings_overrides={"halt_level": 2, "report_level": 2})["body"]


def test_footnote_sits_under_the_legends_and_wraps_within_the_drawn_width():
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from ridgerenorm.plotting.style import apply_style, footnote, new_figure

    apply_style()
    fig, axes = new_figure(2)
    for ax in axes:
        ax.plot([1, 2], [1, 2], label="a line")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)  # hangs below the axes, as ours do
    note = "A long note about the figure " * 20
    footnote(fig, note.strip(), "paper: nb.ipynb: figures/x.pdf (cell 4)")
    renderer = FigureCanvasAgg(fig).get_renderer()
    texts = [t for t in fig.texts if t.get_gid() == "footnote"]
    assert [t.get_text().replace("\n", " ") for t in texts] == [note.strip(), "paper: nb.ipynb: figures/x.pdf (cell 4)"]
    assert texts[0].get_text().count("\n") >= 2  # wrapped
    drawn = [ax.get_tightbbox(renderer) for ax in axes]  # axes with their legends, ticks and labels
    left, right = min(b.x0 for b in drawn), max(b.x1 for b in drawn)
    boxes = [t.get_window_extent(renderer) for t in texts]
    assert boxes[0].y1 < min(b.y0 for b in drawn)  # under every axes and legend
    assert boxes[1].y1 <= boxes[0].y0  # the paper line under the note
    for box in boxes:
        assert left - 1 <= box.x0 and box.x1 <= right + 1  # within the width the figure draws


def test_config_notes_carry_no_hand_written_numbers():
    """Every number of a note is computed: the config's prose has no digits (figure ids such as B3 aside)."""
    raw = read_config_file("config/config.yaml")
    prose = {fid: fig["note"].get("text", "") for fid, fig in raw["figures"].items() if fig.get("note")}
    assert {"B3", "C4", "C5", "C8", "D5"} <= set(prose) and "C7" not in prose
    for fid, text in prose.items():
        assert not re.search(r"\d", notes.FIGURE_ID.sub("", text)), (fid, text)
    facts = {fid: [f["fact"] for f in raw["figures"][fid]["note"]["facts"]] for fid in ("B3", "C4", "C5", "C8", "D5")}
    assert facts["C4"] == ["departure", "departure", "share"] and facts["C8"] == ["departure"]


@pytest.mark.parametrize("note, message", [
    ({"text": "within 3 % from P = 168"}, "figures.C8.note.text = 'within 3 % from P = 168': has a number"),
    ({"facts": [{"fact": "departures", "quantity": "eg"}]},
     "figures.C8.note.facts.0.fact = 'departures': unknown fact; did you mean 'departure'?"),
    ({"facts": [{"fact": "departure", "quantity": "egg"}]}, "figures.C8.note.facts.0.quantity = 'egg': "),
    ({"facts": [{"fact": "departure"}]}, "figures.C8.note.facts.0.quantity = None: required key is missing"),
    ({"facts": [{"fact": "departure", "quantity": "eg", "role": "mian"}]},
     "figures.C8.note.facts.0.role = 'mian': not a role of this figure kind; did you mean 'main'?"),
    ({"facts": [{"fact": "share", "quantities": ["bias"], "of": "eg", "below": 2}]},
     "figures.C8.note.facts.0.below = 2: "),
    ({"txt": "prose"}, "figures.C8.note.txt = 'prose': unknown key; did you mean 'text'?"),
    ("a string note", "figures.C8.note = 'a string note': "),
])
def test_bad_notes_get_one_line_naming_the_key(note, message):
    fig = dict(CFG["figures"]["C8"], note=note)
    with pytest.raises(ConfigError) as err:
        check_figure("C8", fig)
    assert str(err.value).startswith("config error: " + message) and "\n" not in str(err.value)


def test_bad_paper_files_and_facts_on_figures_without_data():
    fig = dict(CFG["figures"]["C8"], paper_files=[{"notebook": "x.ipynb", "cell": -1, "file": "f.pdf"}])
    with pytest.raises(ConfigError, match=r"^config error: figures\.C8\.paper_files\.0\.cell = -1: "):
        check_figure("C8", fig)
    fig = dict(CFG["figures"]["B1"], note={"facts": [{"fact": "departure", "quantity": "eg"}]})
    with pytest.raises(ConfigError, match=r"^config error: figures\.B1\.note\.facts\.0\.fact = 'departure': this "
                                          r"figure kind reads no experiment"):
        check_figure("B1", fig)


def test_every_figure_but_those_beyond_the_paper_names_the_papers_file():
    import yaml

    with open("docs/paper_parameters.yaml") as f:
        beyond = {fid for fid, fig in yaml.safe_load(f)["figures"].items() if fig.get("beyond_paper")}
    assert beyond == {fid for fid in CFG["figures"] if fid[0] in "ER"}  # sections E and R are ours
    named = {fid for fid, fig in CFG["figures"].items() if fig.get("paper_files")}
    assert named == set(CFG["figures"]) - beyond
    assert notes.paper_line(CFG["figures"]["C7"]) == (
        "paper: structured_linear_random_features.ipynb: "
        "figures/all_structured_covariates_lrf_varF_nontrivial_scaling2.pdf (cell 6)")
