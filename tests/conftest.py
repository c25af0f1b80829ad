"""Fixtures shared by the pipeline tests, each built once per test session: the quick-scale results, a bundle
exported from them, the Snakemake report of them, and a fresh clone that imported the bundle."""

import subprocess
import sys
import time

import pytest
import yaml

from clones import QUICK, ROOT, checkout_copy, env_for, job_counts, snakemake, snakemake_at


def pytest_terminal_summary(terminalreporter):
    """The table of items each figure check looked at (test_figures.tally_table), when those tests ran."""
    figures = sys.modules.get("test_figures")
    for line in figures.tally_table() if figures else []:
        terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def quick():
    """Build the quick scale (a no-op when CI has already run it)."""
    snakemake_at("--cores", "2", *QUICK)
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    return ROOT / "results" / "quick", config


@pytest.fixture(scope="session")
def bundle(quick, tmp_path_factory):
    """The quick scale exported with `ridgerenorm cache export`."""
    archive = tmp_path_factory.mktemp("bundle") / "quick.tar.gz"
    res = subprocess.run([sys.executable, "-m", "ridgerenorm.cli", "cache", "export", "--scale", "quick", str(archive)],
                         cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    return archive


@pytest.fixture(scope="session")
def clone_b(bundle, tmp_path_factory):
    """A fresh checkout, the bundle imported, every figure built from it: (clone, jobs run, seconds).
    Tests that change it leave it up to date again (or restore what they changed)."""
    clone = checkout_copy(tmp_path_factory.mktemp("clone_b"))
    res = subprocess.run([sys.executable, "-m", "ridgerenorm.cli", "cache", "import", str(bundle)], cwd=clone,
                         capture_output=True, text=True, env=env_for(clone))
    assert res.returncode == 0 and "verified and installed" in res.stdout, res.stderr
    t0 = time.perf_counter()
    out = snakemake(clone, "--cores", "2", *QUICK)
    # nothing is simulated, so the start-up plan neither measures the machine nor prints
    assert "GFLOP/s" not in out and "est. time" not in out, out[:2000]
    return clone, job_counts(out), time.perf_counter() - t0


@pytest.fixture(scope="session")
def quick_report(quick, tmp_path_factory):
    """`snakemake --report` of the quick scale (the self-contained HTML file)."""
    report = tmp_path_factory.mktemp("report") / "report.html"
    snakemake_at(*QUICK, "--report", str(report))
    return report
