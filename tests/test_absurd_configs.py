"""Configs no machine should start: a theory job, a merge or a simulation too large for this machine is
refused by `ridgerenorm check-config` (and so by Snakemake, which runs the same validation) in one line naming
the experiment key and its value; a ridgeless theory that is infinite on its own grid gets one warning line.

The configs are real overlays written to a temporary folder on top of config/config.yaml.  The machine is
fixed by the environment: 24 GB of memory (limits.ENV_MAX_MEMORY) and measured rates kept in a temporary
cache folder (costs.rates_cache_file), so the results do not depend on what runs the tests."""

import contextlib
import io
import json
import os
import subprocess
from pathlib import Path

import pytest

from ridgerenorm import cli, costs

ROOT = Path(__file__).resolve().parents[1]
RATES = {"gemm": 20.0, "gemm32": 20.0, "factor": 2.0}  # GFLOP/s, a slow machine's kept measurement (float32 no faster)


@pytest.fixture(autouse=True)
def machine(monkeypatch, tmp_path):
    monkeypatch.setenv("RIDGERENORM_MAX_MEMORY_GB", "24")
    monkeypatch.setenv("RIDGERENORM_CACHE_DIR", str(tmp_path / "cache"))


def keep_rates(threads: int = 2, **rates) -> None:
    path = costs.rates_cache_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    entry = {**RATES, **rates, "measured": "2026-01-01T00:00:00+00:00", "quiet": True, "stable": True}
    path.write_text(json.dumps({costs.machine_key(threads): entry}))


def check_config(tmp_path, overlay: str):
    """`ridgerenorm check-config config/config.yaml OVERLAY`: (exit code, stderr, stdout)."""
    path = tmp_path / "overlay.yaml"
    path.write_text(overlay)
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        code = cli.main(["check-config", str(ROOT / "config" / "config.yaml"), str(path)])
    return code, err.getvalue(), out.getvalue()


def refused(tmp_path, overlay: str, start: str, *fragments: str) -> str:
    code, err, out = check_config(tmp_path, overlay)
    assert code == 2 and out == "" and err.count("\n") == 1, err
    assert err.startswith(start), err
    for fragment in fragments:
        assert fragment in err, err
    return err


# --------------------------------------------------------------------------------------------- memory

THEORY_AT_1E6 = """experiments:
  b2_isotropic: {spectrum: {D: 1000000}, samples: {logspace: [4, 5, 5]}, theory_samples: {logspace: [-2, 2, %d]}}
"""


def test_theory_job_at_a_million_dimensions_is_refused(tmp_path):
    # 3000 theory points at D = 10^6: three (point, D) float64 arrays, about 72 GB + 20 %
    err = refused(tmp_path, THEORY_AT_1E6 % 3000, "config error: experiments.b2_isotropic.spectrum.D = 1000000: ",
                  "the theory job needs 8.68e+04 MB, more than this machine's 24.0 GB")
    # the simulation itself (P = 10..100 rows of 10^6) fits, so it is the theory job that is named
    assert "simulation" not in err
    # 300 points need a tenth of that, which this machine has
    code, err, out = check_config(tmp_path, THEORY_AT_1E6 % 300)
    assert code == 0 and out.startswith("config OK"), err


def test_theory_estimate_bounds_the_measured_peak():
    """The estimate (24 bytes per point per dimension) against tracemalloc's peak of a real theory job."""
    import tracemalloc

    from ridgerenorm import config as cfg
    from ridgerenorm import spectra
    from ridgerenorm.models import model_of

    config = cfg.load_config(ROOT / "config" / "config.yaml")
    config["experiments"]["b3_capacity"]["spectrum"]["D"] = 20000
    spec = cfg.experiment_spec(config, "b3_capacity")
    model = model_of(spec)
    population = spectra.population_dataset(spec["spectrum"], spec["teacher"])
    tracemalloc.start()
    try:
        model.theory(spec, population)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    arrays_mb = (model.theory_memory_mb(spec) - 300) / 1.2  # the estimate without its headroom
    assert 0.9 * arrays_mb * 1e6 <= peak <= 1.05 * arrays_mb * 1e6, (peak / 1e6, arrays_mb)


MERGE_3TB = """experiments:
  c2_isotropic: {spectrum: {D: 2000}, widths: [1000], samples: {logspace: [-1, 1, 20]}, draws: 3000,
                 feature_draws: 3000, block: 1}
"""


