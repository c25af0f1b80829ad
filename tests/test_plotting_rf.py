"""Plot functions of the linear random-feature figures (C1-C6, C8) on synthetic Datasets."""

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import xarray as xr  # noqa: E402
import yaml  # noqa: E402
from matplotlib.container import ErrorbarContainer  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from ridgerenorm.plotting import random_features as rf  # noqa: E402
from ridgerenorm.theory import PHASE_LABELS, phase_rates  # noqa: E402

SIM_VARS = ["eg", "etr", "bias", "var_x", "var_f", "var_xf", "var_f_xf", "var_xeps", "var_xfeps", "df1_hat",
            "kappa_hat", "gcv"]
THEORY_VARS = ["kappa1", "kappa2", "df1", "df2", "gamma1", "gamma2", "bias", "var_x", "var_f", "var_xf", "var_xeps",
               "var_xfeps", "eg", "etr", "lam"]

# the params blocks of the shipped config: the test draws exactly what the pipeline draws
ROOT = Path(__file__).resolve().parents[1]
BLOCKS = {fid: fig["params"] for fid, fig in yaml.safe_load((ROOT / "config" / "config.yaml").read_text())["figures"].items()
          if fid in ("C3", "C4", "C5", "C8")}


def experiment(D=10_000, widths=(1000,), sigma_eps=0.0, ridge=1e-5):
    return {"D": D, "widths": list(widths), "spectrum": {"kind": "power_law", "D": D, "alpha": 1.5},
            "teacher": {"kind": "power_law", "r": 1.2, "norm": None}, "ridge": ridge,
            "sigma_eps": sigma_eps, "sigma_xi": 0.0}


def datasets(exp, P_sim, n_theory=80, extra_theory=()):
    """Synthetic [sim, theory] with the pipeline's layout; smooth positive power laws stand in for values."""
    P_sim = np.asarray(P_sim, dtype=int)
    P_th = np.unique(np.concatenate([np.geomspace(P_sim.min(), P_sim.max(), n_theory), P_sim.astype(float)]))
    noisy, ridgeless = exp["sigma_eps"] > 0, exp["ridge"] == 0

    def curve(P, k):
        return (k + 1.0) * P ** -(0.3 + 0.1 * k)

    th = {}
    for k, name in enumerate(THEORY_VARS + list(extra_theory)):
        y = curve(P_th, k)
        if name in ("var_xeps", "var_xfeps") and not noisy:
            y = np.zeros_like(y)  # exactly zero without label noise, as the theory returns
        th[name] = ("P", y)
    theory = xr.Dataset(th, coords={"P": P_th}, attrs={"spec": json.dumps(exp)})
    sim = {}
    for k, name in enumerate(SIM_VARS):
        y = curve(P_sim.astype(float), k)
        if (name in ("var_xeps", "var_xfeps") and not noisy) or (name == "gcv" and ridgeless):
            y = np.full_like(y, np.nan if name == "gcv" else 0.0)
        sim[name] = ("P", y)
        sim[name + "_se"] = ("P", 0.05 * y)
    for name in ("eg", "df1_hat", "kappa_hat", "gcv"):
        sim[name + "_std"] = ("P", 0.1 * sim[name][1])
    rng = np.random.default_rng(0)
    sim["eg_per_draw"] = (("draw", "fdraw", "P"), sim["eg"][1] * rng.lognormal(0.0, 0.3, (4, 3, P_sim.size)))
    simulation = xr.Dataset(sim, coords={"P": P_sim, "draw": np.arange(4), "fdraw": np.arange(3)},
                            attrs={"spec": json.dumps(exp)})
    return [simulation, theory]


def count(ax):
    """(theory lines, simulation series, reference lines, vertical lines) drawn on ax."""
    gids = [line.get_gid() or "" for line in ax.lines]
    return (sum(g.startswith("theory:") for g in gids),
            sum(isinstance(c, ErrorbarContainer) for c in ax.containers),
            sum(g.startswith("guide:") for g in gids), gids.count("vline"))


def theory_names(ax):
    return {line.get_gid().split(":", 1)[1] for line in ax.lines if (line.get_gid() or "").startswith("theory:")}


def spec_of(kind, params=None, experiments=None):
    return {"id": "CX", "name": "test", "kind": kind, "params": params or {}, "experiments": experiments or {}}


