"""`ridgerenorm curve`: theory learning curves without the pipeline.

Its E_g is the theory API's (bit for bit, for every model kind it offers), its optimal ridge is a minimum and
matches the isotropic closed form, bad spectrum files get one line naming the option and the file, its
outputs carry their provenance, and an installed wheel alone runs it (no checkout around it)."""

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import numpy as np
import pytest

from ridgerenorm import cli, io, spectra, theory

ROOT = Path(__file__).resolve().parents[1]


def run_curve(tmp_path, *argv, name="curve.nc"):
    out = tmp_path / name
    assert cli.main(["curve", *[str(a) for a in argv], "--out", str(out)]) == 0
    return io.read_dataset(out), out


POWER_LAW = ("--spectrum", "power_law", "--D", 300, "--alpha", 1.5, "--r", 0.6, "--teacher-norm", 1.0)
GRID = ("--P-min", 2, "--P-max", 3000, "--points", 25)


@pytest.mark.parametrize("model_args, call", [
    (("--ridge-power", 1.2, "--sigma-eps", 0.3),
     lambda eta, w, P, lam: theory.linear_ridge(eta, w, P, lam, 0.3)),
    (("--model", "random_features", "--widths", 120, "--ridge", 1e-3),
     lambda eta, w, P, lam: theory.random_features(eta, w, P, [120], lam)),
    (("--model", "random_features", "--widths", 200, 80, "--ridge", 1e-4, "--sigma-eps", 0.1),  # deep
     lambda eta, w, P, lam: theory.random_features(eta, w, P, [200, 80], lam, sigma_eps=0.1)),
    (("--model", "random_features", "--widths", 150, "--sigma-xi", 0.05, "--ridge-power", 0.5),  # additive noise
     lambda eta, w, P, lam: theory.random_features(eta, w, P, [150], lam, sigma_xi=0.05)),
], ids=["ridge", "rf", "deep_rf", "noisy_rf"])
def test_curve_is_the_theory_api_bit_for_bit(tmp_path, model_args, call):
    ds, _ = run_curve(tmp_path, *POWER_LAW, *model_args, *GRID)
    eta, w = spectra.population({"kind": "power_law", "D": 300, "alpha": 1.5}, {"kind": "power_law", "r": 0.6, "norm": 1.0})
    P = ds.P.values
    assert np.array_equal(P, np.geomspace(2, 3000, 25))
    ridge = [float(a) for k, a in zip(model_args, model_args[1:]) if k in ("--ridge", "--ridge-power")][0]
    lam = P ** -ridge if "--ridge-power" in model_args else np.full_like(P, ridge)
    assert np.array_equal(ds["lam"].values, lam)
    direct = call(eta, w, P, lam)
    for name in ("eg", "bias", "var_x", "etr"):
        assert np.array_equal(ds[name].values, direct[name].values), name
    assert np.all(np.isfinite(ds["eg"].values)) and np.all(ds["eg"].values > 0)


def test_optimal_ridge_is_a_minimum(tmp_path):
    ds, _ = run_curve(tmp_path, *POWER_LAW, "--model", "random_features", "--widths", 100, "--sigma-eps", 0.4,
                      "--optimal-ridge", "--P-min", 5, "--P-max", 2000, "--points", 8)
    eta, w = spectra.population({"kind": "power_law", "D": 300, "alpha": 1.5}, {"kind": "power_law", "r": 0.6, "norm": 1.0})
    P, lam = ds.P.values, ds["lam_opt"].values
    # no fixed ridge: the main curve is the theory at lambda*(P) (evaluated as one batch, eg_opt point by point:
    # the sums over the spectrum may differ in the last bits)
    assert np.array_equal(ds["lam"].values, lam)
    np.testing.assert_allclose(ds["eg"].values, ds["eg_opt"].values, rtol=1e-12)
    interior = ~ds["lam_opt_at_bound"].values
    assert interior.sum() >= 6  # with label noise, a positive ridge helps at almost every P
    eg = ds["eg_opt"].values
    for factor in (1.1, 1 / 1.1, 2.0, 0.5):
        other = theory.random_features(eta, w, P, [100], lam * factor, sigma_eps=0.4)["eg"].values
        assert np.all(other[interior] >= eg[interior]), factor
    # and it beats a fixed ridge everywhere
    fixed = theory.random_features(eta, w, P, [100], np.full_like(P, 1e-3), sigma_eps=0.4)["eg"].values
    assert np.all(eg <= fixed)


