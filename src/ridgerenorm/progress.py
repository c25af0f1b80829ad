"""Progress lines of a long simulation, written to the rule's log: steps done, elapsed and remaining time."""

from __future__ import annotations

import sys
import time

__all__ = ["Progress"]


class Progress:
    """Writes 'done/total, elapsed, remaining' lines to a stream (the rule's log).  A simulation that
    splits its work further (feature groups) sets `total` itself."""

    def __init__(self, total: int, label: str, stream=sys.stderr):
        self.total, self.label, self.stream = total, label, stream
        self.start = time.perf_counter()

    def update(self, done: int) -> None:
        elapsed = time.perf_counter() - self.start
        remaining = elapsed / done * (self.total - done) if done else float("nan")
        print(
            f"[{self.label}] draws {done}/{self.total}  elapsed {elapsed:7.1f} s  remaining ~{remaining:7.1f} s",
            file=self.stream,
            flush=True,
        )
