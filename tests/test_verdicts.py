"""The agreement verdicts (ridgerenorm.verdicts) on synthetic agreement.csv rows: each row status at and
beside its thresholds, a figure's verdict from its worst row, notes, and figures without simulations."""

from types import SimpleNamespace

import pytest

from ridgerenorm import verdicts as v
from ridgerenorm.report_tables import agreement_html


def row(experiment="x", quantity="eg", z=1.0, chi2=1.0, rel=0.05, rel_max=0.1, theory=None):
    """An agreement.csv row as csv.DictReader gives it (strings)."""
    return {"experiment": experiment, "quantity": quantity, "theory_quantity": theory or quantity, "n_points": "10",
            "median_rel_dev": str(rel), "max_rel_dev": str(rel_max), "median_abs_dev_over_se": str(z),
            "chi2_per_point": str(chi2)}


KIND = SimpleNamespace(roles=("main",), builder=None)
PAIR = SimpleNamespace(roles=("relu", "erf"), builder=None)


@pytest.mark.parametrize("r, status", [
    (row(z=1.0, chi2=1.5, rel=0.05), v.AGREES),
    (row(z=v.Z_BULK, chi2=v.CHI2_FLAG, rel=0.05), v.AGREES),  # both thresholds are inclusive
    (row(z=v.Z_BULK + 0.01, chi2=2.0, rel=0.05), v.DEPARTS),
    (row(z=40.0, chi2=2000.0, rel=0.005, rel_max=0.015), v.AGREES),  # within 2 % everywhere: tiny SE or not
    (row(z=40.0, chi2=2000.0, rel=0.005, rel_max=0.3), v.SOME),  # median within 2 %, some points far out
    (row(z=1.0, chi2=v.CHI2_FLAG + 0.01, rel=0.05), v.SOME),
    (row(z=0.6, chi2=0.5, rel=0.8, rel_max=3.0), v.LOOSE),  # within errors, but errors of 80 %
    (row(z=0.6, chi2=9.0, rel=0.8, rel_max=3.0), v.SOME),  # a chi-squared flag outranks large errors
    (row(z="nan", chi2="nan", rel=0.1, rel_max=0.2), v.DEPARTS),  # no SE: judged on the deviation alone
    (row(z=1.0, chi2="nan", rel=0.05), v.AGREES),
])
def test_row_status(r, status):
    assert v.row_status(r) == status


def test_a_figure_takes_its_worst_row_and_ignores_other_experiments():
    entry = v.figure_entry({"name": "f", "experiments": {"main": "a"}}, KIND)
    rows = [row("a", "eg"), row("a", "bias", chi2=6.0), row("a", "var_x", chi2=9.0), row("b", "eg", z=50, rel=0.5)]
    verdict = v.figure_verdict(entry, rows)
    assert verdict.text == "agrees except at some points"
    assert verdict.worst["quantity"] == "var_x"  # the larger chi-squared of the two flagged rows
    assert verdict.worst_words() == "a var_x (χ²/point 9)"
    assert v.figure_verdict(entry, rows[:1]).text == "agrees within errors"
    loose = v.figure_verdict(entry, rows[:1] + [row("a", "bias", z=0.5, rel=0.9, rel_max=2.0)])
    assert (loose.text, loose.worst_words()) == ("agrees within large errors", "a bias (median rel. dev. 90 %)")
    gone = v.figure_verdict(entry, rows + [row("a", "kappa_hat", z=7.5, rel=0.3, theory="kappa1")])
    assert (gone.text, gone.worst_words()) == ("departs", "a kappa_hat → kappa1 (median |dev|/SE 7.5)")


def test_the_note_explains_only_the_rows_its_departure_facts_name():
    fig = {"name": "g", "experiments": {"relu": "r", "erf": "e"},
           "note": {"facts": [{"fact": "departure", "quantity": "eg"},  # no role: the kind's first (relu)
                              {"fact": "departure", "quantity": "bias", "role": "erf"},
                              {"fact": "share", "quantities": ["var_x"], "of": "eg"}]}}
    entry = v.figure_entry(fig, PAIR)
    assert entry["noted"] == [["r", "eg"], ["e", "bias"]] and entry["spectra"] is False
    far = dict(z=9.0, rel=0.4, rel_max=0.6)
    assert v.figure_verdict(entry, [row("r", "eg", **far)]).text == "departs where its note says (see note)"
    assert v.figure_verdict(entry, [row("e", "eg", **far)]).text == "departs"  # erf's E_g is not in the note
    assert v.figure_verdict(entry, [row("r", "eg", **far), row("e", "bias", **far)]).text.endswith("(see note)")
    # one unexplained row of the deciding status is enough to drop "(see note)"
    assert v.figure_verdict(entry, [row("e", "bias", chi2=8.0), row("r", "var_x", chi2=5.0)]).text == \
        "agrees except at some points"
    assert v.figure_verdict(entry, [row("e", "bias", chi2=8.0)]).text == "agrees except at some points (see note)"