def test_optimal_ridge_matches_the_isotropic_closed_form(tmp_path):
    """Isotropic data (eta = 1), teacher norm |w|, label noise sigma: the theory's E_g(lambda) is smallest at
    lambda* = sigma^2 q / |w|^2, q = D/P (the posterior mean of a Gaussian prior of variance |w|^2/D per
    coordinate is the ridge estimator (X^T X/P + lambda)^-1 X^T y/P with that lambda, and the deterministic
    equivalent is exact for that average)."""
    sigma, norm, D = 0.5, 1.3, 80
    ds, _ = run_curve(tmp_path, "--spectrum", "isotropic", "--D", D, "--teacher-norm", norm, "--sigma-eps", sigma,
                      "--ridge", 1e-2, "--optimal-ridge", "--P-min", 8, "--P-max", 800, "--points", 9)
    P = ds.P.values
    closed = sigma**2 * (D / P) / norm**2
    np.testing.assert_allclose(ds["lam_opt"].values, closed, rtol=1e-4)
    eta, w = np.ones(D), np.full(D, norm / np.sqrt(D))
    at_closed = theory.linear_ridge(eta, w, P, closed, sigma)["eg"].values
    np.testing.assert_allclose(ds["eg_opt"].values, at_closed, rtol=1e-9)
    assert np.all(ds["eg_opt"].values <= at_closed * (1 + 1e-12))
    assert np.all(ds["eg_opt"].values < ds["eg"].values)  # lambda = 0.01 is not optimal here
    assert not ds["lam_opt_at_bound"].values.any()


def test_noiseless_optimum_is_flagged_at_the_lower_bound(tmp_path):
    """Without label noise, ridge only adds bias on a power-law problem: E_g falls as lambda -> 0, so lambda*
    sits on the lower search bound and says so."""
    ds, _ = run_curve(tmp_path, *POWER_LAW, "--optimal-ridge", "--lambda-bounds", 1e-8, 1.0, "--P-min", 10,
                      "--P-max", 100, "--points", 3)
    assert ds["lam_opt_at_bound"].values.all()
    np.testing.assert_allclose(ds["lam_opt"].values, 1e-8)


@pytest.mark.parametrize("fmt", ["csv", "npy"])
def test_spectrum_files(tmp_path, fmt):
    rng = np.random.default_rng(3)
    eta = np.sort(rng.gamma(0.5, size=64))[::-1]
    w = rng.normal(size=64) / 8
    paths = []
    for name, values in (("eta", eta), ("w", w)):
        path = tmp_path / f"{name}.{fmt}"
        if fmt == "npy":
            np.save(path, values)
        else:
            path.write_text("# one number a line\n" + "\n".join(repr(float(v)) for v in values) + "\n")
        paths.append(path)
    ds, out = run_curve(tmp_path, "--eigenvalues", paths[0], "--teacher", paths[1], "--ridge", 1e-3,
                        "--sigma-eps", 0.1, "--P-min", 4, "--P-max", 400, "--points", 12)
    direct = theory.linear_ridge(eta, w, ds.P.values, ds["lam"].values, 0.1)
    assert np.array_equal(ds["eg"].values, direct["eg"].values)
    inputs = json.loads(ds.attrs["inputs"])
    assert inputs == {str(paths[0]): io.sha256(paths[0]), str(paths[1]): io.sha256(paths[1])}
    # the figure records the data checksum of the file it draws
    record = io.read_record(out.with_suffix(".png"))
    assert json.loads(record["inputs"]) == {str(out): "data:" + ds.attrs["data_sha256"]}
    population = json.loads(record["spec"])["population"]
    assert population["spectrum"]["path"] == str(paths[0]) and population["spectrum"]["w_path"] == str(paths[1])
    assert population["teacher"] == {"kind": "file"}


