"""The warm worker of a local run (ridgerenorm/worker.py): a job it serves writes, prints and exits exactly as its
own process would; signals reach the job; a job it cannot serve exactly runs in its own process."""

import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from ridgerenorm import io, worker

# the console script, as a Snakemake job runs it (python -m would load cli.py as __main__, not ridgerenorm.cli)
CLI = [shutil.which("ridgerenorm") or "ridgerenorm"]
SPEC = {"name": "w", "D": 60, "model": "linear_ridge", "spectrum": {"kind": "power_law", "D": 60, "alpha": 1.5},
        "teacher": {"kind": "power_law", "r": 0.4}, "ridge": 1e-3, "sigma_eps": 0.3, "samples": [0.25, 1.0, 3.0],
        "theory_samples": {"logspace": [-1, 1, 9]}, "seed": 7, "draws": 6}
# a simulation of several seconds, to stop while it runs
LONG = dict(SPEC, D=1500, spectrum={"kind": "power_law", "D": 1500, "alpha": 1.5},
            samples={"logspace": [-1, 0.6, 40]}, draws=400)


@pytest.fixture
def served(tmp_path, monkeypatch):
    """A worker of this test process: (socket path, its log).  Started without PYTEST_CURRENT_TEST, which pytest
    changes between a test's phases, and the jobs run without it too."""
    monkeypatch.delenv("PYTEST_CURRENT_TEST", raising=False)
    path = worker.start(tmp_path / "logs")
    assert path, (tmp_path / "logs" / "worker.log").read_text()
    pid = int((Path(path).parent / "ready").read_text())
    yield path, tmp_path / "logs" / "worker.log"
    os.kill(pid, signal.SIGTERM)
    end = time.time() + 10
    while Path(path).parent.exists() and time.time() < end:
        time.sleep(0.05)
    assert not Path(path).parent.exists(), "the worker left its folder behind"


def run(args, cwd, sock, **env):
    full = {k: v for k, v in os.environ.items() if k not in (worker.ENV, "PYTEST_CURRENT_TEST")}
    full.update({worker.ENV: sock}, **env)
    return subprocess.run(CLI + args, cwd=cwd, env=full, capture_output=True, text=True)


