"""`ridgerenorm list` (every figure and experiment with its estimated time at each scale) and `ridgerenorm
clean` (the files of experiments and figures a config no longer has: a dry run, or deleted with --yes)."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ridgerenorm import config as cfg
from ridgerenorm import costs, inventory
from ridgerenorm.models import model_of

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def kept_rates(tmp_path, monkeypatch):
    """Kept machine rates of GEMM 50 GFLOP/s (float32: 100) and Cholesky 2 GFLOP/s, so nothing is measured."""
    monkeypatch.setenv("RIDGERENORM_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "cache").mkdir()
    table = {costs.machine_key(2): {"gemm": 50.0, "gemm32": 100.0, "factor": 2.0,
                                    "measured": "2026-01-01T00:00:00+00:00"}}
    (tmp_path / "cache" / "machine_rates.json").write_text(json.dumps(table))
    monkeypatch.setattr(costs, "measured_rates", lambda threads: pytest.fail("list measured the machine"))


def seconds(cell: str) -> float:
    value, unit = cell.split()
    return float(value) * {"s": 1, "min": 60, "h": 3600}[unit]


def cells(line: str, n: int) -> list[str]:
    """The n time cells of a list row (each '12 s', '9 min', '2.6 h' or '-')."""
    return re.findall(r"(\d+(?:\.\d+)? (?:s|min|h)|(?<= )-(?= ))", line)[:n]


def test_list_gives_every_figure_and_experiment_with_its_time_at_each_scale(kept_rates):
    lines = []
    assert inventory.list_main(root=ROOT, out=lines.append) == 0
    paper = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    assert lines[0].startswith(f"scale 'paper' ({ROOT}/config/config.yaml): {len(paper['figures'])} figures")
    assert "GEMM 50 GFLOP/s" in lines[1] and "measured 2026-01-01" in lines[1]
    header = next(line for line in lines if line.startswith("figure "))
    assert header.split()[3:5] == ["paper", "quick"]
    rows = {line.split()[0]: line for line in lines if re.match(r"[A-Z][0-9]+ |[a-z][a-z0-9_]+ ", line)}
    assert set(paper["figures"]) <= set(rows)
    used = {e for f in paper["figures"].values() for e in f.get("experiments", {}).values()}
    assert used <= set(rows)
    # each experiment's time is plan's estimate at that scale (the same code), smaller at the quick scale
    for exp in ("c5_noise_mitigated", "b2_isotropic"):
        spec = inventory.cfg.experiment_spec(paper, exp)
        expected = costs.experiment_seconds({"gemm": 50.0, "gemm32": 100.0, "factor": 2.0}, model_of(spec).flops(spec),
                                            len(cfg.draw_blocks(spec)), 2)
        p, q = map(seconds, cells(rows[exp], 2))
        assert p == pytest.approx(expected, rel=0.06, abs=0.6) and q < p
    assert seconds(cells(rows["c5_noise_mitigated"], 1)[0]) > 600  # 333 TFLOP at 50-100 GFLOP/s
    # a figure costs the experiments it draws; a formula or random-matrix figure shows no simulation time
    b2 = [seconds(c) for c in cells(rows["B2"], 2)]
    parts = [[seconds(c) for c in cells(rows[e], 2)] for e in ("b2_isotropic", "b2_double_descent")]
    assert b2 == pytest.approx([parts[0][i] + parts[1][i] for i in range(2)], abs=1.0)
    assert cells(rows["B1"], 2) == ["-", "-"] and "no simulation" in rows["B1"]
    assert cells(rows["A1"], 2) == ["-", "-"] and "random matrices" in rows["A1"]
    assert "B2" in rows["b2_isotropic"].split()[-1]


def test_list_of_an_overlay_adds_its_scale(kept_rates):
    res = subprocess.run([sys.executable, "-m", "ridgerenorm.cli", "list", "--configfile", "config/preprint-v1.yaml"],
                         cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("scale 'preprint-v1' (config/config.yaml + config/preprint-v1.yaml)")
    header = next(line for line in res.stdout.splitlines() if line.startswith("figure "))
    assert header.split()[3:6] == ["paper", "quick", "preprint-v1"]
    res = subprocess.run([sys.executable, "-m", "ridgerenorm.cli", "list", "--configfile", "config/nope.yaml"],
                         cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1 and "nope.yaml" in res.stderr


def clean(root, *args):
    return subprocess.run([sys.executable, "-m", "ridgerenorm.cli", "clean", *args], cwd=root, capture_output=True,
                          text=True)


def files_under(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_clean_lists_then_deletes_exactly_the_files_of_removed_figures_and_experiments(quick, tmp_path):
    """The real quick build, copied; a config without A1 and B2 (so without B2's two experiments) and with B3
    renamed.  The dry run deletes nothing; --yes deletes those files and nothing else."""
    results, _ = quick
    root = tmp_path / "clone"
    shutil.copytree(results, root / "results" / "quick", symlinks=True)
    (root / "config").mkdir()
    paper = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    overlay = yaml.safe_load((ROOT / "config" / "quick.yaml").read_text())
    for conf in (paper, overlay):
        for fid in ("A1", "B2"):
            conf["figures"].pop(fid, None)
    paper["figures"]["B3"]["name"] = "lr-power"
    (root / "config" / "config.yaml").write_text(yaml.safe_dump(paper))
    (root / "config" / "quick.yaml").write_text(yaml.safe_dump(overlay))
    before = files_under(root / "results" / "quick")
    gone = re.compile(r"b2_isotropic|b2_double_descent|(^|/)(figure_)?(A1|B2)[._]|(^|/)B3_lr-powerlaw\.")
    expected = sorted(p for p in before if gone.search(p))
    assert len(expected) >= 30 and any(p.startswith("simulation/") for p in expected)
    assert any(p.startswith("specs/") for p in expected) and any(p.startswith("logs/") for p in expected)

    res = clean(root, "--scale", "quick")
    assert res.returncode == 0, res.stderr
    listed = sorted(re.findall(r"^would delete results/quick/(\S+): ", res.stdout, re.M))
    assert listed == expected
    assert "experiment b2_isotropic is drawn by no figure" in res.stdout
    assert "figure B3 is now named lr-power" in res.stdout and "figure A1 is not in the config" in res.stdout
    assert f"{len(expected)} files" in res.stdout.splitlines()[-1] and "--yes" in res.stdout.splitlines()[-1]
    assert files_under(root / "results" / "quick") == before  # a dry run

    res = clean(root, "--scale", "quick", "--yes")
    assert res.returncode == 0, res.stderr
    after = files_under(root / "results" / "quick")
    assert sorted(set(before) - set(after)) == expected
    assert all(after[p] == before[p] for p in after)  # the rest untouched, byte for byte
    assert not (root / "results" / "quick" / "simulation" / "b2_isotropic").exists()  # no empty folders left
    assert "specs/figure_B3" in " ".join(after) and "agreement.csv" in after
    res = clean(root, "--scale", "quick")
    assert res.returncode == 0 and "nothing to clean" in res.stdout


def test_clean_deletes_links_not_their_targets_and_leaves_other_files(tmp_path):
    root = tmp_path / "clone"
    shutil.copytree(ROOT / "config", root / "config")
    R = root / "results" / "paper"
    elsewhere = tmp_path / "scratch" / "old_exp"
    elsewhere.mkdir(parents=True)
    (elsewhere / "draws_0-2.nc").write_text("blocks kept elsewhere")
    for rel in ("spectra/old_exp.nc", "theory/old_exp.nc", "figures/Z9_gone.png", "figures/my-notes.txt",
                "figures/B2_lr-isotropic.png", "spectra/b2_isotropic.nc", "logs/merge/old_exp.log",
                "specs/old_exp.theory.0123456789abcdef.json", "specs/agreement_pairs.txt", "agreement.csv"):
        (R / rel).parent.mkdir(parents=True, exist_ok=True)
        (R / rel).write_text(rel)
    (R / "simulation").mkdir()
    (R / "simulation" / "old_exp").symlink_to(elsewhere)
    res = clean(root, "--yes")
    assert res.returncode == 0, res.stderr
    assert sorted(re.findall(r"^deleted results/paper/(\S+):", res.stdout, re.M)) == sorted([
        "figures/Z9_gone.png", "logs/merge/old_exp.log", "simulation/old_exp", "spectra/old_exp.nc",
        "specs/old_exp.theory.0123456789abcdef.json", "theory/old_exp.nc"])
    assert (elsewhere / "draws_0-2.nc").read_text() == "blocks kept elsewhere"
    assert not (R / "simulation" / "old_exp").is_symlink()
    left = sorted(files_under(R))
    assert left == sorted(["agreement.csv", "figures/B2_lr-isotropic.png", "figures/my-notes.txt",
                           "spectra/b2_isotropic.nc", "specs/agreement_pairs.txt"])
    res = clean(root, "--scale", "nope")
    assert res.returncode == 2 and res.stderr.strip() == "error: --scale nope: no config/nope.yaml (scales: paper, preprint-v1, quick)"
