"""`ridgerenorm explore`: the curves it draws are the package's theory at the page's parameters, the markers are
the matching experiment's simulation, a bad combination shows the library's one-line error, and "Save as
experiment" gives a config `check-config` accepts.  The browser test drives the real page in headless Chromium
(tests/explore_driver.py); the others call the explorer's core directly."""

import contextlib
import io as io_
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

import explore_browser
import explore_driver as drv
from ridgerenorm import cli
from ridgerenorm import config as cfg
from ridgerenorm import io, spectra, theory
from ridgerenorm.explore.core import Explorer, config_yaml, html_label
from ridgerenorm.models.base import theory_sample_sizes
from ridgerenorm.plotting.style import log_error_bars
from ridgerenorm.quantities import QUANTITIES, value_of

TINY = {
    "model": "linear_ridge",
    "spectrum": {"kind": "power_law", "D": 60, "alpha": 1.5},
    "teacher": {"kind": "power_law", "r": 0.8, "norm": 1.0},
    "ridge": 1.0e-3,
    "sigma_eps": 0.2,
    "samples": {"logspace": [-1, 1, 5]},
    "theory_samples": {"logspace": [-1, 1, 40]},
    "draws": 4,
}


def _cli(*args) -> str:
    """`ridgerenorm ARGS` run in this process (no interpreter start-up per step); its standard output."""
    out, err = io_.StringIO(), io_.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main([str(a) for a in args])
    assert code == 0, err.getvalue()
    return out.getvalue()


