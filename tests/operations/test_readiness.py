"""/readyz answers 503 while the store cannot write (a full disk), and 200 again after."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.operations.disks import fill, tmpfs
from tests.processes import ServeProcess, clean_env, serve_process
from tests.support import INGEST_TOKEN, task_body, wait_until

DISK_KB = 4096
# The probe writes every few seconds (taskdash.web.readiness.PROBE_INTERVAL_S).
NOTICED_WITHIN_S = 8.0


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MB tmpfs of this test's own, to be filled up."""
    with tmpfs(tmp_path / "disk", size_kb=DISK_KB) as disk:
        yield disk


def readiness(server: ServeProcess) -> httpx.Response:
    return httpx.get(f"{server.url}/readyz", timeout=10)


def test_readyz_is_503_while_a_full_disk_refuses_writes(small_disk: Path, tmp_path: Path) -> None:
    env = clean_env(
        TASKDASH_STORE_URL=f"sqlite:///{small_disk / 'taskdash.db'}",
        TASKDASH_INGEST_TOKEN=INGEST_TOKEN,
    )
    with serve_process(tmp_path, env=env) as server:
        wait_until(lambda: readiness(server).status_code == 200, timeout_s=10)
        filler = fill(small_disk)
        wait_until(lambda: readiness(server).status_code == 503, timeout_s=NOTICED_WITHIN_S)
        answer = readiness(server).json()
        assert answer["checks"]["store"].startswith("error: cannot write"), answer
        # What the probe says is what a write meets.
        ingest = httpx.post(
            f"{server.url}/pub?topic=taskRegister",
            json=task_body("t1"),
            headers={"Authorization": f"Bearer {INGEST_TOKEN}"},
            timeout=30,
        )
        assert ingest.status_code == 503, ingest.text

        filler.unlink()
        wait_until(lambda: readiness(server).status_code == 200, timeout_s=NOTICED_WITHIN_S)
