"""`taskdash demo`: a fresh embedded store, a local nsqd when one is built, two simulated task
services (satEdit, vidEdit) publishing live tasks, sample data and demo accounts."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import shutil
import signal
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn

from taskdash.app import create_app
from taskdash.messaging.handlers import MessageHandler
from taskdash.sample_data import DemoAccount, load_sample_data, seed_task_bodies
from taskdash.settings import Settings
from taskdash.simulator import (
    EmbeddedServer,
    HttpSink,
    SimulatorOptions,
    Sink,
    TcpSink,
    run_simulator,
)
from taskdash.store import open_store

logger = logging.getLogger(__name__)

SERVICES = (("satEdit", 18081), ("vidEdit", 18082))
TOPICS = ("serviceRegister", "taskRegister", "updateStatus", "heartBeat", "taskEvents")
NSQD_STOP_S = 10.0
SIMULATORS_READY_S = 10.0


def port_or_free(preferred: int) -> int:
    """`preferred` when nothing listens there, else any free loopback port."""
    for port in (preferred, 0):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise OSError("no free port")


def find_nsqd() -> Path | None:
    """nsqd built by scripts/build-tools.sh in this checkout, else one on PATH."""
    for parent in Path(__file__).resolve().parents:
        candidate = parent / ".tools" / "bin" / "nsqd"
        if candidate.exists():
            return candidate
    found = shutil.which("nsqd")
    return Path(found) if found else None


@dataclass
class LocalNsqd:
    tcp_address: str
    http_address: str
    process: asyncio.subprocess.Process


@contextlib.asynccontextmanager
async def local_nsqd(binary: Path, data_dir: Path) -> AsyncIterator[LocalNsqd]:
    """nsqd in a session of its own: a Ctrl-C at the terminal reaches the demo, which stops
    nsqd itself, last, once nothing uses it any more."""
    tcp, http = port_or_free(0), port_or_free(0)
    (data_dir / "nsqd").mkdir(parents=True, exist_ok=True)
    log = (data_dir / "nsqd.log").open("ab")
    process = await asyncio.create_subprocess_exec(
        str(binary),
        f"--tcp-address=127.0.0.1:{tcp}",
        f"--http-address=127.0.0.1:{http}",
        f"--data-path={data_dir / 'nsqd'}",
        "--broadcast-address=127.0.0.1",
        stdout=log,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )
    daemon = LocalNsqd(f"127.0.0.1:{tcp}", f"127.0.0.1:{http}", process)
    try:
        async with httpx.AsyncClient(base_url=f"http://{daemon.http_address}") as client:
            for _ in range(200):
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get("/ping")).status_code == 200:
                        break
                await asyncio.sleep(0.05)
            for topic in TOPICS:
                await client.post("/topic/create", params={"topic": topic})
            for topic in TOPICS[:4]:
                await client.post("/channel/create", params={"topic": topic, "channel": "taskdash"})
        yield daemon
    finally:
        with contextlib.suppress(ProcessLookupError):  # it may have gone by itself
            process.terminate()
        try:
            await asyncio.wait_for(process.wait(), NSQD_STOP_S)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
        log.close()


def announce(settings: Settings, accounts: list[DemoAccount], data_dir: Path, via: str) -> None:
    lines = [
        "",
        "TaskDash demo",
        f"  open      http://{settings.host}:{settings.port}/",
        f"  data      {data_dir} (embedded SQLite, fresh for this run)",
        f"  messages  {via}",
        "  accounts  (passwords are new each run)",
    ]
    lines += [f"    {a.name:<10} {a.role.label:<9} {a.password}" for a in accounts]
    lines += ["", "Press Ctrl-C to stop.", ""]
    print("\n".join(lines), flush=True)


def stop_on_signals(stop: asyncio.Event) -> None:
    """SIGINT (Ctrl-C) and SIGTERM ask the demo to stop in order, once."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)


async def run_demo(
    *,
    data_dir: Path,
    host: str,
    port: int,
    use_nsqd: bool = True,
    task_rate: float = 0.1,
    status_interval_s: float = 15.0,
) -> None:
    """Run until SIGINT/SIGTERM; then stop the simulators, TaskDash, and nsqd, in that order."""
    stop = asyncio.Event()
    stop_on_signals(stop)
    # Three uvicorn servers' start and stop lines would bury the banner; it says where to go.
    logging.getLogger("uvicorn.error").setLevel(logging.WARNING)
    binary = find_nsqd() if use_nsqd else None
    async with contextlib.AsyncExitStack() as stack:
        nsqd = await stack.enter_async_context(local_nsqd(binary, data_dir)) if binary else None
        settings = Settings(
            host=host,
            port=port,
            store_url=f"sqlite:///{(data_dir / 'taskdash.db').resolve()}",
            ingest_token=secrets.token_urlsafe(12),
            nsqd_tcp_addresses=[nsqd.tcp_address] if nsqd else [],
            metadata_sync_interval_s=30,
        )
        ports = {name: port_or_free(preferred) for name, preferred in SERVICES}
        urls = {name: f"http://127.0.0.1:{p}/TaskDash" for name, p in ports.items()}
        store = await open_store(settings.store_url)
        try:
            accounts = await load_sample_data(
                store=store,
                handler=MessageHandler(store=store, settings=settings),
                service_urls=urls,
            )
        finally:
            await store.aclose()
        server = EmbeddedServer(
            uvicorn.Config(
                create_app(settings),
                host=host,
                port=port,
                log_config=None,
                access_log=False,
                proxy_headers=False,  # the client address is decided in web/deps.py
                timeout_graceful_shutdown=5,  # open event streams must not hold shutdown
            )
        )
        serving = asyncio.create_task(server.serve())
        # uvicorn offers only a flag to tell that it has bound its socket.
        while not server.started and not serving.done():  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        if serving.done():
            await serving
            return
        seed = seed_task_bodies(urls)
        simulators, ready = [], []
        for name, service_port in ports.items():
            sink: Sink = (
                TcpSink(nsqd.tcp_address)
                if nsqd
                else HttpSink(f"http://{host}:{port}", settings.ingest_token)
            )
            options = SimulatorOptions(
                name=name,
                port=service_port,
                project="demo",
                rate_per_s=task_rate,
                initial_tasks=12,
                status_interval_s=status_interval_s,
                events_nsqd_tcp=nsqd.tcp_address if nsqd else "",
            )
            ready.append(asyncio.Event())
            simulators.append(
                asyncio.create_task(
                    run_simulator(
                        options,
                        sink,
                        adopt=[body for body in seed if body["TaskType"] == name],
                        ready=ready[-1],
                        embedded=True,
                    ),
                    name=f"simulated {name}",
                )
            )
        # The banner comes after the simulators' own start-up lines, not among them.
        await asyncio.wait(
            [asyncio.create_task(event.wait()) for event in ready],
            timeout=SIMULATORS_READY_S,
        )
        via = (
            f"nsqd at {nsqd.tcp_address} (TCP), {nsqd.http_address} (HTTP)"
            if nsqd
            else f"HTTP ingest, token {settings.ingest_token} (no nsqd built)"
        )
        announce(settings, accounts, data_dir, via)
        await asyncio.wait(
            [serving, asyncio.create_task(stop.wait())], return_when="FIRST_COMPLETED"
        )
        logger.info("stopping: simulated services, then TaskDash, then nsqd")
        for task in simulators:
            task.cancel()
        await asyncio.gather(*simulators, return_exceptions=True)
        server.should_exit = True
        await serving