def test_random_feature_merge_of_terabytes_is_refused(tmp_path):
    # every readout v (draw x feature draw x P x N), read and concatenated: 2 * 8 * 3000^2 * 20 * 1000 B ~ 2.9 TB
    err = refused(tmp_path, MERGE_3TB, "config error: experiments.c2_isotropic.draws = 3000: ",
                  "the merge job needs 3.4", "e+06 MB, more than this machine's 24.0 GB")
    assert "simulation" not in err  # one draw per job fits


def test_linear_ridge_merge_is_checked_too(tmp_path):
    # every draw's whitened errors (draw x P x D), four copies: 32 B * 4000 * 19 P * 10^4 = 24 GB, + 20 %
    refused(tmp_path, "experiments:\n  b3_capacity: {draws: 4000, block: 10}\n",
            "config error: experiments.b3_capacity.draws = 4000: ", "the merge job needs 2.79e+04 MB")


# ------------------------------------------------------------------------------------------- run time

YEAR = "experiments:\n  c5_noise_mitigated: {draws: 4000, block: 2, feature_draws: %d}\n"


def test_a_year_of_compute_is_refused_at_the_measured_rates(tmp_path, monkeypatch):
    monkeypatch.setenv("RIDGERENORM_MAX_MEMORY_GB", "100000")  # a machine large enough: only time binds
    keep_rates()
    # 100 x the paper's data draws and 15 x its feature draws: about a year.  Ten times fewer data draws or
    # feature draws is still over 30 days; ten times narrower features is the first tenfold cut that is enough
    refused(tmp_path, YEAR % 600, "config error: experiments.c5_noise_mitigated.widths = [2000]: ",
            "simulating c5_noise_mitigated would take about 347 days at this machine's measured rates, "
            "more than 30 days")
    # 100 x the data draws alone: 35 days, and ten times fewer draws is enough, so draws is named
    refused(tmp_path, YEAR % 60, "config error: experiments.c5_noise_mitigated.draws = 4000: ", "about 34.8 days")
    # the same config on a machine twice as fast is accepted
    keep_rates(gemm=40.0, factor=4.0)
    code, err, out = check_config(tmp_path, YEAR % 60)
    assert code == 0 and out.startswith("config OK"), err


def test_time_before_any_measurement_uses_generous_rates(tmp_path, monkeypatch):
    monkeypatch.setenv("RIDGERENORM_MAX_MEMORY_GB", "100000")
    assert costs.kept_rates(2) is None  # nothing measured in this cache folder
    code, err, _ = check_config(tmp_path, YEAR % 600)
    assert code == 0, err  # 348 days at 20 GFLOP/s is 3.7 days at the assumed 2 TFLOP/s
    refused(tmp_path, "experiments:\n  c5_noise_mitigated: {draws: 20000, block: 2, feature_draws: 1000}\n",
            "config error: experiments.c5_noise_mitigated.draws = 20000: ",
            "would take about 35.1 days even at an assumed 2 TFLOP/s (none measured yet)")


def test_plan_and_the_check_estimate_the_same_time(tmp_path):
    """The check's estimate is `ridgerenorm plan`'s per-experiment column."""
    from ridgerenorm import config as cfg

    keep_rates()
    config = cfg.load_config(ROOT / "config" / "config.yaml")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli.main(["plan", str(ROOT / "config" / "config.yaml"), "--experiments", "c5_noise_mitigated"]) == 0
    row = next(line for line in out.getvalue().splitlines() if line.startswith("c5_noise_mitigated"))
    minutes = float(row.split()[-2])
    assert minutes == pytest.approx(cfg.simulation_seconds(config, "c5_noise_mitigated", RATES) / 60, abs=0.05)
    assert minutes > 300  # 333 min at 20 GFLOP/s


# -------------------------------------------------------------------------------------------- warnings