def test_figures_without_rows():
    spectra = v.figure_entry({"name": "w", "params": {"N": 10}}, SimpleNamespace(roles=(), builder="build"))
    venn = v.figure_entry({"name": "venn"}, SimpleNamespace(roles=(), builder=None))
    sim = v.figure_entry({"name": "s", "experiments": {"main": "a"}}, KIND)
    assert v.figure_verdict(spectra, [row("a")]).text.startswith("not rated")
    assert v.figure_verdict(venn, [row("a")]).text == "theory only (no simulation)"
    assert v.figure_verdict(sim, None).text == v.figure_verdict(sim, [row("b")]).text == "not computed yet"
    counts = v.verdict_counts([v.figure_verdict(e, [row("a")]) for e in (venn, sim, venn, spectra)])
    assert counts == [("agrees within errors", 1), ("theory only (no simulation)", 2),
                      ("not rated (sampled spectra: KS distance in the caption)", 1)]


def test_agreement_page_states_the_verdicts(tmp_path):
    header = ",".join(["experiment", "quantity", "theory_quantity", "n_points", "median_rel_dev", "max_rel_dev",
                       "median_abs_dev_over_se", "chi2_per_point"])
    rows = [row("a", "eg"), row("b", "gcv", z=12.0, rel=0.3, theory="eg")]
    keys = header.split(",")
    (tmp_path / "a.csv").write_text(header + "\n" + "".join(",".join(r[k] for k in keys) + "\n" for r in rows))
    figures = {"F1": v.figure_entry({"name": "one", "experiments": {"main": "a"}}, KIND),
               "F2": v.figure_entry({"name": "two", "experiments": {"main": "b"}}, KIND),
               "F3": v.figure_entry({"name": "three"}, SimpleNamespace(roles=(), builder=None))}
    agreement_html(tmp_path / "a.csv", tmp_path / "a.html", figures=figures)
    page = (tmp_path / "a.html").read_text()
    assert ("<b>Overall, 3 figures:</b> agrees within errors: <b>1</b>; departs: <b>1</b>; "
            "theory only (no simulation): <b>1</b>.") in page
    assert '<td>F2</td><td>two</td><td class="verdict">departs</td>' in page
    assert "gcv → eg" in page and '<tr class="departs">' in page
    assert f"within {v.Z_BULK:g} standard errors" in page  # the page states the thresholds the code uses
    agreement_html(tmp_path / "a.csv", tmp_path / "b.html")  # without figures: the rows alone
    assert "Overall" not in (tmp_path / "b.html").read_text()


def test_every_caption_states_its_verdict_as_valid_rst(tmp_path):
    """FigureFacts.verdict_rst, on an agreement.csv written here, is the verdict of figure_verdict for every
    configured figure, and renders without a docutils warning (names with underscores, |dev|)."""
    import yaml
    from docutils.core import publish_parts

    from ridgerenorm.captions import FigureFacts
    from ridgerenorm.plotting import FIGURE_KINDS
    from test_pipeline import ROOT

    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    keys = ["experiment", "quantity", "theory_quantity", "n_points", "median_rel_dev", "max_rel_dev",
            "median_abs_dev_over_se", "chi2_per_point"]
    rows = [row("e2_relu", "kappa_hat", z=125.0, rel=0.16, rel_max=0.66, theory="kappa1"),
            row("b3_source", "etr", z=0.47, chi2=4.1), row("c7_anisotropic_weights", "bias", rel=0.74, rel_max=1.8)]
    (tmp_path / "agreement.csv").write_text(",".join(keys) + "\n" + "".join(",".join(r[k] for k in keys) + "\n"
                                                                         for r in rows))
    seen = set()
    for fid, fig in cfg["figures"].items():
        facts = FigureFacts(cfg, fid, str(tmp_path))
        verdict = v.figure_verdict(v.figure_entry(fig, FIGURE_KINDS[fig["kind"]]), rows)
        html = publish_parts(facts.verdict_rst(), writer="html",
                             settings_overrides={"halt_level": 2, "report_level": 2})["body"]
        assert f"Agreement verdict: {verdict.text}." in html, fid
        assert verdict.worst is None or verdict.worst_words() in html
        seen.add(verdict.text)
    assert {"departs", "agrees except at some points", "agrees within large errors", "not computed yet",
            "theory only (no simulation)"} <= seen


def test_the_agreement_command_refuses_a_bad_figures_file_in_one_line(tmp_path, capsys):
    from ridgerenorm import cli

    bad = tmp_path / "figures.json"
    bad.write_text("[1, 2]")
    csv_path = tmp_path / "agreement.csv"
    assert cli.main(["agreement", "--pair", "x=a.nc,b.nc", "--figures", str(bad), "--out", str(csv_path)]) == 2
    assert capsys.readouterr().err == f"error: --figures {bad}: needs --html (the verdicts are drawn on the page)\n"
    from ridgerenorm.report_tables import read_figure_entries

    with pytest.raises(SystemExit) as err:
        read_figure_entries(bad)
    assert str(err.value) == f"error: --figures {bad}: not a JSON object of figure id -> entry"
    assert not csv_path.exists()
