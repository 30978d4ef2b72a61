"""The one background loop: a step run every so often until cancelled, its failures logged."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from taskdash.domain.errors import TaskDashError
from taskdash.log_limits import RepeatedLog


async def run_every(
    *,
    name: str,
    interval_s: float,
    step: Callable[[], Awaitable[bool | None]],
    log: RepeatedLog,
    expected: tuple[type[Exception], ...] = (TaskDashError,),
) -> None:
    """Run `step`, then wait `interval_s`, until cancelled; a step that answers True (more is
    waiting) runs again at once. A failing step never ends the loop: an `expected` failure is
    a one-line warning, any other an error with its traceback, each logged once per window."""
    while True:
        more = False
        try:
            more = bool(await step())
        except expected as exc:
            log.warning(name, "%s: %s", name, exc)
        except Exception:
            log.error(f"{name} failed", "%s failed", name, exc_info=True)
        # Even with more waiting, the loop lets others run between two steps.
        await asyncio.sleep(0 if more else interval_s)


async def cancel_all(tasks: Iterable[asyncio.Task[Any]]) -> None:
    """Cancel `tasks` and wait until each has ended (what they raise on the way out is dropped)."""
    stopping = list(tasks)
    for task in stopping:
        task.cancel()
    await asyncio.gather(*stopping, return_exceptions=True)