def test_venn(tmp_path):
    fig = rf.plot_venn(spec_of("rf_venn"), {})
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    ax = fig.axes[0]
    assert len(ax.patches) == 4  # three sets and the Bias^2 box
    texts = {t.get_text() for t in ax.texts}
    for region in (r"Var$_X$", r"Var$_\epsilon$", r"Var$_F$", r"Var$_{X\epsilon}$", r"Var$_{XF}$",
                   r"Var$_{\epsilon F}$", r"Var$_{X\epsilon F}$", r"Bias$^2$"):
        assert region in texts
    fig.savefig(tmp_path / "c1.png")


def test_isotropic_noisy():
    exp = experiment(D=200, widths=[100], sigma_eps=0.25, ridge=1e-3)
    data = {"main": datasets(exp, [2, 5, 20, 100, 400, 2000])}
    fig = rf.plot_isotropic(spec_of("rf_isotropic", experiments={"main": "c2"}), data)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    # (a) eight components as lines and markers, plus GCV triangles
    assert count(fig.axes[0]) == (8, 9, 0, 0)
    assert theory_names(fig.axes[0]) == {"eg", "etr", "bias", "var_x", "var_f", "var_xf", "var_xeps", "var_xfeps"}
    # (b) six theory parameters, empirical df1 and kappa_GCV
    assert count(fig.axes[1]) == (6, 2, 0, 0)
    n_markers = [len(c.lines[0].get_xdata()) for c in fig.axes[0].containers]
    assert n_markers == [6] * 9
    # x is P/D
    assert np.isclose(fig.axes[0].containers[0].lines[0].get_xdata().min(), 2 / 200)


def test_isotropic_skips_zero_noise_terms_and_ridgeless_gcv():
    exp = experiment(D=200, widths=[100], sigma_eps=0.0, ridge=0.0)
    fig = rf.plot_isotropic(spec_of("rf_isotropic"), {"main": datasets(exp, [2, 20, 200, 2000])})
    assert count(fig.axes[0]) == (6, 6, 0, 0)
    assert "var_xeps" not in theory_names(fig.axes[0]) and "var_xfeps" not in theory_names(fig.axes[0])


# expected (theory, sim, references, vlines) per panel; C5 keeps Var_Xeps (noisy), C3 adds kappa2 tf1 and
# kappa2^2 tf1' (= Bias^2, which quantities.py derives from the theory's bias)
EXPECTED = {
    "C3": (dict(sigma_eps=0.0, widths=[1000]), (4, 5, 2, 2), (8, 2, 1, 2)),
    "C4": (dict(sigma_eps=0.0, widths=[2000], ridge={"power": 1.5}), (4, 5, 2, 1), (6, 2, 2, 1)),
    "C5": (dict(sigma_eps=0.4, widths=[2000], ridge={"power": 2.0}), (4, 5, 2, 1), (6, 2, 1, 1)),
    "C8": (dict(D=2000, widths=[1000, 1000]), (4, 5, 2, 2), (6, 2, 1, 2)),
}


@pytest.mark.parametrize("fid", sorted(EXPECTED))
def test_scaling_blocks(fid, tmp_path):
    kw, exp_a, exp_b = EXPECTED[fid]
    exp = experiment(**kw)
    P = np.unique(np.geomspace(1, exp["D"], 12).astype(int))
    data = {"main": datasets(exp, P, extra_theory=("kappa2_tf1",) if fid == "C3" else ())}
    fig = rf.plot_scaling(spec_of("rf_scaling", BLOCKS[fid], {"main": fid.lower()}), data)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    assert count(fig.axes[0]) == exp_a
    assert count(fig.axes[1]) == exp_b
    assert all(len(c.lines[0].get_xdata()) == P.size for c in fig.axes[0].containers)
    # vertical lines where the block puts them
    N = exp["widths"][-1]
    xs = sorted(line.get_xdata()[0] for line in fig.axes[0].lines if line.get_gid() == "vline")
    # the width crossover N^(1/(1 + alpha (2 min(r, 1) - 1))) at alpha = 1.5, r = 1.2 of experiment()
    want = {"C3": [N**0.4, N], "C4": [N], "C5": [N], "C8": [N**0.4, N]}[fid]
    np.testing.assert_allclose(xs, want)
    fig.savefig(tmp_path / f"{fid}.png")


