"""Shared pieces of the benchmarks: medians, ratios, one line per figure, servers, loading.

Every figure is printed as one line, `name: value unit (ratio X.XX vs BASELINE)`, next to a
baseline measured in the same run (`bench/run.py` collects these lines into RESULTS.md).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from loadgen import Connection  # noqa: E402
from tests.ferretdb import FerretDb  # noqa: E402
from tests.processes import START_TIMEOUT_S, ServeProcess, clean_env, serve_process  # noqa: E402
from tests.support import PASSWORD, free_port, task_body, wait_until  # noqa: E402

from taskdash.domain.events import parse_task_message  # noqa: E402
from taskdash.domain.ports import TaskMessageEnvelope  # noqa: E402
from taskdash.store import open_store  # noqa: E402

LOAD_BATCH = 5000
LOAD_TIMEOUT_MS = 300_000


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def percentile(values: Sequence[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def report(name: str, value: float, unit: str, ratio: float, baseline: str) -> None:
    """The one line each figure gets: `name: value unit (ratio X.XX vs BASELINE)`."""
    print(f"{name}: {value:,.2f} {unit} (ratio {ratio:.2f} vs {baseline})", flush=True)


def note(text: str) -> None:
    """A line of context (not a figure): printed with a leading `#`."""
    print(f"# {text}", flush=True)


def quick_flag() -> bool:
    """`--quick` on the command line (or QUICK=1 in the environment): the short variant."""
    return "--quick" in sys.argv[1:] or os.environ.get("QUICK", "") not in ("", "0")


def task_envelopes(start: int, stop: int) -> list[TaskMessageEnvelope]:
    """taskRegister messages n = start..stop-1, parsed as the consumer parses them."""
    now_ns = time.time_ns()
    return [
        TaskMessageEnvelope(
            kind="register",
            message=parse_task_message(
                json.dumps(
                    task_body(
                        f"{n:07d}",
                        created=1_600_000_000 + n,
                        task_type=("satEdit", "vidEdit")[n % 2],
                        project=f"p{n % 7}",
                    )
                ).encode()
            ),
            ts_ns=now_ns,
        )
        for n in range(start, stop)
    ]


async def load_tasks(store_url: str, start: int, stop: int) -> float:
    """Store tasks start..stop-1 through the store's own ingest path; returns seconds taken.

    (Parsing the next batch while the last one is written was tried: no gain measurable above
    the noise, since the writer's Python half and the parser share the GIL.)
    """
    if store_url.startswith("mongodb://"):
        # A batch of 5,000 inserts can take longer than the 10 s default on a loaded machine.
        store_url += ("&" if "?" in store_url else "?") + f"socketTimeoutMS={LOAD_TIMEOUT_MS}"
    store = await open_store(store_url)
    began = time.perf_counter()
    try:
        for first in range(start, stop, LOAD_BATCH):
            envelopes = task_envelopes(first, min(stop, first + LOAD_BATCH))
            await store.tasks.apply_messages(envelopes=envelopes, now=time.time())
        return time.perf_counter() - began
    finally:
        await store.aclose()


def load(store_url: str, start: int, stop: int) -> float:
    return asyncio.run(load_tasks(store_url, start, stop))


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set size (VmHWM) in MB (10^6 bytes, as the target is)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024 / 1e6
    raise RuntimeError(f"no VmHWM for pid {pid}")


@contextmanager
def taskdash(
    tmp: Path,
    store_url: str,
    settings: Mapping[str, str] | None = None,
    *,
    start_timeout_s: float = START_TIMEOUT_S,
) -> Iterator[ServeProcess]:
    """`taskdash serve` as its own process (its memory is measured apart from the bench's)."""
    env = clean_env(TASKDASH_LOG_LEVEL="WARNING", **(settings or {}))
    with serve_process(
        tmp,
        store_url=store_url,
        env=env,
        cwd=tmp,
        name="taskdash",
        start_timeout_s=start_timeout_s,
    ) as server:
        yield server


@dataclass
class BareServer:
    port: int
    proc: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def bare_server(tmp: Path) -> Iterator[BareServer]:
    """bench/bare_app.py under uvicorn: the same-bytes baseline for the API figures."""

    port = free_port()
    log = (tmp / f"bare-{port}.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.bare_app:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )

    def up() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/ping", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(up, timeout_s=30, step_s=0.05)
        yield BareServer(port, proc)
    finally:
        proc.kill()
        proc.wait()
        log.close()


WARM_UP = 20
# An endpoint to time: (method, path, body or None).
Endpoint = tuple[str, str, bytes | None]


async def timed_requests(
    port: int, cookie: str, endpoints: Mapping[str, Endpoint], requests: int
) -> dict[str, tuple[list[float], bytes]]:
    """Each endpoint's latencies (ms, after WARM_UP) and last answer, on one connection."""
    connection = await Connection("127.0.0.1", port, cookie=cookie).open()
    try:
        results = {}
        for name, (method, path, body) in endpoints.items():
            timings = []
            answer = None
            for n in range(WARM_UP + requests):
                answer, ms = await connection.timed(method, path, body)
                if n >= WARM_UP:
                    timings.append(ms)
            assert answer is not None and answer.status == 200, answer
            results[name] = (timings, answer.body)
        return results
    finally:
        await connection.close()


def login_cookie(base_url: str, user: str) -> str:
    """The session cookie of `user` (password PASSWORD), as a Cookie header's value."""
    answer = httpx.post(f"{base_url}/api/v1/login", json={"username": user, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return "; ".join(f"{k}={v}" for k, v in answer.cookies.items())


def fresh_store(stack: ExitStack, tmp: Path, backend: str, name: str) -> str:
    """The URL of an empty store for one bench: a durable FerretDB database (stopped with
    `stack`), or the SQLite file `name`.db in `tmp`."""
    if backend == "mongo":
        ferretdb = FerretDb(tmp / "ferretdb", durable=True).start()
        stack.callback(ferretdb.close)
        return ferretdb.url("bench")
    return f"sqlite:///{tmp / f'{name}.db'}"
