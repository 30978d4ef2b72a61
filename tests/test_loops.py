"""run_every: a failing step never ends the loop and is logged once per window; a step that
says more is waiting runs again at once. cancel_all: tasks stopped and waited for."""

from __future__ import annotations

import asyncio
import logging

import pytest

from taskdash.domain.errors import StoreWriteError
from taskdash.log_limits import RepeatedLog, forget_all
from taskdash.loops import cancel_all, run_every

LONG_S = 3600.0  # an interval no test waits for


async def run_until(done: asyncio.Event, **loop: object) -> None:
    task = asyncio.create_task(run_every(**loop))  # type: ignore[arg-type]
    try:
        await asyncio.wait_for(done.wait(), 5)
    finally:
        await cancel_all([task])


async def test_failures_are_logged_once_and_the_loop_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    forget_all()
    done = asyncio.Event()
    calls = 0

    async def step() -> None:
        nonlocal calls
        calls += 1
        if calls == 5:
            done.set()
        raise StoreWriteError("disk full") if calls % 2 else ValueError("bug")

    log = RepeatedLog(logging.getLogger("tests.loops"))
    with caplog.at_level(logging.WARNING, logger="tests.loops"):
        await run_until(done, name="sweep", interval_s=0, step=step, log=log)
    forget_all()
    assert calls >= 5
    lines = [(r.levelname, r.getMessage(), bool(r.exc_info)) for r in caplog.records]
    assert lines == [
        ("WARNING", "sweep: disk full", False),
        ("ERROR", "sweep failed", True),
    ]


async def test_more_waiting_runs_again_without_the_interval() -> None:
    done = asyncio.Event()
    rounds = 0

    async def step() -> bool:
        nonlocal rounds
        rounds += 1
        if rounds == 3:
            done.set()
        return True

    log = RepeatedLog(logging.getLogger("tests.loops"))
    await run_until(done, name="drain", interval_s=LONG_S, step=step, log=log)
    assert rounds >= 3


async def test_cancel_all_stops_each_task_and_waits_for_its_cleanup() -> None:
    cleaned: list[int] = []

    async def worker(n: int) -> None:
        try:
            await asyncio.sleep(LONG_S)
        finally:
            await asyncio.sleep(0)  # cleanup that itself awaits
            cleaned.append(n)

    async def failing() -> None:
        raise RuntimeError("ended badly before the stop")

    tasks = [asyncio.create_task(worker(n)) for n in range(3)]
    tasks.append(asyncio.create_task(failing()))
    await asyncio.sleep(0)
    await cancel_all(tasks)
    assert sorted(cleaned) == [0, 1, 2]
    assert all(task.done() for task in tasks)
