"""Ctrl-C during a run: one line, not a failure report, log and traceback per stopped job; the stopped job's own
command exits with one line; the same command then resumes and finishes.  And the summary every successful run
ends with."""

import os
import pty
import re
import select
import signal
import subprocess
import time
from pathlib import Path

import pytest

from clones import QUICK, checkout_copy, env_for
from snakemake_logger_plugin_ridgerenorm import INTERRUPTED

pytestmark = pytest.mark.pipeline
TARGET = "results/quick/simulation/d2_transition.nc"  # a spectrum, then a simulation job of several seconds (b3 blocks ended in 0.2 s, before the signal)


def wait_for_simulation(clone: Path, proc_alive, timeout=240.0):
    """Until a simulation job of the target is running its command (its log holds the job's first line, printed
    once the command has loaded and can report an interruption), plus a fifth of a second."""
    logs = clone / "results" / "quick" / "logs" / "simulate" / "d2_transition"
    t0 = time.time()
    while not (logs.is_dir() and any(p.stat().st_size > 0 for p in logs.iterdir())):
        assert proc_alive(), "snakemake ended before a simulation job started"
        assert time.time() - t0 < timeout
        time.sleep(0.05)
    time.sleep(0.2)


def stopped_job_logs(clone: Path) -> list[str]:
    logs = clone / "results" / "quick" / "logs" / "simulate" / "d2_transition"
    return [p.read_text() for p in sorted(logs.iterdir())]


def check_stopped(clone: Path, output: str, resume: bool = False):
    assert "Traceback" not in output and "RuleException" not in output and "Error in rule" not in output
    assert "Failed" not in output and "died with" not in output
    assert output.rstrip().splitlines()[-1].strip() == INTERRUPTED
    assert output.count(INTERRUPTED) == 1
    texts = stopped_job_logs(clone)
    assert any(t.rstrip().endswith("ridgerenorm simulate: interrupted") for t in texts), texts
    assert not any("Traceback" in t for t in texts)
    assert not (clone / TARGET).exists()
    if not resume:
        return
    res = subprocess.run(["snakemake", "--cores", "2", *QUICK, "--", TARGET], cwd=clone, env=env_for(clone),
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-3000:]
    assert (clone / TARGET).is_file()
    assert "d2_transition" in res.stderr and "spectrum" not in res.stderr.split("Job stats:")[1].split("\n\n")[0]
    # the run ends with its summary (the Snakefile's onsuccess): no figure yet, and how to build the report
    assert "figures: none in results/quick/figures/ yet" in res.stderr
    assert "report: snakemake --report report.html --configfile config/quick.yaml" in res.stderr


def test_ctrl_c_off_a_terminal_prints_one_line(tmp_path):
    clone = checkout_copy(tmp_path)
    proc = subprocess.Popen(["snakemake", "--cores", "2", *QUICK, "--", TARGET], cwd=clone, env=env_for(clone),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    wait_for_simulation(clone, lambda: proc.poll() is None)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal sends: the whole foreground group
    output, _ = proc.communicate(timeout=120)
    assert proc.returncode != 0
    check_stopped(clone, output, resume=True)


def test_ctrl_c_in_the_live_display_prints_one_line(tmp_path):
    clone = checkout_copy(tmp_path)
    pid, fd = pty.fork()
    if pid == 0:  # the child: snakemake in a terminal, so the live display is on
        os.chdir(clone)
        os.environ.update(env_for(clone))
        os.execvp("snakemake", ["snakemake", "--cores", "2", *QUICK, "--", TARGET])
    chunks = []

    def drain(seconds):
        end = time.time() + seconds
        while time.time() < end:
            ready, _, _ = select.select([fd], [], [], 0.1)
            if ready:
                try:
                    data = os.read(fd, 65536)
                except OSError:
                    return False
                if not data:
                    return False
                chunks.append(data)
        return True

    def alive():
        return drain(0.05) and os.waitpid(pid, os.WNOHANG) == (0, 0)

    wait_for_simulation(clone, alive)
    os.write(fd, b"\x03")  # Ctrl-C typed at the terminal
    while drain(1.0):
        pass
    os.waitpid(pid, 0)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", b"".join(chunks).decode(errors="replace"))
    assert "Total Progress" in text  # the live display was on
    after = text[text.index("^C"):] if "^C" in text else text
    # after Ctrl-C: at most the live panel's last redraw (erased in a real terminal), then the one line
    words = [line for line in after.replace("\r", "\n").splitlines() if line.strip() and not line.startswith(("│", "╭", "╰"))]
    assert [w.strip() for w in words[1:]] == [INTERRUPTED], words
    check_stopped(clone, text)


def test_a_job_stopped_by_the_same_ctrl_c_before_snakemakes_own_line_is_the_interrupt():
    """The race the pipeline tests above can lose under load: the job's command ends (status 130) and
    Snakemake reports its failure before its main thread has handled the KeyboardInterrupt.  With a SIGINT
    received, that report becomes the one line and everything after it goes; without one (a job stopped by a
    signal sent to it alone), it is reported as the failure it is."""
    import logging

    import snakemake_logger_plugin_ridgerenorm as plugin

    def record(msg, event=None):
        rec = logging.LogRecord("snakemake.logging", logging.ERROR, __file__, 1, msg, (), None)
        if event is not None:
            rec.event = event
        return rec

    failure = ("RuleException:\nCalledProcessError in file workflow/rules/experiments.smk, line 47:\n"
               "Command 'set -euo pipefail; ridgerenorm simulate ...' returned non-zero exit status 130.")
    plugin.SIGINT_RECEIVED.clear()
    alone = plugin.InterruptFilter()
    t0 = time.monotonic()
    rec = record(failure, event="error")
    assert alone.filter(rec) and rec.msg == failure  # no SIGINT here: the failure is reported as it is
    assert 0.9 < time.monotonic() - t0 < 5.0  # after waiting its second for a handler that never ran
    assert alone.filter(record("Error in rule simulate:", event="job_error"))

    plugin.SIGINT_RECEIVED.set()
    try:
        raced = plugin.InterruptFilter()
        rec = record(failure, event="error")
        assert raced.filter(rec) and rec.msg == INTERRUPTED
        assert not raced.filter(record("Error in rule simulate:", event="job_error"))
        assert not raced.filter(record(plugin.TERMINATING))  # Snakemake's own line, later: dropped too
    finally:
        plugin.SIGINT_RECEIVED.clear()


def test_note_sigint_marks_the_signal_and_keeps_the_keyboard_interrupt():
    import snakemake_logger_plugin_ridgerenorm as plugin

    previous = signal.getsignal(signal.SIGINT)
    plugin.SIGINT_RECEIVED.clear()
    try:
        plugin.note_sigint()
        plugin.note_sigint()  # once: the second call sees its own handler
        handler = signal.getsignal(signal.SIGINT)
        assert getattr(handler, "notes_sigint", False)
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(1.0)  # the handler runs at the next bytecode boundary
        assert plugin.SIGINT_RECEIVED.is_set()
    finally:
        signal.signal(signal.SIGINT, previous)
        plugin.SIGINT_RECEIVED.clear()
