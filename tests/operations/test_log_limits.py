"""A full disk under a running `taskdash serve` fed by nsqd: a handful of log lines, one of them
saying how often the failure repeated, and every message stored once the space returns."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from taskdash.log_limits import RepeatedLog, forget_all
from tests.operations.disks import fill, tmpfs
from tests.processes import clean_env, serve_process
from tests.servers import Nsqd
from tests.support import INGEST_TOKEN, task_body, wait_until

DISK_KB = 16_384
FULL_S = 40.0
# Few enough messages to fit in the 4 MB once the space returns; each is retried all along.
EVERY_S = 0.5
PER_ROUND = 2
# Once in full per kind of failure, then one summary per kind per 30 s.
MAX_LINES = 25
STORED_WITHIN_S = 20.0


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    """A tmpfs of this test's own, to be filled up (room for the WAL once space returns)."""
    with tmpfs(tmp_path / "disk", size_kb=DISK_KB) as path:
        yield path


def stored(db_path: Path) -> int:
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as db:
        return int(db.execute("SELECT count(*) FROM tasks").fetchone()[0])


def bodies(first: int, count: int) -> list[bytes]:
    return [json.dumps(task_body(f"{n:06d}")).encode() for n in range(first, first + count)]


def test_a_full_disk_is_logged_in_a_few_lines_and_loses_nothing(
    disk: Path,
    tmp_path: Path,
    nsqd: Nsqd,
) -> None:
    db_path = disk / "taskdash.db"
    env = clean_env(
        TASKDASH_STORE_URL=f"sqlite:///{db_path}",
        TASKDASH_NSQD_TCP_ADDRESSES=nsqd.tcp_address,
        TASKDASH_INGEST_TOKEN=INGEST_TOKEN,
    )
    with serve_process(tmp_path, env=env) as server:
        wait_until(lambda: httpx.get(f"{server.url}/readyz").status_code == 200)
        filler = fill(disk)
        before = len(server.log().splitlines())
        published = 0
        ingest_refused = 0
        deadline = time.monotonic() + FULL_S
        while time.monotonic() < deadline:
            nsqd.mpub("taskRegister", bodies(published, PER_ROUND))
            published += PER_ROUND
            answer = httpx.post(
                f"{server.url}/pub?topic=taskRegister",
                json=task_body(f"h{published:06d}"),
                headers={"Authorization": f"Bearer {INGEST_TOKEN}"},
                timeout=30,
            )
            ingest_refused += answer.status_code == 503
            time.sleep(EVERY_S)
        lines = server.log().splitlines()[before:]
        filler.unlink()
        wait_until(lambda: stored(db_path) >= published, timeout_s=STORED_WITHIN_S)
        print(f"lines logged during {FULL_S:.0f} s of full disk: {len(lines)}")
        print("\n".join(lines))
        assert ingest_refused > 0  # the disk was full indeed
        assert len(lines) <= MAX_LINES, "\n".join(lines)
        assert any("more in the last" in line for line in lines), "\n".join(lines)


def test_a_burst_is_one_line_and_a_summary_with_its_count() -> None:
    collect: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            collect.append(record.getMessage())

    logger = logging.getLogger("tests.burst")
    logger.addHandler(handler := Collect())
    logger.setLevel(logging.WARNING)
    repeated = RepeatedLog(logger, interval_s=0.2)

    async def burst() -> None:
        for n in range(627):
            repeated.warning("fin", "FIN failed: %d", n)
        await asyncio.sleep(0.5)  # the summary comes by itself, and the window closes
        repeated.warning("fin", "FIN failed again")

    try:
        forget_all()
        asyncio.run(burst())
    finally:
        logger.removeHandler(handler)
        forget_all()
    assert collect == [
        "FIN failed: 0",
        "… 626 more in the last 0 s (last: FIN failed: 626)",
        "FIN failed again",
    ]
