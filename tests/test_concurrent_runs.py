"""Two `snakemake` runs on one checkout at once: the second stops, with a line naming the first (a live
process) before Snakemake's own lock message, and the first finishes with a result `audit --verify` remakes
bit for bit.

The first run is paused inside its theory job: the jobs run `ridgerenorm` from PATH, and the test puts a
wrapper first on PATH that, while a gate file exists, waits before it runs the real command.  Snakemake is
started as `python -m snakemake` (a version manager's `snakemake` shim would put its own bin first on PATH)."""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import contextlib
from io import StringIO as io_text

import pytest

from ridgerenorm import audit

from test_pipeline import workflow_copy

pytestmark = pytest.mark.pipeline
TARGET = "results/quick/theory/b2_isotropic.nc"  # two jobs (spectrum, theory) of about a second each
# the real command the wrapper runs (beside this Python, else on PATH), so results record `ridgerenorm ...`
REAL = Path(sys.executable).with_name("ridgerenorm")
REAL = REAL if REAL.exists() else Path(shutil.which("ridgerenorm"))


def _run(checkout: Path, env: dict, log: Path):
    """Snakemake building TARGET in `checkout`, its output to `log` (a file: a pipe nobody reads could fill)."""
    with open(log, "w") as out:
        return subprocess.Popen([sys.executable, "-m", "snakemake", TARGET, "--cores", "1", "--configfile",
                                 "config/quick.yaml"], cwd=checkout, env=env, stdout=out, stderr=subprocess.STDOUT)


def _env(checkout: Path, bin_dir: Path, gate: Path) -> dict:
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "PYTHONPATH": str(checkout / "src"),
            "RACE_GATE": str(gate)}


def test_a_second_run_stops_in_one_clear_line_and_the_first_finishes(tmp_path):
    checkout = workflow_copy(tmp_path / "checkout")
    bin_dir, gate = tmp_path / "bin", tmp_path / "gate"
    bin_dir.mkdir()
    wrapper = bin_dir / "ridgerenorm"
    wrapper.write_text('#!/bin/sh\nif [ "$1" = theory ] && [ -e "$RACE_GATE" ]; then\n  touch "$RACE_GATE.waiting"\n'
                       '  while [ -e "$RACE_GATE" ]; do sleep 0.1; done\nfi\n'
                       f'exec {REAL} "$@"\n')
    wrapper.chmod(0o755)
    env = _env(checkout, bin_dir, gate)
    gate.touch()
    log1, log2 = tmp_path / "first.log", tmp_path / "second.log"
    first = _run(checkout, env, log1)
    try:
        deadline = time.monotonic() + 240  # ~15 s on an idle machine; a loaded one starts Snakemake slowly
        while not Path(f"{gate}.waiting").exists():
            assert first.poll() is None, log1.read_text()[-3000:]
            assert time.monotonic() < deadline, "the first run did not reach its theory job"
            time.sleep(0.1)
        second = _run(checkout, env, log2)
        second.wait(timeout=240)
    finally:
        gate.unlink(missing_ok=True)  # let the first run finish, whatever happened
    first.wait(timeout=240)
    out1, out2 = log1.read_text(), log2.read_text()
    assert first.returncode == 0, out1[-3000:]
    assert second.returncode != 0, out2[-3000:]
    ours = [ln for ln in out2.splitlines() if ln.startswith("ridgerenorm: another Snakemake process")]
    assert len(ours) == 1 and f"pid {first.pid} on " in ours[0] and "do not --unlock while it runs" in ours[0], out2
    assert "LockException" in out2 and "Building DAG" in out2  # then Snakemake's own lock stops it
    # the first run's result: its data checksum holds, and recomputed from its record it has the same bits
    printed = io_text()
    with contextlib.redirect_stdout(printed):
        assert audit.main(str(checkout / TARGET), verify=True) == 0, printed.getvalue()
    assert "every variable is bit-identical" in printed.getvalue()
    # the lock went with the first process: a third run starts and finds everything up to date
    res = subprocess.run([sys.executable, "-m", "snakemake", TARGET, "--cores", "1", "--configfile", "config/quick.yaml"],
                         cwd=checkout, env=env, capture_output=True, text=True)
    assert res.returncode == 0 and "Nothing to be done" in res.stdout + res.stderr, res.stderr[-2000:]
    assert "another Snakemake process" not in res.stdout + res.stderr


def test_the_run_lock_names_its_holder_and_goes_with_it(tmp_path):
    """hold_run_lock in a second process: refused with the first's pid and command while it lives, taken
    once it has ended (killed, not cleaned up: the kernel releases a flock with its process)."""
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; sys.argv = ['snakemake', '--cores', '2']; "
                               f"from ridgerenorm import cache; assert cache.hold_run_lock({str(tmp_path)!r}) is None; "
                               "print('held', flush=True); time.sleep(60)"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        probe = ("from ridgerenorm import cache; import sys; sys.argv = ['snakemake', '-n']; "
                 f"print(cache.hold_run_lock({str(tmp_path)!r}))")
        line = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True).stdout.strip()
        assert line.startswith(f"ridgerenorm: another Snakemake process is running in this checkout (pid {holder.pid} on ")
        assert line.count("\n") == 0 and ": snakemake --cores 2); a run that builds the same files" in line, line
    finally:
        holder.kill()
        holder.wait()
    line = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True).stdout.strip()
    assert line == "None"
