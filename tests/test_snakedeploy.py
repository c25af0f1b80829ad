"""The workflow used as a Snakemake module, as the workflow catalog's standardized usage deploys it: `snakedeploy
deploy-workflow` writes a folder holding only workflow/Snakefile (a `module` directive and `use rule *`),
config/ and profiles/, and the workflow runs there, reading that folder's config and writing its results/."""

import json
import re
import shutil
import subprocess

import pytest
import yaml

from clones import QUICK, checkout_copy, env_for, job_counts
from ridgerenorm.inventory import FIGURE_RULES

pytestmark = [
    pytest.mark.pipeline,
    pytest.mark.skipif(shutil.which("snakedeploy") is None,
                       reason="snakedeploy is not installed (pip install snakedeploy; the test extra has it)"),
]


def deploy(source, dest):
    """`snakedeploy deploy-workflow` of the checkout `source` into `dest`; the deployed Snakefile's text."""
    # A local source needs a ref on the command line, which snakedeploy does not use for it.
    res = subprocess.run(["snakedeploy", "deploy-workflow", str(source), str(dest), "--branch", "main"],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
    snakefile = dest / "workflow" / "Snakefile"
    text = snakefile.read_text()
    assert re.search(r"^module \w+:", text, re.M) and re.search(r"^use rule \* from \w+", text, re.M), text
    # snakedeploy (0.17) declares a local source's Snakefile by its path inside the source, "workflow/Snakefile",
    # which Snakemake reads relative to the deployed Snakefile: point it at the source's file.
    declared = re.search(r"snakefile:\s*\n\s*(\S.*)\n", text).group(1).strip()
    if declared == '"workflow/Snakefile"':
        text = text.replace(declared, json.dumps(str(source / "workflow" / "Snakefile")))
        snakefile.write_text(text)
    return text


def test_deployed_module_plans_every_figure_and_writes_into_the_deployment(tmp_path):
    source = checkout_copy(tmp_path / "source")
    dest = tmp_path / "deployment"
    deploy(source, dest)
    assert sorted(p.name for p in (dest / "config").iterdir()) == sorted(p.name for p in (source / "config").iterdir())

    def snakemake(*args):
        res = subprocess.run(["snakemake", *args], cwd=dest, capture_output=True, text=True, env=env_for(source))
        assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
        return res.stdout + res.stderr

    out = snakemake("-n", *QUICK)
    config = yaml.safe_load((dest / "config" / "config.yaml").read_text())
    for fid, fig in config["figures"].items():
        assert f"results/quick/figures/{fid}_{fig['name']}.pdf" in out, fid
    jobs = job_counts(out)
    assert sum(jobs.get(rule, 0) for rule in FIGURE_RULES) == len(config["figures"]), jobs
    assert jobs["simulate"] > 0 and jobs["agreement"] == 1 and jobs["benchmark_summary"] == 1, jobs
    # the benchmark summary runs the source's script, named where it is
    assert f"python {source / 'benchmarks' / 'summary.py'} " in out

    # one figure for real (a diagram: no simulation): its files, stamps and argument files are the deployment's
    snakemake("--cores", "1", "results/quick/figures/B1_lr-venn.pdf", *QUICK)
    assert (dest / "results" / "quick" / "figures" / "B1_lr-venn.png").is_file()
    assert (dest / "results" / "quick" / "code" / "figure.sha256").is_file()
    assert not (source / "results").exists()
