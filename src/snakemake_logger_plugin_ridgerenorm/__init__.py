"""Live progress for ridgerenorm's workflow: Snakemake's rich progress display (snakemake-logger-plugin-rich)
with an estimated time to the end of the whole run.

    snakemake --cores all --logger ridgerenorm        (profiles/default sets it)

In a terminal it shows a bar per rule and one for the whole run: jobs done, jobs running, elapsed time and
the ETA.  The ETA extrapolates the run's own pace (elapsed time per finished job, over the whole run), so it
firms up once the first simulations have finished; `ridgerenorm plan`, printed at the start, gives the
flop-count estimate per experiment.  When standard error is not a terminal (CI logs, pipes, tests) or in a
dry run, the handler stands aside and Snakemake prints its usual plain text, unchanged.
"""

from __future__ import annotations

import logging
import sys

from rich.progress import ProgressColumn
from rich.text import Text
from snakemake_logger_plugin_rich import LogHandler as RichLogHandler

__all__ = ["LogHandler", "RunETA"]

TOTAL = "Total Progress"  # the rich plugin's name for the whole-run bar


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
        self.live = bool(sys.stderr.isatty()) and not getattr(self.common_settings, "dryrun", False)
        if self.live:
            super().__post_init__()
            self.progress.columns = (*self.progress.columns, RunETA())
        else:
            logging.Handler.__init__(self)  # a plain, silent handler (Snakemake may still attach its filter)

    def emit(self, record):
        if self.live:
            return super().emit(record)
        return None

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
