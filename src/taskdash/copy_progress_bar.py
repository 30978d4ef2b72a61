"""The progress of `taskdash store copy` on the terminal: a bar per collection."""

from __future__ import annotations

import time
from typing import TextIO

from taskdash.store.copy import CopyProgress

BAR_WIDTH = 30


class TextProgressBar:
    """A bar per collection with counts and rate: redrawn in place on a terminal, else a line
    every few seconds. Called with each CopyProgress the copy reports."""

    def __init__(self, stream: TextIO, *, interval_s: float | None = None) -> None:
        self._stream = stream
        self._live = stream.isatty()
        self._interval_s = interval_s if interval_s is not None else 0.1 if self._live else 5.0
        self._name = ""
        self._started = self._shown_at = 0.0

    def __call__(self, progress: CopyProgress) -> None:
        now = time.monotonic()
        if progress.name != self._name:
            self._name = progress.name
            self._started = self._shown_at = now
        if progress.finished:
            self._draw(progress, final=True)
        elif now - self._shown_at >= self._interval_s:
            self._shown_at = now
            self._draw(progress, final=False)

    def _draw(self, progress: CopyProgress, *, final: bool) -> None:
        done = progress.done
        elapsed_s = max(time.monotonic() - self._started, 1e-9)
        total = max(progress.total, done)  # a MongoDB count is an estimate
        filled = BAR_WIDTH if total == 0 else BAR_WIDTH * done // total
        line = (
            f"{self._name:<14}[{'#' * filled}{'-' * (BAR_WIDTH - filled)}]"
            f" {done:>10,}/{total:,} {done / elapsed_s:>9,.0f}/s {elapsed_s:6.1f} s"
        )
        if self._live:
            self._stream.write("\r" + line + ("\n" if final else ""))
        else:
            self._stream.write(line + "\n")
        self._stream.flush()
