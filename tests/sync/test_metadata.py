"""Metadata pull (SPEC §4) from real HTTP services on loopback."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from taskdash.domain.models import TaskQuery
from taskdash.simulator import SimulatedService, SimulatorOptions, service_app
from tests.support import LiveServer, ThreadedApp, make_settings, run_on_store, wait_until


class DroppingSink:
    """The service's messages never reach TaskDash: only the metadata pull can tell."""

    async def publish(self, topic: str, bodies: list[bytes]) -> None:
        return None

    async def aclose(self) -> None:
        return None


def register(server: LiveServer, url: str, name: str) -> None:
    server.publish("serviceRegister", [{"URL": f"{url}/TaskDash/", "Name": name}])
    server.publish("heartBeat", [{"url": f"{url}/TaskDash/", "time": int(time.time())}])


def stored(server: LiveServer) -> dict[str, Any]:
    async def read(store: Any) -> dict[str, Any]:
        return {t.id: t for t in await store.tasks.find(TaskQuery(limit=10_000))}

    return dict(run_on_store(server.settings, read))


def services(server: LiveServer) -> dict[str, Any]:
    async def read(store: Any) -> dict[str, Any]:
        return {s.name: s for s in await store.services.all()}

    return dict(run_on_store(server.settings, read))


def test_missed_tasks_and_statuses_are_reconciled_from_metadata(tmp_path: Path) -> None:
    service = SimulatedService(options=SimulatorOptions(name="satEdit"), sink=DroppingSink())
    with ThreadedApp(service_app(service)) as app:
        service.options.port = app.port
        records = [service.new_task() for _ in range(1200)]  # more than two pages of 500
        records[0]["Status"] = "编辑中"
        server = LiveServer(make_settings(tmp_path, metadata_sync_interval_s=0.5)).start()
        try:
            register(server, app.url, "satEdit")
            wait_until(lambda: len(stored(server)) == 1200, timeout_s=20)
            tasks = stored(server)
            assert tasks[records[0]["ID"]].status == "编辑中"
            assert tasks[records[1]["ID"]].status == "待领取"
            assert services(server)["satEdit"].metadata_error == ""
            # The service finishes a task; the next pull applies it.
            records[1]["Status"] = "已完成"
            wait_until(lambda: stored(server)[records[1]["ID"]].status == "已完成", timeout_s=10)
        finally:
            server.stop()


def test_a_dead_service_shows_an_error_and_delays_no_other(tmp_path: Path) -> None:
    slow = FastAPI()

    @slow.get("/TaskDash/taskMetadata")
    async def never_answers() -> list[Any]:
        await asyncio.sleep(8)
        return []

    healthy = SimulatedService(options=SimulatorOptions(name="vidEdit"), sink=DroppingSink())
    with ThreadedApp(slow) as slow_app, ThreadedApp(service_app(healthy)) as healthy_app:
        healthy.options.port = healthy_app.port
        healthy.new_task()
        server = LiveServer(
            make_settings(tmp_path, metadata_sync_interval_s=0.5, metadata_timeout_s=4)
        ).start()
        try:
            register(server, slow_app.url, "satEdit")
            started = time.monotonic()
            register(server, healthy_app.url, "vidEdit")
            wait_until(lambda: len(stored(server)) == 1, timeout_s=10)
            assert time.monotonic() - started < 3.5, "the healthy service waited for the slow one"
            wait_until(
                lambda: "timed out" in services(server)["satEdit"].metadata_error, timeout_s=10
            )
            client = server.client()
            server.add_user("admin", "admin")
            admin = server.login("admin")
            listed = {s["name"]: s for s in admin.get("/api/v1/services").json()["services"]}
            assert "timed out after 4 s" in listed["satEdit"]["metadata_error"]
            assert listed["vidEdit"]["metadata_error"] == ""
            assert client.get("/healthz").status_code == 200
        finally:
            server.stop()


def test_bad_metadata_records_are_dead_lettered(tmp_path: Path) -> None:
    app = FastAPI()

    @app.get("/TaskDash/taskMetadata")
    async def answer() -> Any:
        return [
            {"ProjectID": "p", "InstanceID": "i", "TaskID": "t", "TaskType": "satEdit"},
            {"ProjectID": 5},
        ]

    with ThreadedApp(app) as service:
        server = LiveServer(make_settings(tmp_path, metadata_sync_interval_s=0.5)).start()
        try:
            register(server, service.url, "satEdit")
            wait_until(lambda: len(stored(server)) == 1, timeout_s=10)

            async def letters(store: Any) -> list[Any]:
                return list(await store.dead_letters.recent(limit=10, before_id=None))

            wait_until(lambda: len(run_on_store(server.settings, letters)) == 1)
            [letter] = run_on_store(server.settings, letters)
            assert letter.topic.startswith("metadata:") and "ProjectID" in letter.reason
            assert json.dumps(services(server)["satEdit"].metadata_error) != '""'
        finally:
            server.stop()