def test_scaling_guide_slope_is_its_formula_and_sits_offset_from_its_anchor():
    exp = experiment()  # alpha 1.5, r 1.2: signal guide P^(-2 alpha min(r, 1)) = P^-3
    sim, th = datasets(exp, [1, 10, 100, 1000, 5000])
    params = {"curves": ["eg", "bias"], "references": [{"formula": "signal", "anchor": "bias", "offset": 2.0}]}
    fig = rf.plot_scaling(spec_of("rf_scaling", params), {"main": [sim, th]})
    (ref,) = [line for line in fig.axes[0].lines if line.get_gid().startswith("guide:signal@")]
    x, y = ref.get_xdata(), ref.get_ydata()
    np.testing.assert_allclose(np.diff(np.log(y)) / np.diff(np.log(x)), -3.0)
    mid = np.sqrt(th.P.values.min() * th.P.values.max())
    want = 2.0 * float(np.exp(np.interp(np.log(mid), np.log(th.P.values), np.log(th.bias.values))))
    np.testing.assert_allclose(np.interp(np.log(mid), np.log(x), np.log(y)), np.log(want), rtol=1e-6)
    assert "P^{-3}" in ref.get_label()
    # the same config, another alpha: the guide moves with it
    fig = rf.plot_scaling(spec_of("rf_scaling", params),
                          {"main": datasets(dict(exp, spectrum={"kind": "power_law", "D": 10_000, "alpha": 2.5}),
                                            [1, 10, 100, 1000, 5000])})
    (ref,) = [line for line in fig.axes[0].lines if line.get_gid().startswith("guide:signal@")]
    np.testing.assert_allclose(np.diff(np.log(ref.get_ydata())) / np.diff(np.log(ref.get_xdata())), -5.0)


def test_guide_labels_state_the_evaluated_law_with_every_factor():
    """The label's evaluated side keeps a factor besides P (an anchored P^(1-2 alpha min(r,1/2))/N is
    "= P^-0.5/N", not "= P^-0.5"), and a guide without parameters is named once ("P^-2", not "P^-2 = P^-2")."""
    from ridgerenorm.plotting.guides import guide_line

    spec = {"D": 1000, "spectrum": {"kind": "power_law", "D": 1000, "alpha": 1.5}, "teacher": {"kind": "power_law", "r": 1.2},
            "ridge": {"power": 2.0}, "widths": [100]}
    P, anchor = np.array([1.0, 10.0, 100.0]), np.array([1.0, 0.1, 0.01])
    labels = {name: guide_line(name, spec, P, anchor)[2]
              for name in ("signal_width", "ridge_feature_variance", "inverse_square", "signal")}
    assert labels["signal_width"].endswith("= $P^{-0.5}/N$"), labels
    assert labels["ridge_feature_variance"].endswith("= $P^{-0.667}/N$"), labels  # -l + l/alpha = -2 + 4/3
    assert labels["inverse_square"] == "$P^{-2}$", labels
    assert labels["signal"].endswith("= $P^{-3}$"), labels
    # an exponent of exactly -1 with a factor: "1/P/N", never "/P/N"
    spec_minus_one = {**spec, "spectrum": {"kind": "power_law", "D": 1000, "alpha": 2.0},
                      "teacher": {"kind": "power_law", "r": 0.5}}
    assert guide_line("signal_width", spec_minus_one, P, anchor)[2].endswith("= $1/P/N$")


def test_scaling_defaults_and_optional_theory():
    exp = experiment()
    data = {"main": datasets(exp, [1, 10, 100, 1000], extra_theory=("k2sq_tf1p", "k2_tf1"))}
    fig = rf.plot_scaling(spec_of("rf_scaling"), data)  # no params: default curves, no references
    assert count(fig.axes[0]) == (4, 5, 0, 0)
    assert count(fig.axes[1]) == (6, 2, 0, 0)
    params = {"param_curves": ["kappa2", "kappa1", "k2sq_tf1p", "k2_tf1", "kappa_hat"]}
    fig = rf.plot_scaling(spec_of("rf_scaling", params), data)
    assert theory_names(fig.axes[1]) == {"kappa2", "kappa1", "k2sq_tf1p", "k2_tf1"}
    # absent optional curves are skipped quietly: k2_tf1 needs kappa2_tf1; k2sq_tf1p is Bias^2, derived
    data = {"main": datasets(exp, [1, 10, 100, 1000])}
    fig = rf.plot_scaling(spec_of("rf_scaling", params), data)
    assert theory_names(fig.axes[1]) == {"kappa2", "kappa1", "k2sq_tf1p"}


