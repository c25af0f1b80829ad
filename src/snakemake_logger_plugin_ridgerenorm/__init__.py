"""Live progress for ridgerenorm's workflow: Snakemake's rich progress display (snakemake-logger-plugin-rich)
with an estimated time to the end of the whole run.

    snakemake --cores all --logger ridgerenorm        (profiles/default sets it)

In a terminal it shows a bar per rule and one for the whole run: jobs done, jobs running, elapsed time and
the ETA.  The ETA extrapolates the run's own pace (elapsed time per finished job, over the whole run), so it
firms up once the first simulations have finished; `ridgerenorm plan`, printed at the start, gives the
flop-count estimate per experiment.  When standard error is not a terminal (CI logs, pipes, tests) or in a
dry run, the handler stands aside and Snakemake prints its usual plain text, unchanged.

Ctrl-C, in either mode, prints one line (INTERRUPTED) instead of a failure report, log and traceback per
stopped job: a filter on Snakemake's logger (InterruptFilter) rewrites Snakemake's "Terminating processes"
line and drops every record after it; the stopped jobs' own `ridgerenorm` commands exit with one line too.
The same Ctrl-C also reaches the jobs, and a job can end (status 130) before Snakemake's main thread has
handled it: the failure Snakemake then reports for that job comes before its own line.  The filter counts
such a report as the interrupt when this process did receive a SIGINT (note_sigint marks it; the filter,
running on the job's thread, waits up to a second for the main thread to run the signal handler).
"""

from __future__ import annotations

import logging
import signal
import sys
import threading

from rich.progress import ProgressColumn
from rich.text import Text
from snakemake_logger_plugin_rich import LogHandler as RichLogHandler

__all__ = ["LogHandler", "RunETA", "InterruptFilter", "INTERRUPTED", "note_sigint"]

TOTAL = "Total Progress"  # the rich plugin's name for the whole-run bar
TERMINATING = "Terminating processes on user request"  # Snakemake's line on Ctrl-C
# how Snakemake reports a job whose command a SIGINT stopped (our commands exit 130 on it)
STOPPED_BY_SIGINT = ("returned non-zero exit status 130", "died with <Signals.SIGINT")
SIGINT_RECEIVED = threading.Event()  # set by note_sigint's handler
INTERRUPTED = ("Interrupted: the running jobs were stopped and their partial outputs removed; every finished "
               "result is kept, so the same command resumes from there.")


class InterruptFilter(logging.Filter):
    """On Snakemake's logger: its Ctrl-C line becomes INTERRUPTED and every record after it is dropped (each
    stopped job would otherwise report its failure, its log and its command's traceback)."""

    def __init__(self):
        super().__init__()
        self.interrupted = False

    def filter(self, record) -> bool:
        if self.interrupted:
            return False
        message = str(record.msg)
        ours = getattr(record, "event", None) is None and message.startswith(TERMINATING)
        if ours or (any(s in message for s in STOPPED_BY_SIGINT) and SIGINT_RECEIVED.wait(1.0)):
            self.interrupted = True
            record.msg, record.args = INTERRUPTED, ()
        return True


def note_sigint() -> None:
    """Wrap this process's SIGINT handler so that SIGINT_RECEIVED is set before the previous handler runs
    (Snakemake's KeyboardInterrupt).  Only from the main thread, once, and only over a Python handler."""
    previous = signal.getsignal(signal.SIGINT)
    if not callable(previous) or getattr(previous, "notes_sigint", False):
        return

    def handler(signum, frame):
        SIGINT_RECEIVED.set()
        return previous(signum, frame)

    handler.notes_sigint = True
    try:
        signal.signal(signal.SIGINT, handler)
    except ValueError:  # not the main thread: no handler can be set here
        pass


def install_interrupt_filter(logger=None) -> InterruptFilter:
    """The InterruptFilter of Snakemake's logger, added once."""
    logger = logger or logging.getLogger("snakemake.logging")
    for f in logger.filters:
        if isinstance(f, InterruptFilter):
            return f
    f = InterruptFilter()
    logger.addFilter(f)
    return f


class RunETA(ProgressColumn):
    """Time left for the whole-run bar: elapsed x (jobs left / jobs done); blank on the per-rule bars."""

    def render(self, task) -> Text:
        if task.description != TOTAL:
            return Text("")
        done, total, elapsed = task.completed, task.total, task.elapsed
        if not total or not elapsed or done <= 0:
            return Text("ETA --:--", style="progress.remaining")
        left = elapsed * max(total - done, 0.0) / done
        hours, rest = divmod(int(round(left)), 3600)
        return Text(f"ETA {hours}:{rest // 60:02d}:{rest % 60:02d}", style="progress.remaining")


class LogHandler(RichLogHandler):
    def __post_init__(self) -> None:
        install_interrupt_filter()
        note_sigint()
        self.live = bool(sys.stderr.isatty()) and not getattr(self.common_settings, "dryrun", False)
        if self.live:
            super().__post_init__()
            self.progress.columns = (*self.progress.columns, RunETA())
        else:
            logging.Handler.__init__(self)  # a plain, silent handler (Snakemake may still attach its filter)

    def emit(self, record):
        if not self.live:
            return None
        if record.msg == INTERRUPTED:  # the live display goes (it is transient) and the one line stays
            self.progress.stop()
            self.live_display.stop()
            self.console.print(INTERRUPTED, style="yellow", soft_wrap=True, highlight=False)
            return None
        return super().emit(record)

    def close(self):
        if self.live:
            return super().close()
        return logging.Handler.close(self)

    @property
    def writes_to_stream(self) -> bool:
        # False hands the terminal back to Snakemake's default text handler
        return self.live

    @property
    def has_filter(self) -> bool:
        return self.live

    @property
    def has_formatter(self) -> bool:
        return self.live