@pytest.fixture(scope="module")
def tiny_root(tmp_path_factory):
    """A checkout-like folder: a config with one small experiment, its simulation, theory and agreement rows."""
    root = tmp_path_factory.mktemp("explore_root")
    (root / "config").mkdir()
    config = {"scale": "paper", "seed": 7, "threads": 1, "experiments": {"tiny": TINY}, "figures": {}}
    (root / "config" / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    config = cfg.load_config(root / "config" / "config.yaml")
    res = root / "results" / "paper"
    specs = {step: json.dumps(cfg.step_spec(config, "tiny", step)) for step in ("spectrum", "simulate", "theory")}
    _cli("spectrum", "--spec", specs["spectrum"], "--out", res / "spectra" / "tiny.nc")
    _cli("simulate", "--spec", specs["simulate"], "--spectrum", res / "spectra" / "tiny.nc", "--draws", "0:4",
         "--out", res / "blocks" / "tiny.0.nc")
    _cli("merge", "--spec", specs["simulate"], "--out", res / "simulation" / "tiny.nc", res / "blocks" / "tiny.0.nc")
    # an unbiased variance estimate from few draws can be negative: make one so, at the second P
    sim = io.read_dataset(res / "simulation" / "tiny.nc").load()
    sim["var_x"][1] = -abs(float(sim["var_x"][1]))
    io.write_dataset(sim, res / "simulation" / "tiny.nc")
    _cli("theory", "--spec", specs["theory"], "--spectrum", res / "spectra" / "tiny.nc",
         "--out", res / "theory" / "tiny.nc")
    _cli("agreement", "--pair", f"tiny={res / 'simulation' / 'tiny.nc'},{res / 'theory' / 'tiny.nc'}",
         "--out", res / "agreement.csv")
    return root


def api_theory(exp: dict, P, population=None):
    """The theory API (theory.linear_ridge, random_features or equivalent_theory) at an experiment's parameters
    (population: the (eta, w) to use instead of the experiment's spectrum and teacher)."""
    eta, w = population if population is not None else spectra.population(exp["spectrum"], exp["teacher"])
    lam = spectra.ridge_values(exp["ridge"], P)
    if exp["model"] == "linear_ridge":
        return theory.linear_ridge(eta, w, P, lam, exp["sigma_eps"])
    if exp["model"] == "random_features":
        return theory.random_features(eta, w, P, exp["widths"], lam, sigma_eps=exp["sigma_eps"],
                                      sigma_xi=exp["sigma_xi"])
    return theory.equivalent_theory(eta, w, P, exp["widths"][-1], lam, exp["activation"], exp["sigma_eps"])


def assert_curves_are_the_theory(curves, exp, rtol=1e-9, population=None):
    """Each drawn theory curve (name, P, y with None for non-finite) equals the API's value at its P."""
    assert curves, "no theory curve drawn"
    for name, P, y in curves:
        th = api_theory(exp, np.asarray(P, dtype=float), population)
        want = np.asarray(value_of(th, name), dtype=float)
        got = np.array([np.nan if v is None else v for v in y], dtype=float)
        assert np.array_equal(np.isfinite(got), np.isfinite(want)), name
        np.testing.assert_allclose(got[np.isfinite(got)], want[np.isfinite(want)], rtol=rtol, atol=0, err_msg=name)


def one_line_error(exp: dict) -> str:
    """The config's own one-line message for an experiment it rejects."""
    with pytest.raises(cfg.ConfigError) as err:
        cfg.check_experiment("explore", exp)
    return " ".join(str(err.value).split())


# ------------------------------------------------------------------------------------------ without a browser


def test_core_draws_the_theory_and_the_matching_simulation(tiny_root):
    ex = Explorer(tiny_root, "paper")
    state = ex.experiment_state("tiny")
    out = ex.evaluate(state)
    assert "error" not in out
    assert [c["name"] for c in out["curves"]] == ["eg", "etr", "bias", "var_x", "var_xeps"]
    # the figures' colours, as CSS: E_g black, E_tr tab:blue
    assert [c["color"] for c in out["curves"][:2]] == ["#000000", "#1f77b4"]
    # the dense grid merged with the simulated P (the ends coincide): 43 points, as the theory step has them
    assert out["P"] == theory_sample_sizes(ex.spec(ex.experiment(state)))[0].tolist() and len(out["P"]) == 43
    assert_curves_are_the_theory([(c["name"], out["P"], c["y"]) for c in out["curves"]], state)
    assert out["experiment"]["name"] == "tiny"
    sim = io.read_dataset(tiny_root / "results" / "paper" / "simulation" / "tiny.nc")
    eg = next(m for m in out["experiment"]["markers"] if m["name"] == "eg")
    np.testing.assert_array_equal(eg["y"], sim["eg"].values)
    np.testing.assert_array_equal(eg["se"], sim["eg_se"].values)
    assert {r["quantity"] for r in out["experiment"]["agreement"]} >= {"eg", "bias", "var_x"}
    # another ridge: the same curves as the API there, and no longer the experiment
    moved = dict(state, ridge=0.05)
    out = ex.evaluate(moved)
    assert "experiment" not in out
    assert_curves_are_the_theory([(c["name"], out["P"], c["y"]) for c in out["curves"]], moved)
    # the guides are the package's (plotting/guides.py): P^(-2 alpha min(r, 1)) for alpha = 1.5, r = 0.8
    signal = next(g for g in out["guides"] if g["name"] == "signal")
    slope = np.diff(np.log(signal["y"])) / np.diff(np.log(signal["x"]))
    np.testing.assert_allclose(slope, -2 * 1.5 * 0.8, rtol=1e-9)


@pytest.mark.parametrize("model, extra", [
    ("linear_ridge", {}),
    ("random_features", {"widths": [30, 20], "sigma_xi": 0.05}),
    ("nonlinear_random_features", {"widths": [30], "activation": "erf"}),
])
def test_a_split_grid_is_the_same_theory(tiny_root, model, extra):
    """The explorer evaluates a large grid in parts on two threads: the same file as one Model.theory call, to
    the rounding of a matrix-vector product over fewer rows (measured: at most 1 ulp, 3.3e-16 relative)."""
    whole = Explorer(tiny_root, "paper", workers=1)
    split = Explorer(tiny_root, "paper", workers=2, split_above=0)
    spec = whole.spec(whole.experiment(dict(whole.experiment_state("tiny"), model=model, **extra)))
    one, parts = whole.theory(spec), split.theory(spec)
    assert one.sizes == parts.sizes and set(one.data_vars) == set(parts.data_vars)
    np.testing.assert_array_equal(parts.P.values, one.P.values)
    np.testing.assert_array_equal(parts.simulated.values, one.simulated.values)
    for name in one.data_vars:
        np.testing.assert_allclose(parts[name].values, one[name].values, rtol=1e-13, atol=0, err_msg=name)


@pytest.mark.parametrize("change, key", [
    ({"spectrum": {"kind": "isotropic", "D": 60}}, "teacher.kind"),
    ({"ridge": -1.0}, "ridge"),
    ({"model": "nonlinear_random_features", "widths": [20, 20], "activation": "relu"}, "widths"),
    ({"model": "random_features", "widths": [0]}, "widths"),
    ({"teacher": {"kind": "power_law", "r": 0.8, "norm": -2}}, "teacher.norm"),
])
def test_core_bad_combination_is_the_library_line(tiny_root, change, key):
    ex = Explorer(tiny_root, "paper")
    exp = ex.experiment(dict(ex.experiment_state("tiny"), **change))
    out = ex.evaluate(exp)
    assert set(out) == {"error"}
    assert out["error"] == one_line_error(exp) and f"experiments.explore.{key}" in out["error"]
    assert "\n" not in out["error"] and "Traceback" not in out["error"]


def test_core_theory_error_is_one_line(tiny_root):
    """Parameters the config accepts but the theory rejects (a zero teacher rescaled to norm 1 is 0/0) come back
    as the theory's own one-line message."""
    ex = Explorer(tiny_root, "paper")
    exp = dict(ex.experiment_state("tiny"), spectrum={"kind": "blocks", "sizes": [10, 50], "values": [1.0, 0.01]},
               teacher={"kind": "blocks", "values": [0.0, 0.0], "norm": 1.0})
    cfg.check_experiment("explore", ex.experiment(exp))  # the config has nothing against it
    with np.errstate(all="ignore"):
        eta, w = spectra.population(exp["spectrum"], exp["teacher"])
    with pytest.raises(ValueError) as err:
        theory.linear_ridge(eta, w, 10.0, 1e-3)
    assert ex.evaluate(exp) == {"error": str(err.value)} == {"error": "w must be finite, got nan"}


def test_saved_experiment_passes_check_config(tiny_root, tmp_path):
    ex = Explorer(tiny_root, "paper")
    state = dict(ex.experiment_state("tiny"), model="random_features", widths=[30], sigma_xi=0.1)
    out = ex.save(state, "my_rf")
    assert "error" not in out, out
    path = tmp_path / "saved.yaml"
    path.write_text(out["yaml"])
    assert "config OK" in _cli("check-config", path)
    saved = yaml.safe_load(out["yaml"])["experiments"]["my_rf"]
    assert saved["widths"] == [30] and saved["sigma_xi"] == 0.1 and saved["feature_draws"] >= 3
    # pasted into the checkout's config, it is an experiment the explorer then finds (same curve)
    assert ex.save(state, "Bad Name")["error"].startswith("config error: experiments.Bad Name")
    assert config_yaml("x", {"a": 1}).startswith("scale: explore\n")


def test_labels_become_html():
    assert html_label(r"Var$_{X\epsilon}$") == "Var<sub>Xε</sub>"
    assert html_label(r"Bias$^2$") == "Bias<sup>2</sup>"
    assert html_label(r"$\kappa_2^2\,\mathrm{tf}_1'$") == "κ<sub>2</sub><sup>2</sup> tf<sub>1</sub>'"
    # an operator after a symbol keeps its space (the guide P^(-2 alpha min(r, 1))), not inside a bracket
    assert html_label(r"$P^{-2\alpha\min(r,1)}$") == "P<sup>-2α min(r,1)</sup>"
    assert html_label(r"$P^{\min(r,1)}$") == "P<sup>min(r,1)</sup>"


def test_unknown_experiment_names_the_known_ones(tiny_root):
    ex = Explorer(tiny_root, "paper")
    with pytest.raises(ValueError, match=r"experiment 'nope': not an experiment of the paper config \(known: tiny\)"):
        ex.experiment_state("nope")


def test_without_the_extra_one_line_says_how_to_install(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # import uvicorn raises ImportError, as when not installed
    assert cli.main(["explore", "--port", "0", "--no-browser"]) == 2
    err = capsys.readouterr().err
    assert err == ("error: ridgerenorm explore needs the optional extra [explore] (uvicorn is not installed): "
                   "pip install -e '.[explore]'\n")


@pytest.mark.skipif(drv.missing() is not None, reason=str(drv.missing()))
def test_a_port_in_use_is_one_line(tiny_root, capsys):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert cli.main(["explore", "--root", str(tiny_root), "--scale", "paper", "--port", str(port),
                         "--no-browser"]) == 2
    assert capsys.readouterr().err == f"error: --port {port}: cannot listen on 127.0.0.1 (Address already in use)\n"


def power_law_file(path, D=300, alpha=1.3, r=0.6, seed=3):
    """A small power-law population written as a user would: a .csv with a header eta,w, rows in a shuffled
    order; (eta descending, w along, normalised to |w| = 1) as the theory takes them."""
    k = np.arange(1, D + 1, dtype=float)
    eta, w = k ** -alpha, k ** (-(1 + alpha * (2 * r - 1)) / 2)
    order = np.random.default_rng(seed).permutation(D)
    rows = zip(eta[order].tolist(), w[order].tolist())
    path.write_text("eta,w\n" + "".join(f"{e!r},{v!r}\n" for e, v in rows))
    return eta, w / np.linalg.norm(w)


BAD_UPLOADS = [  # (file name, content, the problem the page names)
    ("negative.txt", b"1\n0.5\n-0.5\n0.1\n", "eta[2] = -0.5 is negative (eigenvalues of a covariance are >= 0)"),
    ("nan.csv", b"eta\n1\nnan\n", "eta[1] = nan is not finite"),
    ("empty.txt", b"", "holds no values"),
    ("comments.csv", b"# nothing but a comment\n", "holds no values"),
    ("ragged.csv", b"eta,w\n1,2\n3\n", "row 3 has 1 values, expected 2"),
    ("many.txt", b"1\n" * 100_001, "100001 eigenvalues, more than the page takes (100000)"),
    ("spectrum.exe", b"1\n", "expected a .txt, .csv or .npy file of eigenvalues"),
]


@pytest.mark.parametrize("name, data, problem", BAD_UPLOADS, ids=[b[0] for b in BAD_UPLOADS])
def test_a_bad_upload_is_one_line_naming_the_problem(tiny_root, tmp_path, name, data, problem):
    ex = Explorer(tiny_root, "paper")
    assert ex.upload(name, data) == {"error": f"uploaded file {name!r}: {problem}"}
    assert ex._uploads == {} and (ex._uploads_dir is None or not any(Path(ex._uploads_dir.name).iterdir()))
    if name.endswith((".csv", ".txt")) and len(data) < 1000:  # the same words as the config's file kind
        (tmp_path / "eta.csv").write_bytes(data)
        exp = dict(TINY, spectrum={"kind": "file", "path": str(tmp_path / "eta.csv")}, teacher={"kind": "flat"})
        assert one_line_error(exp).endswith(problem)


def test_a_large_or_pickled_upload_is_refused(tiny_root):
    ex = Explorer(tiny_root, "paper")
    assert ex.upload("big.npy", b"\x93NUMPY", size=9 * 2**20) == {
        "error": "uploaded file 'big.npy': 9.0 MB is more than the page takes (8 MB)"}
    buf = io_.BytesIO()
    np.save(buf, np.array([1.0, "os.system"], dtype=object), allow_pickle=True)
    err = ex.upload("objects.npy", buf.getvalue())["error"]
    assert err.startswith("uploaded file 'objects.npy': not a readable .npy file (Object arrays cannot be loaded")


def test_an_uploaded_spectrum_draws_its_theory(tiny_root, tmp_path):
    ex = Explorer(tiny_root, "paper")
    eta, w = power_law_file(tmp_path / "mine.csv")
    up = ex.upload("../../mine.csv", (tmp_path / "mine.csv").read_bytes())
    assert up["D"] == 300 and up["teacher"] is True and up["name"] == "mine.csv"
    state = dict(ex.experiment_state("tiny"), spectrum=up["spectrum"], teacher={"kind": "file", "norm": 1.0})
    out = ex.evaluate(state)
    assert "error" not in out and out["D"] == 300 and "experiment" not in out
    # the curves are the theory of the test's own eigenvalues and teacher, at every P of the grid
    assert_curves_are_the_theory([(c["name"], out["P"], c["y"]) for c in out["curves"]], state,
                                 population=(eta, w))
    eg = next(c for c in out["curves"] if c["name"] == "eg")
    for i in (0, len(out["P"]) // 2, len(out["P"]) - 1):
        P = out["P"][i]
        want = theory.linear_ridge(eta, w, np.array([P]), np.array([state["ridge"]]), state["sigma_eps"])["eg"]
        assert eg["y"][i] == pytest.approx(float(want.values[0]), rel=1e-9)
    # without the file's teacher: a flat one
    flat = ex.evaluate(dict(state, teacher={"kind": "flat", "norm": 1.0}))
    assert_curves_are_the_theory([(c["name"], flat["P"], c["y"]) for c in flat["curves"]], state,
                                 population=(eta, np.ones(300) / np.sqrt(300)))
    saved = ex.save(state, "mine")
    assert "error" not in saved and saved["check"].endswith("spectrum reads mine.csv beside the config file: save "
                                                            "your mine.csv there")
    # the saved config names the user's file, relative to itself: beside it, check-config reads the same theory
    assert yaml.safe_load(saved["yaml"])["experiments"]["mine"]["spectrum"] == {"kind": "file", "path": "mine.csv"}
    folder = tmp_path / "saved"
    folder.mkdir()
    (folder / "mine.yaml").write_text(saved["yaml"])
    (folder / "mine.csv").write_bytes((tmp_path / "mine.csv").read_bytes())
    loaded = cfg.load_config(folder / "mine.yaml")
    assert loaded["experiments"]["mine"]["spectrum"]["path"] == str(folder / "mine.csv")
    # a .txt upload is kept as the one-column .csv it is: the config names it so
    (tmp_path / "eig.txt").write_text("\n".join(str(x) for x in eta) + "\n")
    txt = ex.upload("eig.txt", (tmp_path / "eig.txt").read_bytes())
    saved_txt = ex.save(dict(state, spectrum=txt["spectrum"], teacher={"kind": "flat", "norm": 1.0}), "eig")
    assert saved_txt["check"].endswith("spectrum reads eig.csv beside the config file: save your eig.txt there as "
                                       "eig.csv"), saved_txt
    # a path the page did not upload is not read
    other = dict(state, spectrum={"kind": "file", "path": str(tmp_path / "mine.csv")})
    assert ex.evaluate(other) == {"error": f"spectrum.path = {str(tmp_path / 'mine.csv')!r}: not a file uploaded "
                                           "to this page nor an input file of the config (upload the spectrum)"}


def test_values_at_or_below_zero_are_marked_not_lost(tiny_root):
    """On the log axis a value <= 0 cannot be drawn: the explorer lists where they are and a floor below
    everything drawn, where the page marks them.  A negative variance estimate of the simulation, and E_tr of
    ridgeless regression, which is exactly 0 below the interpolation threshold P = D."""
    ex = Explorer(tiny_root, "paper")
    state = ex.experiment_state("tiny")
    out = ex.evaluate(state)
    sim = io.read_dataset(tiny_root / "results" / "paper" / "simulation" / "tiny.nc")
    markers = {m["name"]: m for m in out["experiment"]["markers"]}
    assert markers["var_x"]["nonpositive"] == np.flatnonzero(sim["var_x"].values <= 0).tolist() == [1]
    assert markers["var_x"]["y"][1] == float(sim["var_x"][1]) < 0
    assert all(not m["nonpositive"] for name, m in markers.items() if name != "var_x")
    assert all(not c["nonpositive"] for c in out["curves"])
    drawn = [v for c in out["curves"] for v in c["y"] if v is not None and v > 0]
    drawn += [y - lo for m in markers.values() for y, lo in zip(m["y"], m["lower"]) if lo is not None]
    assert 0 < out["floor"] == pytest.approx(min(v for v in drawn if v > 0) / 3, rel=1e-12)

    ridgeless = dict(state, ridge=0.0, sigma_eps=0.2)
    out = ex.evaluate(ridgeless)
    assert "experiment" not in out
    P = np.asarray(out["P"], dtype=float)
    th = api_theory(ridgeless, P)
    for c in out["curves"]:  # every theory value <= 0 is listed (E_tr below P = D; Bias^2 above it)
        assert c["nonpositive"] == np.flatnonzero(np.asarray(value_of(th, c["name"])) <= 0).tolist(), c["name"]
    etr_curve = next(c for c in out["curves"] if c["name"] == "etr")
    assert P[etr_curve["nonpositive"]].max() <= 60 and len(etr_curve["nonpositive"]) >= 10
    assert all(etr_curve["y"][i] == 0.0 for i in etr_curve["nonpositive"])
    assert out["floor"] < min(v for c in out["curves"] for v in c["y"] if v is not None and v > 0)


# ------------------------------------------------------------------------------------------ in Chromium


# Pairs of the plot's labels and parts whose boxes overlap: the title, the mode bar, the plot area, the legend
# and each legend entry's text (a legend entry lies inside the legend, by design).
OVERLAPS_JS = """
const box = (el) => el.getBoundingClientRect();
const hit = (a, b) => a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5;
const gd = document.getElementById('plot');
const named = [['title', box(document.getElementById('plot-title'))], ['mode bar', box(gd.querySelector('.modebar'))],
               ['plot area', box(gd.querySelector('.nsewdrag'))], ['legend', box(gd.querySelector('.legend .bg'))]];
gd.querySelectorAll('.legend .legendtext').forEach((t) => named.push(['legend: ' + t.textContent, box(t)]));
const out = [];
for (let i = 0; i < named.length; i++) for (let j = i + 1; j < named.length; j++) {
  if (named[i][0] === 'legend' && named[j][0].startsWith('legend: ')) continue;
  if (hit(named[i][1], named[j][1])) out.push(named[i][0] + ' / ' + named[j][0]);
}
return [named.length, out];
"""


def drawn_theory(driver):
    return [(t["meta"]["name"], t["x"], t["y"]) for t in drv.traces(driver) if t["meta"]["kind"] == "theory"]


@pytest.mark.skipif(drv.missing() is not None, reason=str(drv.missing()))
def test_page_in_chromium(tiny_root, tmp_path):
    from selenium.webdriver.common.keys import Keys

    with explore_browser.session(tiny_root, "paper", "?experiment=tiny") as s:
        driver = s.driver
        assert s.url.startswith("http://127.0.0.1:")
        drv.settled(driver)
        state = drv.state(driver)
        assert {k: state[k] for k in TINY} == TINY
        assert_curves_are_the_theory(drawn_theory(driver), state)
        sim = io.read_dataset(tiny_root / "results" / "paper" / "simulation" / "tiny.nc")
        markers = {t["meta"]["name"]: t for t in drv.traces(driver) if t["meta"]["kind"] == "simulation"}
        assert set(markers) == {"eg", "etr", "bias", "var_x", "var_xeps"}
        np.testing.assert_array_equal(markers["eg"]["x"], sim.P.values)
        np.testing.assert_array_equal(markers["eg"]["y"], sim["eg"].values)
        lower, upper = log_error_bars(sim["eg"].values, sim["eg_se"].values)  # as the figures draw them
        np.testing.assert_array_equal(markers["eg"]["upper"], upper)
        np.testing.assert_array_equal(markers["eg"]["lower"], lower)
        np.testing.assert_array_equal(upper, sim["eg_se"].values)
        assert "agreement.csv rows" in driver.find_element("id", "agreement").text
        # the negative var_x estimate: an open down-triangle at the floor, its value in the hover text
        clipped = [t for t in drv.traces(driver) if t["meta"]["kind"] == "nonpositive"]
        assert [(t["meta"]["of"], t["meta"]["name"]) for t in clipped] == [("simulation", "var_x")]
        floor = driver.execute_script("return window.__explore.last.floor;")
        assert clipped[0]["x"] == [sim.P.values[1]] and clipped[0]["y"] == [floor]
        assert clipped[0]["meta"]["values"] == [float(sim["var_x"][1])] < [0]
        assert floor < min(v for t in drv.traces(driver) if t["meta"]["kind"] in ("theory", "simulation")
                           for v in t["y"] if v is not None and v > 0)
        hover = driver.execute_script("return document.getElementById('plot').data.find("
                                      "t => t.meta.kind === 'nonpositive').hovertext[0];")
        assert hover.startswith(f"{QUANTITIES['var_x'].long_name}: simulation mean {float(sim['var_x'][1]):.4g} ≤ 0")
        assert "experiment tiny" in driver.find_element("id", "match").text

        # a real key press on the label-noise slider: the curves follow, the experiment's markers go
        driver.find_element("id", "s-sigma_eps").send_keys(Keys.ARROW_RIGHT)
        drv.settled(driver)
        state = drv.state(driver)
        assert state["sigma_eps"] != 0.2
        assert_curves_are_the_theory(drawn_theory(driver), state)
        assert not any(t["meta"]["kind"] == "simulation" for t in drv.traces(driver))

        # ridgeless: E_tr is 0 below P = D, marked at the floor instead of vanishing
        drv.type_into(driver, "n-lam", "0")
        drv.settled(driver)
        state = drv.state(driver)
        assert state["ridge"] == 0 and drv.error_text(driver) is None
        P = np.array(driver.execute_script("return window.__explore.last.P;"), dtype=float)
        th = api_theory(state, P)
        clipped = {t["meta"]["name"]: t for t in drv.traces(driver) if t["meta"]["kind"] == "nonpositive"}
        assert {t["meta"]["of"] for t in clipped.values()} == {"theory"} and "etr" in clipped
        for name, _, _ in drawn_theory(driver):  # every theory value <= 0 is marked, and only those
            want = np.asarray(value_of(th, name), dtype=float)
            at = np.isfinite(want) & (want <= 0)
            assert (name in clipped) == bool(at.any()), name
            if name in clipped:
                np.testing.assert_array_equal(clipped[name]["x"], P[at])
                assert clipped[name]["meta"]["values"] == want[at].tolist()
        assert len(clipped["etr"]["x"]) >= 10 and max(clipped["etr"]["x"]) <= 60  # E_tr = 0 up to P = D
        assert driver.execute_script("return document.getElementById('plot').data.filter("
                                     "t => t.meta.kind === 'nonpositive' && t.showlegend !== false).length;") == 0
        assert driver.execute_script("return document.getElementById('plot').data.filter("
                                     "t => t.meta.kind === 'key').map(t => t.name);") == ["value ≤ 0 (at the bottom)"]

        drv.slide(driver, "lam", -2.0)
        drv.settled(driver)
        assert drv.state(driver)["ridge"] == 0.01
        assert_curves_are_the_theory(drawn_theory(driver), drv.state(driver))

        # random features, then deep, with feature noise
        drv.choose(driver, "model", "random_features")
        drv.slide(driver, "N", np.log10(30))
        drv.slide(driver, "sigma_xi", -1.0)
        drv.settled(driver)
        state = drv.state(driver)
        assert state["widths"] == [30] and state["sigma_xi"] == 0.1
        drawn = drawn_theory(driver)
        assert {"var_f", "var_xf", "var_xfeps"} <= {name for name, _, _ in drawn}
        assert_curves_are_the_theory(drawn, state)
        # every guide shown, in a laptop-wide window: no label overlaps another or the mode bar, the legend
        # stays beside the plot, and each guide has its own dash (a label names one line)
        driver.set_window_size(1100, 900)
        explore_browser.show_all_guides(driver)
        guides = [t for t in driver.execute_script("return document.getElementById('plot').data;")
                  if t["meta"]["kind"] == "guide"]
        assert len(guides) >= 6 and all(g["visible"] is True for g in guides)
        dashes = [g["line"]["dash"] for g in guides]
        assert len(set(dashes)) == len(dashes)
        n_parts, overlaps = driver.execute_script(OVERLAPS_JS)
        assert n_parts == 4 + len(drawn_theory(driver)) + len(guides) and overlaps == []
        title = driver.find_element("id", "plot-title").text
        assert title == "random_features, D = 60"
        # the check sees an overlap: the title pushed down onto the mode bar
        driver.execute_script("document.getElementById('plot-title').style.marginBottom = '-25px';")
        assert "title / mode bar" in driver.execute_script(OVERLAPS_JS)[1]
        driver.execute_script("document.getElementById('plot-title').style.marginBottom = '';")
        driver.set_window_size(1500, 1000)

        drv.choose(driver, "depth", "2")
        drv.settled(driver)
        assert drv.state(driver)["widths"] == [30, 30]
        assert_curves_are_the_theory(drawn_theory(driver), drv.state(driver))

        # a bad combination: nonlinear features have one layer -- the library's line, the last curves kept
        drv.choose(driver, "model", "nonlinear_random_features")
        drv.settled(driver)
        bad = drv.state(driver)
        assert drv.error_text(driver) == one_line_error({k: v for k, v in bad.items()} | {"draws": 4,
                                                                                          "feature_draws": 10})
        assert drawn_theory(driver) and driver.find_element("id", "plot").get_attribute("class").find("stale") >= 0
        drv.choose(driver, "depth", "1")
        drv.settled(driver)
        assert drv.error_text(driver) is None and drv.state(driver)["activation"] == "relu"
        assert_curves_are_the_theory(drawn_theory(driver), drv.state(driver))
        relu = drawn_theory(driver)
        drv.choose(driver, "activation", "erf")
        drv.settled(driver)
        assert drv.state(driver)["activation"] == "erf"
        assert drawn_theory(driver)[0][2] != relu[0][2]
        assert_curves_are_the_theory(drawn_theory(driver), drv.state(driver))

        # teacher and spectrum that do not go together
        drv.choose(driver, "model", "linear_ridge")
        drv.choose(driver, "spectrum-kind", "isotropic")
        drv.settled(driver)
        assert drv.error_text(driver) == one_line_error(drv.state(driver) | {"draws": 4})
        drv.choose(driver, "teacher-kind", "flat")
        drv.settled(driver)
        assert drv.error_text(driver) is None
        assert_curves_are_the_theory(drawn_theory(driver), drv.state(driver))

        # typed text that is not a number reaches the config's check as typed
        drv.type_into(driver, "teacher-norm", "abc")
        drv.settled(driver)
        assert drv.state(driver)["teacher"]["norm"] == "abc"
        assert drv.error_text(driver) == one_line_error(drv.state(driver) | {"draws": 4})
        assert "experiments.explore.teacher.norm = 'abc'" in drv.error_text(driver)
        drv.type_into(driver, "teacher-norm", "2")
        drv.settled(driver)
        assert drv.error_text(driver) is None and drv.state(driver)["teacher"]["norm"] == 2
        assert_curves_are_the_theory(drawn_theory(driver), drv.state(driver))

        # Save as experiment: the YAML shown passes check-config
        drv.type_into(driver, "save-name", "saved_from_page")
        driver.find_element("id", "save").click()
        drv.wait(driver, "return document.getElementById('saved-yaml').textContent.length > 0")
        text = driver.find_element("id", "saved-yaml").text
        path = tmp_path / "saved.yaml"
        path.write_text(text + "\n")
        assert "config OK" in _cli("check-config", path)
        saved = yaml.safe_load(text)["experiments"]["saved_from_page"]
        state = drv.state(driver)
        assert {k: saved[k] for k in state} == state
        timings = driver.execute_script("return window.__explore.timings;")
        assert all(t["ms"] > 0 for t in timings) and len(timings) >= 8


@pytest.mark.skipif(drv.missing() is not None, reason=str(drv.missing()))
def test_page_draws_an_uploaded_spectrum(tiny_root, tmp_path):
    """A user's power-law file with its teacher, then a file without one, then bad files: the curves are the
    theory of the file's own numbers; a bad file is one line naming the problem and the plot is kept."""
    eta, w = power_law_file(tmp_path / "my_spectrum.csv")
    np.save(tmp_path / "eigenvalues.npy", eta[::-1])  # ascending: the page sorts them as the file kind does
    (tmp_path / "bad.txt").write_text("1\n0.5\n-0.5\n0.1\n")
    (tmp_path / "empty.txt").write_text("")
    with explore_browser.session(tiny_root, "paper", "?experiment=tiny") as s:
        driver = s.driver
        drv.settled(driver)
        P_range = driver.execute_script("return [document.getElementById('p-min').value,"
                                        " document.getElementById('p-max').value];")
        answer = explore_browser.upload(driver, tmp_path / "my_spectrum.csv")
        assert answer["D"] == 300 and answer["teacher"] is True and answer["name"] == "my_spectrum.csv"
        drv.settled(driver)
        state = drv.state(driver)
        assert state["spectrum"] == answer["spectrum"] and state["teacher"] == {"kind": "file", "norm": 1}
        assert drv.error_text(driver) is None and "experiment tiny" not in driver.find_element("id", "match").text
        drawn = drawn_theory(driver)
        # the P range kept for the new D (to the 3 digits the page rounds the q grid to; the simulated P are whole)
        assert P_range == ["6", "600"] and 5 <= min(drawn[0][1]) <= 6 and max(drawn[0][1]) == pytest.approx(600, rel=0.01)
        assert {name for name, _, _ in drawn} == {"eg", "etr", "bias", "var_x", "var_xeps"}
        assert_curves_are_the_theory(drawn, state, population=(eta, w))
        _, P, y = next(c for c in drawn if c[0] == "eg")
        for i in (0, len(P) // 2, len(P) - 1):  # E_g at a few P, from the theory with the test's own numbers
            want = theory.linear_ridge(eta, w, np.array([P[i]]), np.array([state["ridge"]]), state["sigma_eps"])
            assert y[i] == pytest.approx(float(want["eg"].values[0]), rel=1e-9)
        own = driver.find_element("css selector", "#spectrum-kind option[value=file]").text
        assert own == "your file my_spectrum.csv (300 eigenvalues)"

        # a bad file: the problem in one line, the last curves kept (greyed)
        assert explore_browser.upload(driver, tmp_path / "bad.txt") == {"error": "uploaded file 'bad.txt': eta[2] = -0.5 is "
                                                                "negative (eigenvalues of a covariance are >= 0)"}
        assert drv.error_text(driver) == "uploaded file 'bad.txt': eta[2] = -0.5 is negative (eigenvalues of a " \
                                         "covariance are >= 0)"
        assert drawn_theory(driver) == drawn and "stale" in driver.find_element("id", "plot").get_attribute("class")
        explore_browser.upload(driver, tmp_path / "empty.txt")
        assert drv.error_text(driver) == "uploaded file 'empty.txt': holds no values"

        # a .npy of eigenvalues alone: a flat teacher, rescaled to norm 1
        answer = explore_browser.upload(driver, tmp_path / "eigenvalues.npy")
        assert answer["D"] == 300 and answer["teacher"] is False
        drv.settled(driver)
        state = drv.state(driver)
        assert state["teacher"] == {"kind": "flat", "norm": 1} and drv.error_text(driver) is None
        assert_curves_are_the_theory(drawn_theory(driver), state, population=(eta, np.full(300, 300 ** -0.5)))
        # P from 1 for D = 300: the q grid is rounded inwards (rounded to 3 digits, log10(300) = 2.477 gave 2.48,
        # a q above D and the config's "P < 1" error)
        drv.type_into(driver, "p-min", "1")
        drv.settled(driver)
        assert drv.error_text(driver) is None and min(drawn_theory(driver)[0][1]) == 1
        assert_curves_are_the_theory(drawn_theory(driver), drv.state(driver),
                                     population=(eta, np.full(300, 300 ** -0.5)))
