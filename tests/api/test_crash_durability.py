"""`kill -9` during /mpub: every batch answered OK is stored once after a restart."""

from __future__ import annotations

import itertools
import json
import sqlite3
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

from tests.processes import clean_env, serve_process
from tests.support import INGEST_TOKEN, task_body, wait_until

BATCH_SIZE = 50
STREAMS = 4
ACKED_BEFORE_KILL = 30


def batch_body(batch: int) -> bytes:
    return b"\n".join(
        json.dumps(task_body(f"b{batch:05d}-m{item:02d}", created=batch)).encode()
        for item in range(BATCH_SIZE)
    )


class Publisher:
    """STREAMS threads posting numbered /mpub batches until the server stops answering."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.acked: list[int] = []
        self.unanswered: list[int] = []
        self.refused: list[tuple[int, int, str]] = []
        self._numbers = itertools.count()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._stream) for _ in range(STREAMS)]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def join(self) -> None:
        for thread in self._threads:
            thread.join(timeout=30)
        assert not any(thread.is_alive() for thread in self._threads), "a publisher hung"

    def _stream(self) -> None:
        headers = {"Authorization": f"Bearer {INGEST_TOKEN}"}
        with httpx.Client(base_url=self.url, timeout=20) as client:
            while True:
                with self._lock:
                    batch = next(self._numbers)
                try:
                    answer = client.post(
                        "/mpub?topic=taskRegister", content=batch_body(batch), headers=headers
                    )
                except httpx.TransportError:
                    with self._lock:
                        self.unanswered.append(batch)
                    return
                with self._lock:
                    if (answer.status_code, answer.text) == (200, "OK"):
                        self.acked.append(batch)
                    else:
                        self.refused.append((batch, answer.status_code, answer.text))


def stored_task_ids(db_path: Path) -> Counter[str]:
    """TaskID -> rows holding it, read straight from the SQLite file."""
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT task_id FROM tasks").fetchall()
    conn.close()
    return Counter(row[0] for row in rows)


def created_twice(db_path: Path) -> list[tuple[str, int]]:
    """Tasks whose history shows more than one creation."""
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as conn:
        rows = conn.execute(
            "SELECT task_id, count(*) FROM task_events WHERE action = 'create'"
            " GROUP BY task_id HAVING count(*) > 1"
        ).fetchall()
    conn.close()
    return [(row[0], row[1]) for row in rows]


def test_acked_batches_survive_kill_9(tmp_path: Path) -> None:
    db_path = tmp_path / "taskdash.db"
    store_url = f"sqlite:///{db_path}"
    env = clean_env(TASKDASH_INGEST_TOKEN=INGEST_TOKEN, TASKDASH_LOG_LEVEL="WARNING")

    with serve_process(tmp_path, store_url=store_url, env=env, name="before-crash") as server:
        publisher = Publisher(server.url)
        started = time.perf_counter()
        publisher.start()
        try:
            wait_until(lambda: len(publisher.acked) >= ACKED_BEFORE_KILL, timeout_s=60)
        finally:
            server.kill()  # SIGKILL while the streams still have batches in flight
            publisher.join()
        killed_after_s = time.perf_counter() - started

    assert not publisher.refused, publisher.refused[:3]
    assert publisher.unanswered, "no request was in flight at the kill"
    acked = sorted(publisher.acked)

    with serve_process(tmp_path, store_url=store_url, env=env, name="after-crash") as server:
        ready = httpx.get(f"{server.url}/readyz", timeout=10)
        assert ready.status_code == 200, ready.text
        counts = stored_task_ids(db_path)
        twice = {task_id: n for task_id, n in counts.items() if n != 1}
        assert not twice, twice
        assert not created_twice(db_path)
        missing = [
            f"b{batch:05d}-m{item:02d}"
            for batch in acked
            for item in range(BATCH_SIZE)
            if f"b{batch:05d}-m{item:02d}" not in counts
        ]
        assert not missing, f"{len(missing)} acked messages lost, e.g. {missing[:5]}"
        # The restarted server takes new batches on the recovered file.
        answer = httpx.post(
            f"{server.url}/mpub?topic=taskRegister",
            content=batch_body(999_999),
            headers={"Authorization": f"Bearer {INGEST_TOKEN}"},
            timeout=20,
        )
        assert answer.text == "OK"
        assert len(stored_task_ids(db_path)) == len(counts) + BATCH_SIZE

    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    partial = {
        batch: n
        for batch, n in Counter(task_id.split("-")[0] for task_id in counts).items()
        if n != BATCH_SIZE
    }
    print(
        f"\nkill -9 after {killed_after_s:.2f} s: {len(acked)} batches of {BATCH_SIZE} acked,"
        f" {len(publisher.unanswered)} unanswered; {len(counts)} tasks stored"
        f" ({len(counts) - len(acked) * BATCH_SIZE} from unanswered batches,"
        f" partially stored batches: {partial or 'none'})"
    )
