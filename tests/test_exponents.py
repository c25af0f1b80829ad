"""The scaling exponent agreement.csv fits to simulated E_g(P): the weighted fit recovers a known exponent within
its uncertainty (and its uncertainty is calibrated), rejects a wrong one, reads the fit range from the theory,
and the predicted exponents are those of docs/theory.md §6 (theory.phase_rates where both apply)."""

import csv
import json

import numpy as np
import pytest
import xarray as xr

from ridgerenorm import exponents, theory
from ridgerenorm.agreement import write_agreement_csv
from ridgerenorm.estimators import AGREEMENT_COLUMNS, agreement_rows


def synthetic(exponent, rel_se=0.05, seed=0, P_sim=None, theory_exponent=None, spec=None, attrs=None):
    """A merged simulation (E_g = 3 P^exponent times Gaussian scatter of relative SE rel_se) and a theory file
    (E_g = 3 P^theory_exponent exactly, on a dense grid holding the simulated P)."""
    rng = np.random.default_rng(seed)
    P_sim = np.unique(np.geomspace(2, 2000, 14).astype(int)).astype(float) if P_sim is None else P_sim
    true = 3.0 * P_sim**exponent
    se = rel_se * true
    eg = true + se * rng.normal(size=P_sim.size)
    sim = xr.Dataset({"eg": ("P", eg), "eg_se": ("P", se)}, coords={"P": P_sim})
    P_th = np.unique(np.concatenate([np.geomspace(1, 5000, 200), P_sim]))
    te = exponent if theory_exponent is None else theory_exponent
    th_eg = 3.0 * P_th**te
    th = xr.Dataset({"eg": ("P", th_eg), "bias": ("P", 0.6 * th_eg), "var_x": ("P", 0.4 * th_eg)}, coords={"P": P_th})
    # alpha = 2, r = 0.5, constant ridge: the signal term's exponent is -2 alpha min(1, r) = -2
    th.attrs = {"spec": json.dumps(spec or {"spectrum": {"kind": "power_law", "D": 10**4, "alpha": 2.0},
                                           "teacher": {"kind": "power_law", "r": 0.5}, "ridge": 1e-8, "D": 10**4}),
                "model": "linear_ridge", "sigma_eps": 0.0, **(attrs or {})}
    return sim, th


def test_fit_recovers_a_known_exponent_within_its_uncertainty():
    sim, th = synthetic(-2.0, seed=1)
    out = exponents.exponent_columns(sim, th)
    assert out["exponent_term"] == "signal" and out["exponent_theory"] == -2.0
    assert out["exponent_n_points"] == 14 and out["exponent_P_min"] == 2 and out["exponent_P_max"] == 2000
    assert abs(out["exponent_fit"] + 2.0) < 3 * out["exponent_fit_se"] and abs(out["exponent_z"]) < 3
    assert 0.005 < out["exponent_fit_se"] < 0.05
    assert out["exponent_theory_curve"] == pytest.approx(-2.0, abs=1e-12)


def test_a_wrong_exponent_is_rejected():
    """Data with exponent -1.7 against a predicted -2 (the theory file still says -2): |z| far above 3."""
    sim, th = synthetic(-1.7, seed=2, theory_exponent=-2.0)
    out = exponents.exponent_columns(sim, th)
    assert out["exponent_theory"] == -2.0 and abs(out["exponent_fit"] + 1.7) < 3 * out["exponent_fit_se"]
    assert out["exponent_z"] > 10


def test_the_uncertainty_is_calibrated():
    """Over 400 synthetic data sets, the true exponent lies within one fitted uncertainty about 68 % of the
    time and within two about 95 % (binomial bounds at ~4 sigma)."""
    P = np.geomspace(5, 5000, 12)
    z = []
    for seed in range(400):
        rng = np.random.default_rng(seed)
        se = 0.1 * 2.0 * P**-1.3
        y = 2.0 * P**-1.3 * np.exp(0.1 * rng.normal(size=P.size))  # scatter in log E_g of 0.1 = SE/E_g
        slope, err, _ = exponents.fit_exponent(P, y, se)
        z.append((slope + 1.3) / err)
    z = np.abs(np.array(z))
    assert 0.58 < np.mean(z < 1) < 0.78 and 0.90 < np.mean(z < 2) < 0.99


def test_scatter_beyond_the_standard_errors_widens_the_uncertainty():
    P = np.geomspace(5, 5000, 12)
    rng = np.random.default_rng(7)
    y = P**-1.0 * np.exp(0.3 * rng.normal(size=P.size))
    honest = exponents.fit_exponent(P, y, 0.3 * y)
    claimed = exponents.fit_exponent(P, y, 0.03 * y)  # SEs ten times too small
    assert honest[0] == pytest.approx(claimed[0])
    # unscaled, the claimed fit's uncertainty would be a tenth of the honest one's; scaled by sqrt(chi^2/dof)
    # it is what the scatter says
    unscaled = honest[1] / np.sqrt(max(1.0, honest[2])) / 10
    assert claimed[2] > 20 and claimed[1] == pytest.approx(unscaled * np.sqrt(claimed[2]))
    assert claimed[1] > 0.5 * honest[1]


