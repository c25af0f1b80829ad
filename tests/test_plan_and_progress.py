"""The start-up plan (machine rates measured once and kept; only the experiments a run simulates), the short
`@file` commands the rules print, and the live-progress logger plugin."""

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from ridgerenorm import config as cfg
from ridgerenorm import costs

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def counted(monkeypatch, tmp_path):
    """machine_rates with its measurement replaced by a counter (known rates) and its cache in tmp_path."""
    calls = []

    def fake(threads):
        calls.append(threads)
        return {"gemm": 100.0 * threads + len(calls), "gemm32": 200.0 * threads, "factor": 3.0}

    monkeypatch.setenv("RIDGERENORM_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(costs, "measured_rates", fake)
    return calls


def test_rates_are_measured_once_per_machine_and_threads(counted, tmp_path):
    first = costs.machine_rates(2)
    assert first["fresh"] and first["gemm"] == 201.0 and counted == [2]
    again = costs.machine_rates(2)
    assert not again["fresh"] and again["gemm"] == 201.0 and again["measured"] == first["measured"]
    assert counted == [2]  # reused, not measured
    other = costs.machine_rates(1)  # another thread count is another measurement
    assert other["fresh"] and other["gemm"] == 102.0 and counted == [2, 1]
    table = json.loads((tmp_path / "cache" / "machine_rates.json").read_text())
    assert len(table) == 2 and all("numpy" in key and "threads" in key for key in table)
    assert costs.machine_rates(2, remeasure=True)["gemm"] == 203.0 and counted == [2, 1, 2]
    assert costs.machine_rates(2)["gemm"] == 203.0  # the new measurement replaced the old


def test_a_corrupt_or_unwritable_cache_only_costs_a_measurement(counted, tmp_path, monkeypatch):
    cache = tmp_path / "cache" / "machine_rates.json"
    cache.parent.mkdir()
    for junk in ("{not json", "[1, 2]", json.dumps({costs.machine_key(2): {"gemm": -1.0, "factor": 3.0}})):
        cache.write_text(junk)
        assert costs.machine_rates(2)["fresh"]
    assert len(counted) == 3
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("RIDGERENORM_CACHE_DIR", str(blocker / "sub"))  # a folder that cannot be made
    assert costs.machine_rates(2)["fresh"] and costs.machine_rates(2)["fresh"]


def test_stable_time_waits_for_three_agreeing_timings():
    """Timings 1.0, 0.5, 0.9, 0.52, 0.51 s (a fake clock): the three fastest agree within 10 % only after
    the fifth, so five runs, four pauses, and the fastest, 0.5 s, is the time."""
    clock = iter([0.0, 1.0, 2.0, 2.5, 3.0, 3.9, 4.0, 4.52, 5.0, 5.51, 9.0, 9.1])
    runs, pauses = [], []
    best, ok, spread = costs.stable_time(lambda: runs.append(1), timer=lambda: next(clock), sleep=pauses.append)
    assert (best, ok, len(runs), len(pauses)) == (0.5, True, 5, 4)
    assert spread == pytest.approx(0.04)
    # timings that never agree: all `tries` runs, the fastest returned, marked unstable
    clock = iter([0.0, 1.0, 0.0, 2.0, 0.0, 3.0, 0.0, 1.5])
    best, ok, spread = costs.stable_time(lambda: None, tries=4, timer=lambda: next(clock), sleep=lambda s: None)
    assert (best, ok) == (1.0, False) and spread == pytest.approx(1.0)


def test_a_measurement_under_load_is_used_but_not_kept(counted, tmp_path, monkeypatch):
    assert costs.quiet(0.4, threads=2, cores=2) and not costs.quiet(0.6, threads=2, cores=2)
    assert costs.quiet(1.5, threads=1, cores=2) and not costs.quiet(3.1, threads=2, cores=4)
    busy = {"gemm": 40.0, "gemm32": 80.0, "factor": 1.0, "stable": True, "load": 5.2, "quiet": False}
    monkeypatch.setattr(costs, "measured_rates", lambda threads: dict(busy))
    first = costs.machine_rates(2)
    assert first["fresh"] and not first["kept"] and first["gemm"] == 40.0
    assert not (tmp_path / "cache" / "machine_rates.json").exists()
    monkeypatch.setattr(costs, "measured_rates", lambda threads: {**busy, "gemm": 180.0, "load": 0.1, "quiet": True})
    second = costs.machine_rates(2)  # nothing was kept, so measured again: quiet this time, kept
    assert second["fresh"] and second["kept"] and second["gemm"] == 180.0
    again = costs.machine_rates(2)
    assert not again["fresh"] and again["gemm"] == 180.0 and again["measured"] == second["measured"]


def test_a_run_twice_as_fast_as_the_kept_rates_drops_them(counted, tmp_path):
    kept = costs.machine_rates(2)  # the fake: GEMM 201 GFLOP/s, Cholesky 3 GFLOP/s per thread
    # 4020 GFLOP of GEMM and 60 GFLOP of factorizations: 20 s + 10 s predicted
    assert costs.predicted_seconds(kept, 4020e9, 60e9, 2) == pytest.approx(30.0)
    assert costs.check_observed(2, 4020e9, 60e9, wall=16.0) is None  # 1.9x faster: kept
    assert costs.check_observed(2, 4020e9, 60e9, wall=90.0) is None  # slower (load, other jobs): kept
    assert costs.check_observed(2, 402e9, 6e9, wall=1.0) is None  # predicts 3 s < 10 s: start-up bound, kept
    assert not costs.machine_rates(2)["fresh"] and counted == [2]
    note = costs.check_observed(2, 4020e9, 60e9, wall=14.0)  # 2.14x faster: measured under load
    assert "predicted 30 s, the run took 14 s" in note
    assert costs.machine_rates(2)["fresh"] and counted == [2, 2]  # dropped, so measured again
    assert costs.check_observed(1, 4020e9, 60e9, wall=1.0) is None  # nothing kept for 1 thread


def run_plan(*args, env_cache):
    env = {"RIDGERENORM_CACHE_DIR": str(env_cache), "PATH": "/usr/bin:/bin"}
    import os

    env = dict(os.environ, **env)
    return subprocess.run([sys.executable, "-m", "ridgerenorm.cli", "plan", "config/config.yaml",
                           "config/quick.yaml", *args], cwd=ROOT, capture_output=True, text=True, env=env)


def test_plan_of_nothing_measures_nothing_and_names_bad_experiments(tmp_path):
    res = run_plan("--experiments", env_cache=tmp_path)
    assert res.returncode == 0 and res.stdout.strip() == "scale 'quick': nothing to simulate"
    assert not (tmp_path / "machine_rates.json").exists()  # nothing measured
    res = run_plan("--experiments", "c2_isotropic", "nope", env_cache=tmp_path)
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1
    assert res.stderr.startswith("error: --experiments nope: not in the config")


def test_plan_lists_only_the_experiments_asked_for(tmp_path):
    table = {}
    key_cmd = [sys.executable, "-c", "from ridgerenorm.costs import machine_key; print(machine_key(2))"]
    key = subprocess.run(key_cmd, capture_output=True, text=True, check=True).stdout.strip()
    table[key] = {"gemm": 50.0, "gemm32": 100.0, "factor": 2.0, "measured": "2026-01-01T00:00:00+00:00"}
    (tmp_path / "machine_rates.json").write_text(json.dumps(table))
    res = run_plan("--experiments", "c2_isotropic", "b2_isotropic", env_cache=tmp_path)
    assert res.returncode == 0, res.stderr
    rows = [line.split()[0] for line in res.stdout.splitlines()[2:-1]]
    assert rows == ["b2_isotropic", "c2_isotropic"]
    assert "50 GFLOP/s" in res.stdout and "measured 2026-01-01" in res.stdout  # the kept rates, not new ones


def test_printed_commands_are_short_and_their_argument_files_hold_the_config():
    from test_deps import dry_run_output, shell_commands  # one forced quick dry run, shared

    commands = [c for cs in shell_commands().values() for c in cs]
    assert len(commands) >= 100
    longest = max(commands, key=len)
    assert len(longest) <= 440, longest  # the figure of most inputs (B2: four files named in full, and its scale)
    config = cfg.load_config(ROOT / "config" / "config.yaml", ROOT / "config" / "quick.yaml")
    seen = 0
    for command in commands:
        argv = shlex.split(command.split(" 2> ")[0])
        for i, arg in enumerate(argv):
            if not arg.startswith("@"):
                continue
            path = ROOT / arg[1:]
            assert path.is_file(), command
            if argv[i - 1] == "--spec" and argv[1] in ("spectrum", "simulate", "merge", "theory"):
                exp = path.name.split(".")[0]
                step = "simulate" if argv[1] == "merge" else argv[1]
                assert json.loads(path.read_text()) == cfg.step_spec(config, exp, step)
                seen += 1
    assert seen >= 80
    # the profile's live-progress logger was in that run too, and stood aside for Snakemake's plain text
    profile = (ROOT / "profiles" / "default" / "config.yaml").read_text()
    assert re.search(r"^logger: \[ridgerenorm\]$", profile, flags=re.M)
    assert "Job stats:" in dry_run_output() and "Traceback" not in dry_run_output()


def test_run_eta_extrapolates_the_runs_own_pace():
    plugin = pytest.importorskip("snakemake_logger_plugin_ridgerenorm")
    column = plugin.RunETA()
    task = SimpleNamespace(description="Total Progress", completed=30, total=120, elapsed=600.0)
    assert column.render(task).plain == "ETA 0:30:00"  # 20 s a job, 90 jobs left
    assert column.render(SimpleNamespace(description="Total Progress", completed=0, total=120,
                                         elapsed=5.0)).plain == "ETA --:--"
    assert column.render(SimpleNamespace(description="simulate", completed=3, total=4, elapsed=9.0)).plain == ""