def log_lines(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.is_file() else []


def same_variables(a: Path, b: Path):
    da, db = io.read_dataset(a), io.read_dataset(b)
    assert sorted(da.variables) == sorted(db.variables)
    for name in da.variables:
        x, y = da[name].values, db[name].values
        assert x.dtype == y.dtype and x.shape == y.shape, name
        assert x.tobytes() == y.tobytes(), f"{a.name}: {name} differs"


def steps(spec, draws="0:6"):
    s = json.dumps(spec)
    return [["spectrum", "--spec", s, "--out", "s.nc"],
            ["theory", "--spec", s, "--spectrum", "s.nc", "--out", "t.nc"],
            ["simulate", "--spec", s, "--spectrum", "s.nc", "--draws", draws, "--threads", "2", "--out", "b.nc"]]


def test_served_steps_write_the_bits_and_words_of_their_own_process(served, tmp_path):
    sock, log = served
    own, warm = tmp_path / "own", tmp_path / "warm"
    for folder, where in ((own, "0"), (warm, sock)):
        folder.mkdir()
        for args in steps(SPEC):
            res = run(args, folder, where, OPENBLAS_NUM_THREADS="2")
            assert res.returncode == 0, res.stderr
    for name in ("s.nc", "t.nc", "b.nc"):
        same_variables(own / name, warm / name)
        rec_own, rec_warm = io.read_dataset(own / name).attrs, io.read_dataset(warm / name).attrs
        # the record names the same command and the same package modules as a fresh process
        assert rec_own["command"] == rec_warm["command"]
        mods_own, mods_warm = json.loads(rec_own["package_modules"]), json.loads(rec_warm["package_modules"])
        assert sorted(set(mods_own) ^ set(mods_warm)) == [] and mods_own == mods_warm
    served_lines = [line for line in log_lines(log) if re.search(r": exit 0 in [0-9.]+ s$", line)]
    assert [line.split()[1] for line in served_lines] == ["spectrum:", "theory:", "simulate:"], log_lines(log)


@pytest.mark.parametrize("args", [
    ["spectrum", "--spec", "{not json", "--out", "x.nc"],  # a bad input: one line, exit 2
    ["figure", "--spec", "{}"],  # argparse: usage and exit 2
    ["--version"],
    ["theory", "--spec", json.dumps(SPEC), "--spectrum", "missing.nc", "--out", "t.nc"],
])
def test_served_bad_inputs_say_and_exit_the_same(served, tmp_path, args):
    sock, log = served
    own, warm = run(args, tmp_path, "0"), run(args, tmp_path, sock)
    assert (warm.returncode, warm.stdout, warm.stderr) == (own.returncode, own.stdout, own.stderr)
    assert len([line for line in log_lines(log) if " exit " in line]) == 1, log_lines(log)


def start_long(tmp_path, sock):
    assert run(steps(LONG)[0], tmp_path, sock).returncode == 0
    full = {k: v for k, v in os.environ.items() if k not in (worker.ENV, "PYTEST_CURRENT_TEST")}
    full[worker.ENV] = sock
    proc = subprocess.Popen(CLI + steps(LONG, "0:400")[2], cwd=tmp_path, env=full, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    time.sleep(2.5)  # well into the draws
    assert proc.poll() is None, proc.communicate()
    return proc


def test_ctrl_c_reaches_a_served_job(served, tmp_path):
    sock, log = served
    proc = start_long(tmp_path, sock)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and err.strip().endswith("ridgerenorm simulate: interrupted"), err
    assert not (tmp_path / "b.nc").exists()
    assert any(re.search(r"simulate: exit 130 in", line) for line in log_lines(log)), log_lines(log)


def test_ctrl_c_before_the_worker_answers_is_one_clean_stop(tmp_path):
    """A signal that comes while the job's process waits for the worker's answer is held, then acted on: here the
    worker never answers, so the job stops with its one line, no traceback, and does not run."""
    import socket
    import struct

    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(tmp_path / "s"))
    listener.listen(1)
    env = {k: v for k, v in os.environ.items() if k not in (worker.ENV, "PYTEST_CURRENT_TEST")}
    env[worker.ENV] = str(tmp_path / "s")
    proc = subprocess.Popen(CLI + ["spectrum", "--spec", json.dumps(SPEC), "--out", "s.nc"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    conn, _ = listener.accept()
    head, fds, _, _ = socket.recv_fds(conn, 4, 3)
    for fd in fds:
        os.close(fd)
    size, body = struct.unpack("!I", head)[0], b""
    while len(body) < size:
        body += conn.recv(size - len(body))
    assert json.loads(body)["argv"][1] == "spectrum"  # the request is whole: the process now waits for the answer
    proc.send_signal(signal.SIGINT)
    time.sleep(0.5)
    conn.close()
    listener.close()
    out, err = proc.communicate(timeout=60)
    assert (proc.returncode, err) == (130, "ridgerenorm spectrum: interrupted\n"), err
    assert not (tmp_path / "s.nc").exists()


def test_a_killed_job_process_takes_its_served_job_with_it(served, tmp_path):
    sock, log = served
    proc = start_long(tmp_path, sock)
    proc.kill()
    proc.wait()
    end = time.time() + 10
    while not any("simulate: exit -9" in line for line in log_lines(log)) and time.time() < end:
        time.sleep(0.05)
    assert any("simulate: exit -9" in line for line in log_lines(log)), log_lines(log)
    assert not (tmp_path / "b.nc").exists()


def test_a_job_the_worker_cannot_serve_exactly_runs_in_its_own_process(served, tmp_path):
    sock, log = served
    # a variable a library reads as it loads (the BLAS kernel) differs: the worker cannot honour it
    res = run(["spectrum", "--spec", json.dumps(SPEC), "--out", "s.nc"], tmp_path, sock,
              OPENBLAS_CORETYPE="Haswell" if os.environ.get("OPENBLAS_CORETYPE") != "Haswell" else "Zen")
    assert res.returncode == 0 and (tmp_path / "s.nc").is_file(), res.stderr
    assert any("spectrum: run in its own process (environment variable OPENBLAS_CORETYPE differs" in line
               for line in log_lines(log)), log_lines(log)
    # a package file the worker has loaded changes (its time stamp, here): every later job runs on its own
    init = Path(worker.__file__)
    st = init.stat()
    try:
        os.utime(init, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
        res = run(["spectrum", "--spec", json.dumps(SPEC), "--out", "s2.nc"], tmp_path, sock)
    finally:
        os.utime(init, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert res.returncode == 0 and (tmp_path / "s2.nc").is_file(), res.stderr
    assert "the package's files changed since the worker started" in log_lines(log)[-1], log_lines(log)
    same_variables(tmp_path / "s.nc", tmp_path / "s2.nc")
    # no worker at the path: the job runs in its own process, without a word
    res = run(["spectrum", "--spec", json.dumps(SPEC), "--out", "s3.nc"], tmp_path, str(tmp_path / "no-socket"))
    assert res.returncode == 0 and res.stderr == "" and (tmp_path / "s3.nc").is_file()


def test_a_local_run_serves_every_job_from_its_worker(quick):
    """The quick fixture's runs (Snakemake, local): their jobs were forked from the worker, none refused."""
    results, _ = quick
    lines = log_lines(results / "logs" / "worker.log")
    ends = [re.search(r"(\d+) jobs served, (\d+) run in their own", line) for line in lines if "worker ends:" in line]
    assert ends, lines[-20:]
    assert sum(int(m[1]) for m in ends) >= 100  # the quick scale from empty is some 160 jobs
    assert sum(int(m[2]) for m in ends) == 0, [line for line in lines if "own process" in line][:5]
