"""Workflow hygiene: formatting, lint, and a fast dry run of the paper-scale DAG."""

import re
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]

# Waived lint: "Specify a conda environment or container for each rule."  Every rule runs the one
# `ridgerenorm` CLI from the single environment the README installs (pyproject.toml, mirrored by
# environment.yml); per-rule environments would duplicate that environment rule by rule.
WAIVED_LINTS = {"Specify a conda environment or container for each rule."}


def run(*cmd):
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)


def test_snakefmt_clean():
    res = run("snakefmt", "--check", "workflow/")
    assert res.returncode == 0, res.stdout + res.stderr


def test_lint_clean_except_waived():
    res = run("snakemake", "--lint")
    titles = set(re.findall(r"^\s+\* (.+?):?$", res.stdout + res.stderr, flags=re.M))
    assert titles, "expected the waived conda lint to be reported; did the lint run?"
    assert titles <= WAIVED_LINTS, titles - WAIVED_LINTS


def test_paper_dry_run_is_complete():
    res = run("snakemake", "-n", "--forceall")  # its time: benchmarks/micro.py
    assert res.returncode == 0, res.stderr[-2000:]
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    out = res.stdout + res.stderr
    for fid, fig in config["figures"].items():
        assert f"results/paper/figures/{fid}_{fig['name']}.pdf" in out, fid
    assert "results/paper/agreement.csv" in out


def test_snakemake_floor_agrees_and_profiles_are_read_by_it():
    """min_version in the Snakefile, pyproject.toml and environment.yml name one floor; the profiles use the
    file name every Snakemake from that floor reads (config.yaml: profile.yaml is read only from 9.19 on)."""
    import tomllib

    floor = re.search(r'min_version\("([\d.]+)"\)', (ROOT / "workflow" / "Snakefile").read_text()).group(1)
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"]
    assert f"snakemake>={floor}" in deps
    assert f"snakemake>={floor}" in env
    assert tuple(int(x) for x in floor.split(".")) < (9, 19)
    for profile in ("default", "slurm"):
        assert (ROOT / "profiles" / profile / "config.yaml").is_file()
        assert not (ROOT / "profiles" / profile / "profile.yaml").exists()  # two files: either may be read


def test_catalog_layout():
    """The Snakemake workflow catalog's standardized layout: workflow/Snakefile (and no Snakefile at the root,
    which Snakemake would read first), config/README.md, and .snakemake-workflow-catalog.yml with its usage
    keys; tests/test_snakedeploy.py deploys it as a module."""
    assert (ROOT / "workflow" / "Snakefile").is_file() and not (ROOT / "Snakefile").exists()
    readme = (ROOT / "config" / "README.md").read_text()
    for name in ("config.yaml", "quick.yaml", "preprint-v1.yaml"):
        assert (ROOT / "config" / name).is_file() and f"`{name}`" in readme, name
    usage = yaml.safe_load((ROOT / ".snakemake-workflow-catalog.yml").read_text())["usage"]
    assert {"mandatory-flags", "software-stack-deployment", "report"} <= set(usage), usage
    assert {"desc", "flags"} <= set(usage["mandatory-flags"])