# --eigenvalues/--teacher are the file kind's path/w_path: its loader's messages, naming the option given
BAD_FILES = [
    ("eta", "1\n2\nnan\n", "--eigenvalues", "eta[2] = nan is not finite"),
    ("eta", "1\ninf\n", "--eigenvalues", "eta[1] = inf is not finite"),
    ("eta", "1\n-0.5\n0.2\n", "--eigenvalues", "eta[1] = -0.5 is negative"),
    ("eta", "0\n0\n0\n", "--eigenvalues", "every eigenvalue is 0"),
    ("eta", "1,2\n3,4\n5,6\n", "--eigenvalues", "eta is a 2-D array of shape (3, 2)"),
    ("eta", "1\nabc\n", "--eigenvalues", "not a number: 'abc'"),
    ("eta", "# nothing\n", "--eigenvalues", "holds no values"),
    ("w", "1\n2\n", "--teacher", "w has 2 values, expected 3 (one per eigenvalue)"),
    ("w", "1\nnan\n3\n", "--teacher", "w[1] = nan is not finite"),
]


@pytest.mark.parametrize("which, text, option, why", BAD_FILES)
def test_bad_spectrum_files_get_one_line(tmp_path, capsys, which, text, option, why):
    files = {"eta": tmp_path / "eta.csv", "w": tmp_path / "w.csv"}
    files["eta"].write_text("1\n0.5\n0.25\n")
    files["w"].write_text("1\n1\n1\n")
    files[which].write_text(text)
    out = tmp_path / "c.nc"
    code = cli.main(["curve", "--eigenvalues", str(files["eta"]), "--teacher", str(files["w"]), "--ridge", "0.1",
                     "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and not out.exists()
    assert err.count("\n") == 1 and err.startswith(f"error: {option} {files[which]}") and why in err, err


def test_bad_npy_files(tmp_path, capsys):
    eta, w = tmp_path / "eta.npy", tmp_path / "w.npy"
    np.save(eta, np.ones((4, 2)))
    np.save(w, np.ones(8))
    args = ["curve", "--eigenvalues", str(eta), "--teacher", str(w), "--ridge", "0.1", "--out", str(tmp_path / "c.nc")]
    assert cli.main(args) == 2
    assert capsys.readouterr().err == (f"error: --eigenvalues {eta}: eta is a 2-D array of shape (4, 2); expected "
                                       "a 1-D array\n")
    np.save(eta, np.array(["a", "b"]))
    assert cli.main(args) == 2
    assert capsys.readouterr().err == f"error: --eigenvalues {eta}: eta is not numeric (dtype <U1)\n"
    txt = tmp_path / "eta.txt"
    txt.write_text("1\n")
    assert cli.main(["curve", "--eigenvalues", str(txt), "--teacher", str(w), "--ridge", "0.1", "--out", "x.nc"]) == 2
    assert capsys.readouterr().err == (f"error: --eigenvalues {txt}: expected a .npy, .csv or .nc file, got suffix "
                                       "'.txt'\n")
    assert cli.main(["curve", "--eigenvalues", str(tmp_path / "none.csv"), "--teacher", str(w), "--ridge", "0.1",
                     "--out", str(tmp_path / "c.nc")]) == 2
    assert capsys.readouterr().err == (f"error: --eigenvalues {tmp_path / 'none.csv'}: cannot read the file (No such "
                                       "file or directory)\n")


@pytest.mark.parametrize("argv, why", [
    (POWER_LAW + ("--widths", 10, "--ridge", 0.1), "error: --widths [10]: not a parameter of model 'linear_ridge'"),
    (POWER_LAW + ("--model", "random_features", "--ridge", 0.1), "error: --widths: required for model 'random_features'"),
    (POWER_LAW + ("--model", "rf_width_sweep", "--ridge", 0.1), "error: --model 'rf_width_sweep': has no theory learning curve"),
    (POWER_LAW, "error: --ridge: give --ridge LAMBDA, --ridge-power L or --optimal-ridge"),
    (POWER_LAW + ("--ridge", "nan"), "error: --ridge nan: must be a finite number >= 0"),
    (POWER_LAW + ("--ridge", 0.1, "--sigma-eps", -1), "error: --sigma-eps -1.0: must be a finite number >= 0"),
    (POWER_LAW + ("--ridge", 0.1, "--P-min", 10, "--P-max", 5), "error: --P-max 5: must be greater than --P-min (10)"),
    (("--spectrum", "power_law", "--D", 30, "--ridge", 0.1), "error: --alpha: required for spectrum.kind = 'power_law'"),
    (("--spectrum", "isotropic", "--D", 30, "--r", 0.5, "--ridge", 0.1),
     "error: --teacher-r 0.5: no teacher kind of spectrum.kind = 'isotropic' takes --teacher-r"),
    (("--spectrum", "isotropic", "--D", 30, "--teacher-kind", "power_law", "--ridge", 0.1),
     "error: --teacher-kind power_law: needs spectrum.kind = 'power_law', got 'isotropic'"),
    (("--spectrum", "isotropic", "--D", 30, "--experiment", "b3", "--ridge", 0.1), "error: give exactly one population"),
    (("--config", "c.yaml", "--experiment", "b3", "--D", 30), "error: --D 30: describes a spectrum kind, only with"),
    (("--eigenvalues", "e.csv", "--D", 30, "--ridge", 0.1), "error: --D 30: not a key of spectrum.kind = 'file'"),
    (("--spectrum", "isotropic", "--eigenvalues", "e.csv", "--ridge", 0.1), "error: --eigenvalues: names a file spectrum"),
    (("--spectrum", "gaussian", "--ridge", 0.1), "error: --spectrum gaussian: unknown spectrum kind (known: blocks, "),
    (("--spectrum", "power_law", "--D", 30, "--alpha", 1, "--path", "e.npy", "--ridge", 0.1),
     "error: --path e.npy: not a key of spectrum.kind = 'power_law'"),
])
def test_bad_options_get_one_line(tmp_path, capsys, argv, why):
    out = tmp_path / "c.nc"
    assert cli.main(["curve", *[str(a) for a in argv], "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(why), err
    assert not out.exists()


def test_experiment_of_a_config(tmp_path):
    """--config/--experiment: the experiment's theory file's E_g at the same P (the theory step's arithmetic)."""
    from ridgerenorm import config as cfg

    files = [ROOT / "config" / "config.yaml", ROOT / "config" / "quick.yaml"]
    ds, _ = run_curve(tmp_path, "--config", *files, "--experiment", "c5_noise_mitigated")
    spec = cfg.experiment_spec(cfg.load_config(*files), "c5_noise_mitigated")
    eta, w = spectra.population(spec["spectrum"], spec["teacher"])
    P = ds.P.values
    assert np.array_equal(P, np.unique(spec["D"] / spectra.grid_q(spec["theory_samples"])))
    direct = theory.random_features(eta, w, P, spec["widths"], P ** -2.0, sigma_eps=spec["sigma_eps"],
                                    sigma_xi=spec["sigma_xi"])
    assert np.array_equal(ds["eg"].values, direct["eg"].values)
    assert ds.attrs["model"] == "random_features" and json.loads(ds.attrs["spec"])["population"]["experiment"] == "c5_noise_mitigated"


def test_curve_reads_nothing_from_a_checkout():
    """The module names no file of the repository (config/, docs/, results/, the package's own folder)."""
    text = (ROOT / "src" / "ridgerenorm" / "curve.py").read_text()
    for word in ("__file__", "ROOT", '"config/', "'config/", "results/", "docs/", "resources", "os.getcwd", "Path.cwd"):
        assert word not in text, word


def test_installed_wheel_alone_runs_curve(tmp_path):
    """Build the wheel, install it (without dependencies, which the running environment has) into a fresh
    virtual environment, and run `ridgerenorm curve` in an empty folder with no checkout on the path."""
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels),
                    str(ROOT)], check=True, capture_output=True)
    env_dir = tmp_path / "env"
    venv.create(env_dir, system_site_packages=True, with_pip=False)
    python = env_dir / "bin" / "python"
    wheel = next(wheels.glob("ridgerenorm-*.whl"))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)],
                   check=True, capture_output=True, env=env)
    work = tmp_path / "elsewhere"
    work.mkdir()
    where = subprocess.run([str(python), "-c", "import ridgerenorm; print(ridgerenorm.__file__)"], cwd=work, env=env,
                           capture_output=True, text=True, check=True).stdout.strip()
    assert where.startswith(str(env_dir)), where
    res = subprocess.run([str(env_dir / "bin" / "ridgerenorm"), "curve", *map(str, POWER_LAW), "--model",
                          "random_features", "--widths", "50", "--ridge", "1e-3", "--optimal-ridge", "--points", "5",
                          "--out", "c.nc"], cwd=work, env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert (work / "c.nc").is_file() and (work / "c.png").is_file()
    ds = io.read_dataset(work / "c.nc")
    assert "site-packages" in where and "/src/" not in where
    assert json.loads(ds.attrs["package_modules"])["ridgerenorm.curve"] == io.sha256(ROOT / "src" / "ridgerenorm" / "curve.py")[:12]


def test_optimal_ridge_finds_the_global_minimum(tmp_path):
    """Two spectral blocks: near P = 30, E_g(lambda) has two minima (one at the small block's scale, one at the
    large one's); lambda* jumps between them.  At every P, E_g at lambda* is below E_g on a dense lambda grid."""
    ds, _ = run_curve(tmp_path, "--spectrum", "blocks", "--sizes", 10, 100, "--values", 1, 0.01, "--teacher-values",
                      1, 10, "--sigma-eps", 0.1, "--optimal-ridge", "--P-min", 20, "--P-max", 50, "--points", 7)
    eta = np.repeat([1.0, 0.01], [10, 100])
    w = np.repeat([1.0, 10.0], [10, 100])
    grid = np.logspace(-10, 4, 561)
    for P, lam, eg in zip(ds.P.values, ds["lam_opt"].values, ds["eg_opt"].values):
        dense = theory.linear_ridge(eta, w, np.full_like(grid, P), grid, 0.1)["eg"].values
        assert eg <= dense.min() * (1 + 1e-9), (P, lam, grid[np.argmin(dense)])
    jump = np.abs(np.diff(np.log10(ds["lam_opt"].values)))
    assert jump.max() > 2  # the optimum moves from one minimum to the other within the range


# ---------------------------------------------------------------------- every spectrum kind through the registry


def _dataset(n=400, D=12, sigma=0.3, seed=5):
    """A data matrix whose centred covariance is exactly V diag(eta) V^T, labels y = 3 + X beta + e with the
    residual e orthogonal to the features and the constant and |e|^2 = sigma^2 (n - D): the dataset kind must
    give eta, the teacher V^T beta and the label noise sigma."""
    rng = np.random.default_rng(seed)
    eta = np.arange(1, D + 1, dtype=float) ** -1.3
    V = np.linalg.qr(rng.normal(size=(D, D)))[0]
    A = rng.normal(size=(n, D + 1))
    Q = np.linalg.qr(A - A.mean(axis=0))[0]  # orthonormal columns, each orthogonal to the constant
    X = np.sqrt(n) * Q[:, :D] * np.sqrt(eta) @ V.T
    beta = rng.normal(size=D)
    y = 3.0 + X @ beta + sigma * np.sqrt(n - D) * Q[:, D]
    return X, y, eta, V.T @ beta, beta, sigma


def test_dataset_curve_is_the_theory_of_its_known_population(tmp_path):
    X, y, eta, w, beta, sigma = _dataset()
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    ds, out = run_curve(tmp_path, "--spectrum", "dataset", "--path", tmp_path / "X.npy", "--labels", tmp_path / "y.npy",
                        "--ridge", 1e-3, "--P-min", 2, "--P-max", 200, "--points", 15)
    P, lam = ds.P.values, ds["lam"].values
    known = theory.linear_ridge(eta, w, P, lam, sigma)["eg"].values
    np.testing.assert_allclose(ds["eg"].values, known, rtol=1e-9)
    # the tolerance tells the right teacher and noise from wrong ones
    for wrong in (theory.linear_ridge(eta, beta, P, lam, sigma), theory.linear_ridge(eta, w, P, lam, 0.0),
                  theory.linear_ridge(eta, w, P, lam, sigma * 1.01)):
        assert np.max(np.abs(wrong["eg"].values / known - 1)) > 1e-4
    spec = json.loads(ds.attrs["spec"])
    assert spec["sigma_eps"] == pytest.approx(sigma, rel=1e-12)  # the residual's, as no --sigma-eps was given
    assert spec["population"]["teacher"] == {"kind": "dataset"}
    assert json.loads(ds.attrs["inputs"]) == {str(tmp_path / n): io.sha256(tmp_path / n) for n in ("X.npy", "y.npy")}
    # random features on the same dataset: the theory API's, bit for bit
    rf, _ = run_curve(tmp_path, "--spectrum", "dataset", "--path", tmp_path / "X.npy", "--labels", tmp_path / "y.npy",
                      "--model", "random_features", "--widths", 8, "--ridge", 1e-3, "--P-min", 2, "--P-max", 200,
                      "--points", 15, name="rf.nc")
    eta_k, w_k = spectra.population({"kind": "dataset", "path": str(tmp_path / "X.npy"), "labels": str(tmp_path / "y.npy")},
                                    {"kind": "dataset"})
    direct = theory.random_features(eta_k, w_k, P, [8], lam, sigma_eps=spec["sigma_eps"])
    assert np.array_equal(rf["eg"].values, direct["eg"].values)


def test_netcdf_file_spectrum_with_its_label_noise(tmp_path):
    import xarray as xr

    rng = np.random.default_rng(8)
    eta, w = np.sort(rng.gamma(0.7, size=40))[::-1], rng.normal(size=40)
    xr.Dataset({"eta": ("k", eta), "w": ("k", w), "sigma_eps": 0.25}).to_netcdf(tmp_path / "eig.nc")
    grid = ("--ridge", 1e-2, "--P-min", 2, "--P-max", 400, "--points", 12)
    ds, _ = run_curve(tmp_path, "--spectrum", "file", "--path", tmp_path / "eig.nc", *grid)
    P, lam = ds.P.values, ds["lam"].values
    assert np.array_equal(ds["eg"].values, theory.linear_ridge(eta, w, P, lam, 0.25)["eg"].values)
    assert json.loads(ds.attrs["spec"])["sigma_eps"] == 0.25 and ds["var_xeps"].values.max() > 0
    # --sigma-eps wins over the file's; a teacher of its own file (--w-path) over the file's w
    quiet, _ = run_curve(tmp_path, "--spectrum", "file", "--path", tmp_path / "eig.nc", "--sigma-eps", 0, *grid, name="q.nc")
    assert np.array_equal(quiet["eg"].values, theory.linear_ridge(eta, w, P, lam, 0.0)["eg"].values)
    np.save(tmp_path / "w2.npy", 2 * w)
    other, _ = run_curve(tmp_path, "--spectrum", "file", "--path", tmp_path / "eig.nc", "--w-path", tmp_path / "w2.npy",
                         *grid, name="o.nc")
    assert np.array_equal(other["eg"].values, theory.linear_ridge(eta, 2 * w, P, lam, 0.25)["eg"].values)


def test_file_without_teacher_is_flat(tmp_path):
    np.save(tmp_path / "eta.npy", np.array([1.0, 0.5, 0.25]))
    ds, _ = run_curve(tmp_path, "--spectrum", "file", "--path", tmp_path / "eta.npy", "--ridge", 0.1, "--points", 4)
    assert json.loads(ds.attrs["spec"])["population"]["teacher"] == {"kind": "flat"}
    direct = theory.linear_ridge(np.array([1.0, 0.5, 0.25]), np.ones(3), ds.P.values, ds["lam"].values, 0.0)
    assert np.array_equal(ds["eg"].values, direct["eg"].values)


def _bad_kind_inputs(tmp):
    import xarray as xr

    xr.Dataset({"eta": ("k", [1.0, np.nan])}).to_netcdf(tmp / "nan.nc")
    xr.Dataset({"lam": ("k", [1.0, 0.5])}).to_netcdf(tmp / "other.nc")
    xr.Dataset({"eta": ("k", [1.0, 0.5]), "sigma_eps": -1.0}).to_netcdf(tmp / "noise.nc")
    (tmp / "bad.nc").write_text("not netCDF")
    np.save(tmp / "eta.npy", np.array([1.0, 0.5, 0.2]))
    np.save(tmp / "w5.npy", np.ones(5))
    np.save(tmp / "X.npy", np.ones((5, 8)))
    np.save(tmp / "Xok.npy", np.random.default_rng(0).normal(size=(30, 3)))
    np.save(tmp / "y7.npy", np.ones(7))


BAD_KIND_INPUTS = [
    (("--path", "nan.nc"), "error: --path {t}/nan.nc: eta[1] = nan is not finite"),
    (("--path", "other.nc"), "error: --path {t}/other.nc: has no eigenvalues (expected 'eta'; found 'lam')"),
    (("--path", "noise.nc"), "error: --path {t}/noise.nc: sigma_eps = -1.0 must be a finite number >= 0"),
    (("--path", "bad.nc"), "error: --path {t}/bad.nc: not a readable .nc file"),
    (("--path", "eta.npy", "--w-path", "w5.npy"), "error: --w-path {t}/w5.npy: w has 5 values, expected 3"),
    (("--path", "eta.npy", "--labels", "y7.npy"), "error: --labels {t}/y7.npy: not a key of spectrum.kind = 'file'"),
    (("--path", "none.nc"), "error: --path {t}/none.nc: cannot read the file (No such file or directory)"),
    (("--kind", "dataset", "--path", "X.npy"), "error: --path {t}/X.npy: holds no labels"),
    (("--kind", "dataset", "--path", "Xok.npy", "--labels", "y7.npy"),
     "error: --labels {t}/y7.npy: y has 7 values, expected 30 (one per row of the data matrix)"),
    (("--kind", "dataset", "--path", "X.npy", "--labels", "y7.npy"), "error: --labels {t}/y7.npy: y has 7 values, "
                                                                      "expected 5"),
    (("--kind", "dataset", "--path", "eta.npy", "--labels", "y7.npy"), "error: --path {t}/eta.npy: data matrix is a "
                                                                         "1-D array"),
    (("--kind", "dataset"), "error: --path: required for spectrum.kind = 'dataset'"),
    (("--kind", "dataset", "--path", "Xok.npy", "--w-path", "eta.npy"),
     "error: --w-path {t}/eta.npy: not a key of spectrum.kind = 'dataset'"),
]


@pytest.mark.parametrize("argv, why", BAD_KIND_INPUTS)
def test_bad_kind_inputs_get_one_line(tmp_path, capsys, argv, why):
    _bad_kind_inputs(tmp_path)
    argv = list(argv)
    kind = argv.pop(argv.index("--kind") + 1) if "--kind" in argv else "file"
    argv = [a if a.startswith("--") else str(tmp_path / a) for a in argv if a != "--kind"]
    out = tmp_path / "c.nc"
    assert cli.main(["curve", "--spectrum", kind, *argv, "--ridge", "0.1", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(why.format(t=tmp_path)), err
    assert not out.exists()


def test_no_kind_branch_in_curve():
    """curve.py reaches every kind through the registry: it names none."""
    text = (ROOT / "src" / "ridgerenorm" / "curve.py").read_text()
    for name in ("isotropic", "power_law", "blocks", "dataset", "digits"):
        assert f'"{name}"' not in text and f"'{name}'" not in text, name
