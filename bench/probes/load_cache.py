"""Probe: does the 1 M load slow down because the indexes outgrow SQLite's page cache?

Loads 0..N tasks through the store's ingest path (as bench/list_page.py does) twice into fresh
files: with TaskDash's pragmas, then with `PRAGMA cache_size` set to CACHE_MB on every
connection; prints each load's rate over the last 90 % of the tasks and its process's peak RSS.
Not a benchmark (the store's settings are changed in process). Run:
.venv/bin/python bench/probes/load_cache.py [N] [CACHE_MB]
"""

from __future__ import annotations

import multiprocessing
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import load, peak_rss_mb

from taskdash.store.sqlite import db


def run(path: str, size: int, cache_mb: int, queue: multiprocessing.Queue[str]) -> None:
    if cache_mb:
        connect = db.connect

        def with_cache(*args: object, **kwargs: object) -> object:
            conn = connect(*args, **kwargs)  # type: ignore[arg-type]
            conn.execute(f"PRAGMA cache_size=-{cache_mb * 1024}")
            return conn

        db.connect = with_cache  # type: ignore[assignment]
    url = f"sqlite:///{path}"
    first = size // 10
    load(url, 0, first)
    began = time.perf_counter()
    load(url, first, size)
    rate = (size - first) / (time.perf_counter() - began)
    rss = peak_rss_mb(multiprocessing.current_process().pid or 0)
    cache = f"{cache_mb} MB" if cache_mb else "default"
    queue.put(f"cache {cache}: {rate:,.0f} tasks/s over {first:,}..{size:,}; peak RSS {rss:.0f} MB")


def main() -> None:
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    cache_mb = int(sys.argv[2]) if len(sys.argv) > 2 else 256
    queue: multiprocessing.Queue[str] = multiprocessing.Queue()
    with tempfile.TemporaryDirectory() as tmp:
        for n, cache in enumerate((0, cache_mb)):
            proc = multiprocessing.Process(target=run, args=(f"{tmp}/{n}.db", size, cache, queue))
            proc.start()
            proc.join()
            print(queue.get(), flush=True)


if __name__ == "__main__":
    main()