@pytest.mark.parametrize(
    "params,match",
    [
        ({"curves": ["eg", "var_q"]}, "unknown error curve"),
        ({"param_curves": ["kappa"]}, "unknown parameter curve"),
        ({"references": [{"formula": "signal", "anchor": "nope"}]}, "unknown reference anchor"),
        ({"references": [{"formula": "signal", "slope": 2}]}, "unknown reference keys"),
        ({"references": [{"anchor": "eg"}]}, "formula"),
        ({"references": [{"formula": "not_a_law"}]}, "unknown guide formula"),
        ({"vlines": ["M"]}, "P position"),
        ({"curve": ["eg"]}, "unknown rf_scaling params"),
    ],
)
def test_scaling_rejects_bad_params(params, match):
    data = {"main": datasets(experiment(), [1, 10, 100, 1000])}
    with pytest.raises(ValueError, match=match):
        rf.plot_scaling(spec_of("rf_scaling", params), data)


def test_phase(tmp_path):
    params = {"alpha": 1.2, "r": 1.1, "c": 0.3}
    fig = rf.plot_phase(spec_of("rf_phase", params), {})
    assert isinstance(fig, Figure) and len(fig.axes) == 4
    l, q, _ = rf.phase_grid(params)
    L, Q = np.meshgrid(l, q)
    shown = set()
    for ax, noisy in ((fig.axes[0], False), (fig.axes[1], True)):
        (image,) = ax.images
        idx = np.asarray(image.get_array())
        _, want = phase_rates(L, Q, 1.2, 1.1, 0.3, noisy)
        np.testing.assert_array_equal(idx, want)
        labels = {PHASE_LABELS[i] for i in np.unique(idx)}
        assert labels == {PHASE_LABELS[i] for i in np.unique(want)}
        shown |= labels
        assert ax.collections, "rate contours missing"
    assert shown == {"Ridge-capacity", "Var_F", "Var_F-ridge", "Signal-capacity-width", "Noise",
                     "Noise mitigated by λ", "Noise mitigated by N"}
    # legend sheets: one entry per label on the maps, in both
    for ax, title in ((fig.axes[2], "Dominated by"), (fig.axes[3], "Rate")):
        legend = ax.get_legend()
        assert legend.get_title().get_text() == title
        assert len(legend.get_texts()) == len(shown)
    fig.savefig(tmp_path / "c6.png")


def test_a_curve_on_top_of_another_is_dashed_unlike_the_ones_it_covers():
    """hidden.dash_hidden_lines: a line within 5 % of a line below it at a quarter of the points or more gets a
    dash pattern that no covered line has; a line 10 % away, or close at fewer than a quarter, stays solid."""
    from ridgerenorm.plotting.hidden import dash_hidden_lines, dash_pattern
    from ridgerenorm.plotting.style import new_figure

    fig, (ax,) = new_figure(1)
    x = np.geomspace(1, 1000, 50)
    y = x**-1.0
    below = ax.plot(x, y)[0]
    same = ax.plot(x, 1.03 * y)[0]  # 3 % above: hides `below`
    third = ax.plot(x[::3], 1.01 * y[::3])[0]  # another grid, hides both
    apart = ax.plot(x, 1.1 * y)[0]  # 10 % above: both show
    part = ax.plot(x, np.where(x < 300, 1.2, 1.0) * y)[0]  # close at a sixth of the points only
    ax.set_xscale("log")
    ax.set_yscale("log")
    assert dash_hidden_lines(fig) == 2
    assert dash_pattern(below)[1] is None and dash_pattern(apart)[1] is None
    assert dash_pattern(same)[1] is not None and dash_pattern(third)[1] is not None
    assert dash_pattern(third) != dash_pattern(same)
    assert dash_pattern(part)[1] is None
    # drawn under everything (lower zorder), `below` is the covered one even when added last
    fig, (ax,) = new_figure(1)
    top = ax.plot(x, y)[0]
    bottom = ax.plot(x, 1.01 * y, zorder=1)[0]
    dash_hidden_lines(fig)
    assert dash_pattern(bottom)[1] is None and dash_pattern(top)[1] is not None


def test_guides_of_one_panel_differ_in_dash_pattern():
    from ridgerenorm.plotting.hidden import dash_pattern

    exp = experiment(D=2000, widths=[1000])
    data = {"main": datasets(exp, np.unique(np.geomspace(1, 2000, 12).astype(int)))}
    fig = rf.plot_scaling(spec_of("rf_scaling", BLOCKS["C3"], {"main": "c3"}), data)
    patterns = [dash_pattern(line) for line in fig.axes[0].lines if line.get_gid().startswith("guide:")]
    assert len(patterns) == 2 and len(set(patterns)) == 2, patterns