def test_the_fit_range_is_where_the_theory_follows_the_law():
    """A theory curve that bends from P^-2 to a plateau at P = 100: only the simulated P below the bend are
    fitted, and the simulated points on the plateau do not pull the exponent."""
    P_sim = np.geomspace(2, 2000, 14)
    sim, th = synthetic(-2.0, seed=3, P_sim=P_sim)
    bend = lambda P: 3.0 * P**-2.0 + 3.0 * 100.0**-2.0  # noqa: E731
    th = th.assign(eg=("P", bend(th.P.values)), bias=("P", 0.6 * bend(th.P.values)),
                   var_x=("P", 0.4 * bend(th.P.values)))
    sim = sim.assign(eg=("P", bend(P_sim) * (1 + 0.05 * np.random.default_rng(3).normal(size=P_sim.size))),
                     eg_se=("P", 0.05 * bend(P_sim)))
    out = exponents.exponent_columns(sim, th)
    assert out["exponent_P_max"] < 60 and out["exponent_n_points"] >= 3
    assert abs(out["exponent_z"]) < 3
    # a term that does not make up half of E_g is not the prediction, however its slope looks
    th2 = th.assign(bias=("P", 0.1 * th.eg.values), var_x=("P", 0.1 * th.eg.values))
    assert exponents.exponent_columns(sim, th2)["exponent_n_points"] == 0


def test_no_exponent_without_power_law_parameters():
    sim, th = synthetic(-2.0, spec={"spectrum": {"kind": "isotropic", "D": 100}, "teacher": {"kind": "flat"},
                                    "ridge": 1e-3, "D": 100})
    assert exponents.exponent_columns(sim, th) is None


@pytest.mark.parametrize("alpha, r, l, noisy", [(2.0, 0.5, None, False), (2.0, 1.8, None, False),
                                                 (3.0, 0.3, 2.0, True), (1.5, 1.2, 0.8, True), (2.0, 1.5, 1.5, False)])
def test_predicted_exponents_are_the_phase_diagram_rates(alpha, r, l, noisy):
    """Without features, the fastest-decaying law the candidates leave is theory.phase_rates's rate with the
    width never binding (q large); the ridge exponent of a constant ridge is infinite."""
    spec = {"spectrum": {"kind": "power_law", "D": 100, "alpha": alpha}, "teacher": {"kind": "power_law", "r": r},
            "ridge": 1e-6 if l is None else {"power": l}, "D": 100}
    cands = exponents.candidate_exponents(spec, {"sigma_eps": 0.5 if noisy else 0.0})
    rate, _ = theory.phase_rates(1e6 if l is None else l, 1e6, alpha, r, 1.0, noisy)
    slowest = max(cands.values()) if not noisy or (l is not None and l < alpha) else 0.0
    assert slowest == pytest.approx(-float(rate))


def test_additive_feature_noise_acts_as_a_ridge_of_exponent_one():
    """D3, D4, D5 guides: (P/(D sigma_xi^2))^-2r, P^-2 and sigma_eps^2 P^(-1+1/alpha)."""
    spec = lambda alpha, r: {"spectrum": {"kind": "power_law", "D": 100, "alpha": alpha},  # noqa: E731
                             "teacher": {"kind": "power_law", "r": r}, "ridge": 1e-8, "D": 100}
    feat = {"sigma_xi": 0.01, "widths": "[5000]"}
    assert exponents.candidate_exponents(spec(1.8, 0.4), {**feat, "sigma_eps": 0.0})["signal"] == pytest.approx(-0.8)
    assert exponents.candidate_exponents(spec(1.8, 1.2), {**feat, "sigma_eps": 0.0})["signal"] == pytest.approx(-2.0)
    assert exponents.candidate_exponents(spec(3.5, 0.8), {**feat, "sigma_eps": 0.8})["noise"] == pytest.approx(-1 + 1 / 3.5)


def test_agreement_csv_keeps_its_columns_and_adds_the_exponent(tmp_path):
    sim, th = synthetic(-2.0, seed=4)
    iso_sim, iso_th = synthetic(-1.0, seed=5, spec={"spectrum": {"kind": "isotropic", "D": 100},
                                                    "teacher": {"kind": "flat"}, "ridge": 1e-3, "D": 100})
    path = tmp_path / "agreement.csv"
    write_agreement_csv({"pl": (sim, th), "iso": (iso_sim, iso_th)}, path)
    with open(path) as f:
        reader = csv.DictReader(f)
        rows = list(reader)
        assert reader.fieldnames == AGREEMENT_COLUMNS + exponents.EXPONENT_COLUMNS
    assert [r["experiment"] for r in rows] == ["iso", "pl"]
    for r, name, pair in ((rows[0], "iso", (iso_sim, iso_th)), (rows[1], "pl", (sim, th))):
        (old,) = agreement_rows(name, *pair)
        assert {k: r[k] for k in AGREEMENT_COLUMNS} == {k: (f"{v:.6g}" if isinstance(v, float) else str(v))
                                                          for k, v in old.items()}
    assert all(rows[0][k] == "" for k in exponents.EXPONENT_COLUMNS)
    assert rows[1]["exponent_term"] == "signal" and float(rows[1]["exponent_theory"]) == -2.0
    assert abs(float(rows[1]["exponent_z"])) < 3 and int(rows[1]["exponent_n_points"]) == 14
