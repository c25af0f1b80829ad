"""`ridgerenorm summary`, the end of every successful run: figures and where, worst agreement rows, the report."""

import os
import shlex
import subprocess
import sys

from ridgerenorm.summary import summary_lines, worst_rows

HEADER = "experiment,quantity,theory_quantity,n_points,median_rel_dev,max_rel_dev,median_abs_dev_over_se,chi2_per_point\n"


def test_summary_counts_the_figures_this_run_wrote_and_names_the_worst_rows(tmp_path):
    R = tmp_path / "results" / "quick"
    (R / "figures").mkdir(parents=True)
    for i, name in enumerate(["A1_wigner", "B2_lr-isotropic", "C5_lrf-noise-mitigated"]):
        for ext in ("png", "pdf"):
            (R / "figures" / f"{name}.{ext}").write_bytes(b"x")
            os.utime(R / "figures" / f"{name}.{ext}", (1000.0 + i, 1000.0 + i))  # written at 1000, 1001, 1002
    (R / "agreement.csv").write_text(HEADER + "b2_isotropic,eg,eg,20,0.008,0.05,0.7,2.5\n"
                                     "d5_noise_mitigated,eg,eg,25,0.097,0.44,0.9,1.4\n"
                                     "c4_ridge_limited,eg,eg,20,0.089,0.9,2.0,4.4\n"
                                     "c2_isotropic,eg,eg,20,0.0074,0.02,0.3,0.27\n"
                                     "b4_blocks,gcv,gcv,20,0.2,0.5,1.0,nan\n")
    lines = summary_lines(R, since=1000.5, configfiles=["config/quick.yaml", "my overlay.yaml"])
    assert lines[0] == f"figures: 3 in {R / 'figures'}/ (PDF and PNG, 2 written by this run)"
    worst = [line.split()[0] for line in lines if line.startswith("  ") and "chi2/point" in line]
    assert worst == ["c4_ridge_limited", "b2_isotropic", "d5_noise_mitigated"]  # chi2 4.4, 2.5, 1.4
    assert "chi2/point 4.4  median rel dev 8.9%  max 90%" in lines[2]
    assert lines[-1].startswith("report: snakemake --report report.html --configfile config/quick.yaml "
                                "--configfile 'my overlay.yaml'")
    # a not-a-number chi-squared sorts last, not first
    assert [r["experiment"] for r in worst_rows(R / "agreement.csv", n=5)][-1] == "b4_blocks"


def test_summary_of_a_run_without_figures_or_table_says_so(tmp_path):
    res = subprocess.run([sys.executable, "-m", "ridgerenorm.cli", "summary", str(tmp_path / "results" / "x")],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == [f"figures: none in {tmp_path / 'results' / 'x' / 'figures'}/ yet",
                                       "report: snakemake --report report.html    (then open report.html in a browser)"]
    assert shlex.split(res.stdout.splitlines()[-1].split("    ")[0])[1:] == ["snakemake", "--report", "report.html"]
