"""Repeated failures logged once, then summarised: "… 11,972 more in the last 40 s".

A failure that can repeat per message, batch or request (a full disk, a store that is away, a
closed nsqd connection) is logged in full the first time; its repeats are counted, and one
summary line per interval says how many there were. Keyed by (logger, kind), process-wide.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

SUMMARY_INTERVAL_S = 30.0
SUMMARY = "… %s more in the last %.0f s (last: %s)"


@dataclass
class _Window:
    started: float  # monotonic time of the line that opened this window
    repeats: int = 0
    message: str = ""  # the last repeat's text, shown in the summary
    level: int = logging.WARNING
    flush_scheduled: bool = False


_windows: dict[tuple[str, str], _Window] = {}
_lock = threading.Lock()


class RepeatedLog:
    """Logs a kind of failure once per interval, and how often it repeated meanwhile."""

    def __init__(self, logger: logging.Logger, *, interval_s: float = SUMMARY_INTERVAL_S) -> None:
        self._logger = logger
        self._interval_s = interval_s

    def warning(self, kind: str, msg: str, *args: Any, exc_info: Any = None) -> None:
        self.log(logging.WARNING, kind, msg, *args, exc_info=exc_info)

    def error(self, kind: str, msg: str, *args: Any, exc_info: Any = None) -> None:
        self.log(logging.ERROR, kind, msg, *args, exc_info=exc_info)

    def log(self, level: int, kind: str, msg: str, *args: Any, exc_info: Any = None) -> None:
        """The first of a window in full; a repeat is only counted (summarised later)."""
        if not self._logger.isEnabledFor(level):
            return
        key = (self._logger.name, kind)
        now = time.monotonic()
        with _lock:
            window = _windows.get(key)
            if window is not None and now - window.started < self._interval_s:
                window.repeats += 1
                window.level = level
                window.message = _text(msg, args)
                schedule, window.flush_scheduled = not window.flush_scheduled, True
            else:
                if window is not None and window.repeats:  # still failing: this one is counted
                    window.repeats += 1
                    window.message = _text(msg, args)
                summary = self._close(key, now)
                _windows[key] = _Window(started=now)
                window = None
        if window is not None:
            if schedule:
                self._schedule_flush(key, window)
            return
        if summary:
            self._logger.log(*summary)
        else:
            self._logger.log(level, msg, *args, exc_info=exc_info)

    def _close(self, key: tuple[str, str], now: float) -> tuple[Any, ...] | None:
        """The summary of the window of `key`, if it counted repeats (caller holds the lock)."""
        window = _windows.pop(key, None)
        if window is None or not window.repeats:
            return None
        return (
            window.level,
            SUMMARY,
            f"{window.repeats:,}",
            now - window.started,
            window.message,
        )

    def _schedule_flush(self, key: tuple[str, str], window: _Window) -> None:
        # Without this, the count of a burst that stopped would wait for the next occurrence.
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        loop.call_later(
            window.started + self._interval_s - time.monotonic(), self.flush, key, window
        )

    def flush(self, key: tuple[str, str], window: _Window) -> None:
        """Log the summary of `window`'s repeats and count on; a quiet window closes."""
        now = time.monotonic()
        with _lock:
            if _windows.get(key) is not window:
                return  # already closed by a line logged in full
            summary = self._close(key, now)
            if summary is not None:  # still failing: the next summary comes one interval later
                window = _windows[key] = _Window(started=now, flush_scheduled=True)
        if summary is not None:
            self._logger.log(*summary)
            self._schedule_flush(key, window)


class RepeatedRecords(logging.Filter):
    """The same for a library's own records: repeats of one message template are summarised."""

    def __init__(self, *, level: int = logging.WARNING, interval_s: float = SUMMARY_INTERVAL_S):
        super().__init__()
        self._level = level
        self._interval_s = interval_s
        self._passing = threading.local()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < self._level or record.msg == SUMMARY or self._passing.__dict__:
            return True
        self._passing.on = True
        try:
            # The template is the kind: "[%s:%s] ERROR: %r" for every FIN that failed.
            RepeatedLog(logging.getLogger(record.name), interval_s=self._interval_s).log(
                record.levelno,
                str(record.msg),
                str(record.msg),
                *_args(record),
                exc_info=record.exc_info,
            )
        finally:
            del self._passing.on
        return False


def _args(record: logging.LogRecord) -> tuple[Any, ...]:
    if isinstance(record.args, tuple):
        return record.args
    return () if record.args is None else (record.args,)


def _text(msg: str, args: tuple[Any, ...]) -> str:
    try:
        return msg % args if args else msg
    except (TypeError, ValueError):
        return msg


def forget_all() -> None:
    """Start every kind over, as in a new process (each test needs its first lines in full)."""
    with _lock:
        _windows.clear()
