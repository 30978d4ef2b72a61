"""`taskdash demo`: TaskDash on a fresh embedded store with sample data and demo accounts."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from pathlib import Path

import uvicorn

from taskdash.app import create_app
from taskdash.messaging.handlers import InboundMessage, MessageHandler
from taskdash.sample_data import SAT_EDIT_URL, VID_EDIT_URL, DemoAccount, load_sample_data
from taskdash.settings import Settings
from taskdash.store import open_store

logger = logging.getLogger(__name__)

HEARTBEAT_INTERVAL_S = 30.0


def announce(settings: Settings, accounts: list[DemoAccount], data_dir: Path) -> None:
    lines = [
        "",
        "TaskDash demo",
        f"  open      http://{settings.host}:{settings.port}/",
        f"  data      {data_dir} (embedded SQLite, fresh for this run)",
        f"  ingest    POST http://{settings.host}:{settings.port}/pub?topic=taskRegister"
        f"  (Authorization: Bearer {settings.ingest_token})",
        "  accounts  (passwords are new each run)",
    ]
    lines += [f"    {a.name:<10} {a.role.label:<9} {a.password}" for a in accounts]
    print("\n".join(lines) + "\n", flush=True)


async def keep_services_alive(handler: MessageHandler) -> None:
    """Heartbeats for the two sample services, as their editors would send them."""
    while True:
        now_ns = time.time_ns()
        await handler.handle_batch(
            [
                InboundMessage(
                    "heartBeat",
                    json.dumps({"url": f"{url}/TaskDash/", "time": now_ns // 10**9}).encode(),
                    now_ns,
                )
                for url in (SAT_EDIT_URL, VID_EDIT_URL)
            ]
        )
        await asyncio.sleep(HEARTBEAT_INTERVAL_S)


async def run_demo(*, data_dir: Path, host: str, port: int) -> None:
    settings = Settings(
        host=host,
        port=port,
        store_url=f"sqlite:///{(data_dir / 'taskdash.db').resolve()}",
        ingest_token=secrets.token_urlsafe(12),
    )
    store = await open_store(settings.store_url)
    try:
        accounts = await load_sample_data(
            store=store, handler=MessageHandler(store=store, settings=settings)
        )
    finally:
        await store.aclose()
    app = create_app(settings)
    server = uvicorn.Server(
        uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False)
    )
    serving = asyncio.create_task(server.serve())
    # uvicorn offers only a flag to tell that it has bound its socket.
    while not server.started and not serving.done():  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    if serving.done():
        await serving
        return
    announce(settings, accounts, data_dir)
    beats = asyncio.create_task(keep_services_alive(app.state.message_handler))
    try:
        await serving
    finally:
        beats.cancel()
        await asyncio.gather(beats, return_exceptions=True)
