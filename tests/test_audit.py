"""`ridgerenorm audit`: the provenance record of each kind of output, and bit-for-bit recomputation."""

import json
import subprocess
import sys

import numpy as np
import pytest

from ridgerenorm import audit, io

from test_pipeline import ROOT


@pytest.mark.parametrize("relpath", [
    "spectra/b2_double_descent.nc",
    "theory/c3_variance_limited.nc",
    "simulation/b2_double_descent.nc",  # linear ridge: regenerates its temporary block
    "simulation/d2_transition.nc",  # additive-noise random features: v-storage merge
    "simulation/c7_anisotropic_weights.nc",  # width sweep
    "spectra_data/A1.nc",
])
def test_verify_recomputes_bit_identically(quick, relpath, monkeypatch):
    monkeypatch.chdir(ROOT)
    path = f"results/quick/{relpath}"
    text, problems = audit.describe(path)
    assert problems == [] and "made by:     ridgerenorm" in text and "git commit:" in text
    assert audit.recompute_and_compare(path) == {}


def test_changed_input_is_reported(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = {"name": "t", "D": 20, "model": "linear_ridge", "spectrum": {"kind": "isotropic", "D": 20},
            "teacher": {"kind": "flat"}, "ridge": 0.1, "sigma_eps": 0.0, "samples": [0.5, 2.0],
            "theory_samples": {"logspace": [-1, 1, 9]}}
    cli = [sys.executable, "-m", "ridgerenorm.cli"]
    subprocess.run(cli + ["spectrum", "--spec", json.dumps(spec), "--out", "s.nc"], check=True)
    subprocess.run(cli + ["theory", "--spec", json.dumps(spec), "--spectrum", "s.nc", "--out", "t.nc"], check=True)
    assert audit.main("t.nc") == 0
    spec["teacher"] = {"kind": "flat", "norm": 3.0}  # the input changes after t.nc was made
    subprocess.run(cli + ["spectrum", "--spec", json.dumps(spec), "--out", "s.nc"], check=True)
    _, problems = audit.describe("t.nc")
    assert problems == ["s.nc: CHANGED since this file was made"]
    assert audit.main("t.nc", verify=True) == 1
    assert json.loads(io.read_dataset("t.nc").attrs["inputs"])  # the record keeps the original checksum


def test_max_relative_difference_separates_roundoff_from_change():
    a = np.array([1.0, -2.0, 0.0, np.nan])
    assert audit._max_relative_difference(a, a.copy()) == 0.0
    b = a.copy()
    b[1] = np.nextafter(-2.0, 0.0)  # one ulp
    assert 0 < audit._max_relative_difference(a, b) < 3e-16
    b[0] = 1.1
    assert abs(audit._max_relative_difference(a, b) - 0.1 / 1.1) < 1e-12
    b[3] = 0.0  # NaN pattern differs
    assert audit._max_relative_difference(a, b) == float("inf")
    assert audit._max_relative_difference(a, a[:2]) == float("inf")


def _spectrum_file(path):
    """A spectrum file as `ridgerenorm spectrum` writes it, made in-process (the record names the command)."""
    from ridgerenorm import spectra

    spec = {"name": "t", "D": 20, "spectrum": {"kind": "power_law", "D": 20, "alpha": 1.5},
            "teacher": {"kind": "power_law", "r": 0.5, "norm": 1.0}}
    attrs = io.provenance(spec=spec)
    attrs["command"] = f"ridgerenorm spectrum --spec '{json.dumps(spec)}' --out {path}"
    io.write_dataset(spectra.population_dataset(spec["spectrum"], spec["teacher"]), path, attrs)


def _tamper(path, *, data=False, versions=None, commit=None):
    ds = io.read_dataset(path)
    if data:
        ds["eta"] = ds.eta * (1 + 1e-12)
    if versions:
        ds.attrs["versions"] = json.dumps(json.loads(ds.attrs["versions"]) | versions, sort_keys=True)
    if commit:
        ds.attrs["git_commit"] = commit
    io.write_dataset(ds, path)


def test_versions_record_blas_and_netcdf_libraries():
    import netCDF4

    v = io._versions()
    assert (v["netCDF4"], v["hdf5"], v["netcdf_c"]) == (netCDF4.__version__, netCDF4.__hdf5libversion__,
                                                        netCDF4.__netcdf4libversion__)
    blas = [k for k in v if k.startswith("blas_") and k.count("_") == 1]
    assert blas, v  # at least numpy's BLAS
    for k in blas:
        assert len(v[k].split()) == 2  # vendor version
        assert v[k + "_architecture"] and v[k + "_threading"] and v[k + "_threads"] >= 1
    assert io.environment_differences(v) == []


def test_environment_report_names_what_changed(tmp_path):
    _spectrum_file(tmp_path / "s.nc")
    attrs = dict(io.read_dataset(tmp_path / "s.nc").attrs)
    assert audit.environment_report(attrs).startswith("environment is the same")
    assert audit.environment_report(attrs).endswith("the RESULT differs")
    blas = next(k for k in json.loads(attrs["versions"]) if k.startswith("blas_") and k.count("_") == 1)
    current = io._versions()
    old = json.loads(attrs["versions"]) | {"numpy": "1.0.0", blas: "openblas 0.0.1"}
    old.pop("hdf5")
    old["mkl"] = "2024.0"
    attrs["versions"] = json.dumps(old)
    report = audit.environment_report(attrs)
    assert report.startswith("environment differs: ")
    changes = report.removeprefix("environment differs: ").split(", ")
    assert sorted(changes) == sorted([f"numpy 1.0.0 -> {current['numpy']}", f"{blas} openblas 0.0.1 -> {current[blas]}",
                                      f"hdf5 (none) -> {current['hdf5']}", "mkl 2024.0 -> (none)"])
    attrs["versions"] = json.dumps(current)
    attrs["git_commit"] = "0123abc"
    assert audit.environment_report(attrs) == f"environment differs: git_commit 0123abc -> {io._git_commit()}"
    del attrs["versions"]
    assert audit.environment_report(attrs).startswith("environment unknown")


def test_verify_tells_environment_from_result(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    _spectrum_file("s.nc")
    assert audit.main("s.nc", verify=True) == 0
    assert capsys.readouterr().out.strip().endswith("every variable is bit-identical")
    _tamper("s.nc", data=True)
    assert audit.main("s.nc", verify=True) == 1
    out = capsys.readouterr().out
    assert "verify: DIFFERENT in 1 variable(s), max relative difference: eta" in out
    assert out.strip().endswith("environment is the same (package and library versions, BLAS, git commit as "
                                "recorded): the RESULT differs")
    _tamper("s.nc", versions={"numpy": "2.5.5"})
    assert audit.main("s.nc", verify=True) == 1
    assert capsys.readouterr().out.strip().endswith(f"verify: environment differs: numpy 2.5.5 -> {np.__version__}")


def _small_theory(tmp_path):
    """A spectrum and a theory file made in tmp_path (no checkout): the theory records its command."""
    spec = {"name": "t", "D": 20, "model": "linear_ridge", "spectrum": {"kind": "isotropic", "D": 20},
            "teacher": {"kind": "flat"}, "ridge": 0.1, "sigma_eps": 0.0, "samples": [0.5, 2.0],
            "theory_samples": {"logspace": [-1, 1, 9]}}
    cli = [sys.executable, "-m", "ridgerenorm.cli"]
    subprocess.run(cli + ["spectrum", "--spec", json.dumps(spec), "--out", "s.nc"], check=True, cwd=tmp_path)
    subprocess.run(cli + ["theory", "--spec", json.dumps(spec), "--spectrum", "s.nc", "--out", "t.nc"], check=True,
                   cwd=tmp_path)
    return tmp_path / "t.nc"


def _forge(path, dest, command):
    """A copy of a result file whose recorded command is `command` (attributes are outside data_sha256)."""
    import netCDF4

    dest.write_bytes(path.read_bytes())
    with netCDF4.Dataset(dest, "a") as nc:
        nc.setncattr("command", command)
    return dest


@pytest.mark.parametrize("command,refusal", [
    ("ridgerenorm agreement --pair t=s.nc,t.nc --out a.csv --html {outside}", "not a ridgerenorm step"),
    ("sh -c 'touch {outside}'", "not a ridgerenorm step"),
    ("ridgerenorm theory --spec x --spectrum s.nc --out t.nc; touch {outside}", "not valid for `ridgerenorm theory`"),
    ("ridgerenorm theory --spec x --spectrum {outside}/../s.nc --out t.nc", "not one of the file's checksummed inputs"),
    ("ridgerenorm theory --spec x --spectrum /etc/hostname --out t.nc", "not one of the file's checksummed inputs"),
    ("ridgerenorm theory --spec x --spectrum 's.nc --out t.nc", "cannot be parsed"),
])
def test_verify_never_runs_a_forged_record(tmp_path, monkeypatch, command, refusal):
    """A record is data: --verify refuses any command line that is not a netCDF step with its own inputs,
    and what it refuses leaves nothing behind (the canary path stays absent)."""
    made = _small_theory(tmp_path)
    outside = tmp_path / "elsewhere" / "CANARY"
    forged = _forge(made, tmp_path / "forged.nc", command.format(outside=outside))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as err:
        audit.recompute(forged)
    assert refusal in str(err.value) and "\n" not in str(err.value), err.value
    assert not outside.exists() and not outside.parent.exists()
    # the CLI says it in one line with exit status 2
    res = subprocess.run([sys.executable, "-m", "ridgerenorm.cli", "audit", "--verify", str(forged)],
                         capture_output=True, text=True, cwd=tmp_path)
    assert res.returncode == 2 and res.stderr.count("\n") == 1 and refusal in res.stderr, res.stderr
    assert not outside.exists()


def test_verify_writes_only_into_its_own_folder(tmp_path, monkeypatch):
    """A recorded --out elsewhere is not used: the rebuild goes to the audit's temporary folder, and the
    file's own parameters reproduce it bit for bit."""
    made = _small_theory(tmp_path)
    outside = tmp_path / "elsewhere" / "out.nc"
    forged = _forge(made, tmp_path / "forged.nc", f"ridgerenorm theory --spec @gone.json --spectrum s.nc --out {outside}")
    monkeypatch.chdir(tmp_path)
    assert audit.recompute_and_compare(forged) == {}
    assert not outside.parent.exists()


@pytest.mark.parametrize("ext", ["png", "pdf"])
def test_a_figure_carries_its_record_and_can_be_audited(quick, monkeypatch, ext):
    """A figure's PNG and PDF carry its provenance: command, commit, the data checksum of every input, its
    spec, and its agreement rows, computed by the function that writes agreement.csv."""
    import csv

    monkeypatch.chdir(ROOT)
    path = f"results/quick/figures/B2_lr-isotropic.{ext}"
    record = io.read_record(path)
    assert json.loads(record["spec"])["id"] == "B2" and record["git_commit"] and "ridgerenorm figure" in record["command"]
    assert set(json.loads(record["inputs"])) == {f"results/quick/{k}/{e}.nc" for k in ("simulation", "theory")
                                                 for e in ("b2_isotropic", "b2_double_descent")}
    table = {(r["experiment"], r["quantity"]): float(r["median_rel_dev"])
             for r in csv.DictReader(open("results/quick/agreement.csv"))}
    rows = {(r["experiment"], r["quantity"]): r["median_rel_dev"] for r in record["agreement"]}
    assert rows and all(k in table and abs(v - table[k]) <= 1e-5 * max(1.0, abs(v)) for k, v in rows.items()), rows
    text, problems = audit.describe(path)
    assert problems == [] and "input:       results/quick/theory/b2_isotropic.nc" in text and "unchanged" in text
    assert "agreement:   b2_isotropic eg: median rel dev" in text
    assert text.splitlines()[-1].startswith("rebuild:     cd ") and f"--forcerun {path}" in text
    assert audit.main(path, verify=True) == 0  # a figure is verified through its inputs


# ------------------------------------------------------------------------------ files of `ridgerenorm curve`


def _curve_file(tmp_path, monkeypatch, *argv):
    """A curve made in tmp_path (the working directory) from a file spectrum or a dataset of its own."""
    from ridgerenorm import cli

    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(2)
    np.save("eta.npy", np.sort(rng.gamma(0.6, size=30))[::-1])
    np.save("w.npy", rng.normal(size=30))
    np.save("X.npy", rng.normal(size=(80, 6)) * np.arange(1, 7) ** -0.7)
    np.save("y.npy", rng.normal(size=80))
    argv = argv or ("--spectrum", "file", "--path", "eta.npy", "--w-path", "w.npy", "--sigma-eps", "0.2",
                    "--optimal-ridge", "--P-min", "2", "--P-max", "300", "--points", "6")
    assert cli.main(["curve", *argv, "--out", "c.nc"]) == 0
    return tmp_path / "c.nc"


def _set_attr(path, name, value):
    import netCDF4

    with netCDF4.Dataset(path, "a") as nc:
        nc.setncattr(name, value)


@pytest.mark.parametrize("argv", [
    (),
    ("--spectrum", "dataset", "--path", "X.npy", "--labels", "y.npy", "--model", "random_features", "--widths", "4",
     "--ridge-power", "0.5", "--points", "5"),
], ids=["file", "dataset_rf"])
def test_verify_recomputes_a_curve_bit_identically(tmp_path, monkeypatch, capsys, argv):
    path = _curve_file(tmp_path, monkeypatch, *argv)
    inputs = json.loads(io.read_dataset(path).attrs["inputs"])
    assert inputs == {n: io.sha256(n) for n in (["eta.npy", "w.npy"] if not argv else ["X.npy", "y.npy"])}
    capsys.readouterr()
    assert audit.main(path, verify=True) == 0
    out = capsys.readouterr().out
    assert out.count("unchanged") == 2 and out.strip().endswith("every variable is bit-identical")


def test_verify_reports_a_tampered_curve_value(tmp_path, monkeypatch, capsys):
    path = _curve_file(tmp_path, monkeypatch)
    ds = io.read_dataset(path)
    ds["eg"] = ds.eg * (1 + 1e-12)
    io.write_dataset(ds, path)  # a consistent data checksum: only the recomputation tells
    capsys.readouterr()
    assert audit.main(path, verify=True) == 1
    out = capsys.readouterr().out
    assert "verify: DIFFERENT in 1 variable(s), max relative difference: eg" in out


def test_verify_reports_tampered_curve_arguments(tmp_path, monkeypatch, capsys):
    path = _curve_file(tmp_path, monkeypatch)
    words = json.loads(io.read_dataset(path).attrs["curve_args"])
    words[words.index("--sigma-eps") + 1] = "0.3"
    _set_attr(path, "curve_args", json.dumps(words))
    capsys.readouterr()
    assert audit.main(path, verify=True) == 1
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("verify:")]
    assert lines == ["verify: FAILED: the recorded arguments do not give the recorded parameters (they differ in "
                     "sigma_eps): the record was edited"]


@pytest.mark.parametrize("payload, refusal", [
    ('["--spectrum", "file", "--path", "eta.npy; touch {marker}", "--ridge", "0.1"]', "is not one of the file's"),
    ('["--spectrum", "file", "--path", "$(touch {marker})", "--ridge", "0.1"]', "is not one of the file's"),
    ('["--spectrum", "file", "--path", "eta.npy", "--ridge", "0.1`touch {marker}`"]', "not valid for `ridgerenorm curve`"),
    ('"--spectrum file --path eta.npy --ridge 0.1; touch {marker}"', "not a list of words"),
    ('["--config", "/etc/hostname", "--experiment", "x"]', "is not one of the file's checksummed inputs"),
    ('["--spectrum", "file", "--path", "eta.npy", "--ridge", "0.1", "--model", "linear_ridge; touch {marker}"]',
     "rerun failed (2)"),
])
def test_verify_never_runs_a_curve_payload(tmp_path, monkeypatch, payload, refusal):
    """Recorded curve arguments are words for the curve parser: shell metacharacters in them run nothing (the
    marker file is never made), and what is refused is one line with exit status 2."""
    path = _curve_file(tmp_path, monkeypatch)
    marker = tmp_path / "MARKER"
    _set_attr(path, "curve_args", payload.replace("{marker}", str(marker)))
    res = subprocess.run([sys.executable, "-m", "ridgerenorm.cli", "audit", "--verify", str(path)],
                         capture_output=True, text=True, cwd=tmp_path)
    assert res.returncode == 2 and res.stderr.count("\n") == 1 and refusal in res.stderr, res.stderr
    assert not marker.exists()


def test_verify_checks_a_curve_input_file(tmp_path, monkeypatch, capsys):
    path = _curve_file(tmp_path, monkeypatch)
    np.save("w.npy", np.load("w.npy") * 2)  # the input changed: its SHA-256 no longer matches
    capsys.readouterr()
    assert audit.main(path, verify=True) == 1
    assert "w.npy: CHANGED since this file was made" in capsys.readouterr().out
    (tmp_path / "w.npy").unlink()
    assert audit.main(path, verify=True) == 1
    assert "inputs differ from those this file was made from:\n  w.npy: MISSING" in capsys.readouterr().out