WARN_CASES = [
    # linear ridge: ridge 0 with label noise on a grid holding q = 1 (b2_double_descent's P/D = 1)
    ("b2_double_descent: {ridge: 0}", "warning: experiments.b2_double_descent.ridge = 0: with label noise "
     "sigma_eps = 0.5 the theory is infinite at P = D = 250 (q = 1), a point of its theory grid"),
    ("b2_double_descent: {ridge: 0, sigma_eps: 0}", None),  # no label noise: finite
    ("b2_double_descent: {ridge: 1.0e-6}", None),  # any ridge: finite
    ("b2_isotropic: {ridge: 0, samples: [2, 0.5], theory_samples: [3, 1.5]}", None),  # q = 1 not on the grid
    # random features at ridge 0: P = N (q = D/N = 2), label noise or not
    ("c2_isotropic: {ridge: 0, sigma_eps: 0, samples: [4, 2, 1, 0.5]}",
     "warning: experiments.c2_isotropic.ridge = 0: the ridgeless theory is infinite at the interpolation threshold "
     "P = N = 100, a point of its theory grid"),
    ("c2_isotropic: {ridge: 1.0e-3, samples: [4, 2, 1, 0.5]}", None),
    # every width above D: P = D with label noise; with feature noise the features keep rank N: P = N instead
    ("c2_isotropic: {ridge: 0, widths: [400], samples: [4, 2, 1, 0.5]}",
     "warning: experiments.c2_isotropic.ridge = 0: with label noise sigma_eps = 0.25 the ridgeless theory is "
     "infinite at P = D = 200 (every width is above D), a point of its theory grid"),
    ("c2_isotropic: {ridge: 0, widths: [400], sigma_xi: 0.1, samples: [4, 2, 1, 0.5]}",
     "warning: experiments.c2_isotropic.ridge = 0: with feature noise sigma_xi = 0.1 the features have rank N: "
     "the ridgeless theory is infinite at the interpolation threshold P = N = 400, a point of its theory grid"),
    ("c2_isotropic: {ridge: 0, widths: [400], sigma_xi: 0.1, samples: [4, 2, 1]}", None),  # P = 400 not on it
    # nonlinear features at ridge 0: P = N (e1_relu: D = 200, N = 100; its grids hold q = 2)
    ("e1_relu: {ridge: 0, samples: [4, 2, 1], theory_samples: [3, 2, 1.5]}",
     "warning: experiments.e1_relu.ridge = 0: the ridgeless theory (its Gaussian equivalent) is infinite at the "
     "interpolation threshold P = N = 100, a point of its theory grid"),
    ("e1_relu: {ridge: 1.0e-3, samples: [4, 2, 1], theory_samples: [3, 2, 1.5]}", None),
]


@pytest.mark.parametrize("overlay,warning", WARN_CASES, ids=[c[0].split(":")[0] + str(i) for i, c in enumerate(WARN_CASES)])
def test_infinite_theory_on_the_grid_is_a_one_line_warning(tmp_path, overlay, warning):
    code, err, out = check_config(tmp_path, f"experiments:\n  {overlay}\n")
    assert code == 0 and out.startswith("config OK"), err  # a warning, not an error
    assert err == (warning + "\n" if warning else ""), err


def test_the_warned_point_is_infinite_in_the_theory():
    """What the warning says, from the theory itself: E_g is inf at the named P and finite beside it."""
    import numpy as np

    from ridgerenorm import theory

    eta, w = np.ones(250), np.full(250, 250**-0.5)
    P = np.array([249.0, 250.0, 251.0])
    eg = theory.linear_ridge(eta, w, P, np.zeros(3), 0.5).eg.values
    assert np.isinf(eg[1]) and np.isfinite(eg[[0, 2]]).all()
    eta, w = np.ones(200), np.full(200, 200**-0.5)
    P = np.array([99.0, 100.0, 101.0])
    eg = theory.random_features(eta, w, P, [100], np.zeros(3), sigma_eps=0.0).eg.values
    assert np.isinf(eg[1]) and np.isfinite(eg[[0, 2]]).all()
    # widths above D with feature noise: P = N, label noise or not; and not at P = D
    for sigma_eps in (0.0, 0.25):
        P = np.array([199.0, 200.0, 201.0, 399.0, 400.0, 401.0])
        eg = theory.random_features(eta, w, P, [400], np.zeros(6), sigma_eps=sigma_eps, sigma_xi=0.1).eg.values
        assert np.isinf(eg[4]) and np.isfinite(eg[[0, 1, 2, 3, 5]]).all(), eg
    # nonlinear features (Gaussian equivalent), ReLU and erf, N below and above D: P = N
    for activation in ("relu", "erf"):
        for N in (100, 300):
            P = np.array([N - 1.0, N, N + 1.0])
            eg = theory.equivalent_theory(eta, w, P, N, np.zeros(3), activation, 0.25).eg.values
            assert np.isinf(eg[1]) and np.isfinite(eg[[0, 2]]).all(), (activation, N, eg)


@pytest.mark.pipeline
def test_snakemake_dry_run_prints_the_warning_once(tmp_path):
    overlay = tmp_path / "ridgeless.yaml"
    overlay.write_text("experiments:\n  b2_double_descent: {ridge: 0}\n")
    res = subprocess.run(["snakemake", "-n", "--configfile", str(overlay)], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "RIDGERENORM_MAX_MEMORY_GB": "24"})
    assert res.returncode == 0, res.stderr[-2000:]
    lines = [ln for ln in (res.stdout + res.stderr).splitlines() if ln.startswith("warning: experiments.")]
    assert lines == [WARN_CASES[0][1]]
