"""`taskdash simulate`: a reference task service, as an editor such as satEdit would behave.

It registers, heartbeats, publishes new tasks at a chosen rate, moves tasks through statuses
(reacting to TaskDash's task events when it reads them from nsqd), and answers metadata pulls
on its own HTTP port. It talks to nsqd over TCP or HTTP, or to TaskDash's HTTP ingest.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import logging
import random
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse

from taskdash.domain.models import UNCLAIMED, derive_task_id

logger = logging.getLogger(__name__)

MALFORMED_BODIES = (b'{"ProjectID": 5}', b"{not json", b'["an", "array"]', b'{"TaskID": ""}')


class Sink(Protocol):
    async def publish(self, topic: str, bodies: list[bytes]) -> None: ...

    async def aclose(self) -> None: ...


class HttpSink:
    """nsqd's HTTP API or TaskDash's HTTP ingest: the same /mpub, the latter with a token."""

    def __init__(self, base_url: str, token: str = "") -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._client = httpx.AsyncClient(base_url=base_url, headers=headers, timeout=10)

    async def publish(self, topic: str, bodies: list[bytes]) -> None:
        answer = await self._client.post(
            "/mpub", params={"topic": topic}, content=b"\n".join(bodies)
        )
        if answer.text != "OK":
            raise RuntimeError(f"publish to {topic} refused: {answer.status_code} {answer.text}")

    async def aclose(self) -> None:
        await self._client.aclose()


class TcpSink:
    """nsqd over TCP (pynsq's Writer, through TaskDash's publisher adapter)."""

    def __init__(self, address: str) -> None:
        from taskdash.messaging.publisher import NsqPublisher
        from taskdash.settings import Settings

        self._settings = Settings(nsqd_tcp_addresses=[address])
        self._publisher = NsqPublisher(self._settings)
        self._started = False

    async def publish(self, topic: str, bodies: list[bytes]) -> None:
        if not self._started:
            await self._publisher.start()
            self._started = True
            await self._publisher.wait_connected(timeout_s=10)
        await self._publisher.mpub(topic, bodies)

    async def aclose(self) -> None:
        await self._publisher.aclose()


@dataclass
class SimulatorOptions:
    name: str = "satEdit"
    host: str = "127.0.0.1"
    port: int = 18081
    project: str = "demo"
    rate_per_s: float = 0.2
    initial_tasks: int = 10
    heartbeat_interval_s: float = 30.0
    status_interval_s: float = 15.0
    heartbeat_for_s: float | None = None
    malformed_every: int = 0
    metadata_path: str = "taskMetadata"
    events_nsqd_tcp: str = ""
    events_topic: str = "taskEvents"
    seed: int = 0


@dataclass
class SimulatedService:
    """The service's own state: its tasks, as it would answer a metadata pull."""

    options: SimulatorOptions
    sink: Sink
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    claimed: set[str] = field(default_factory=set)
    sent: int = 0
    started: float = field(default_factory=time.time)

    @property
    def base_url(self) -> str:
        return f"http://{self.options.host}:{self.options.port}/TaskDash"

    def new_task(self) -> dict[str, Any]:
        number = len(self.tasks) + 1
        o = self.options
        task_id = f"{time.strftime('%Y%m%d')}_{number:07d}"
        instance = f"{o.name}-{1 + number // 50:03d}"
        record: dict[str, Any] = {
            "ID": derive_task_id(o.project, instance, task_id, o.name),
            "ProjectID": o.project,
            "InstanceID": instance,
            "TaskID": task_id,
            "Status": UNCLAIMED,
            "TaskType": o.name,
            "URL": f"{self.base_url}/edit/{task_id}",
            "EditInfo": "",
            "CreateTime": int(time.time()),
        }
        self.tasks[record["ID"]] = record
        return record

    async def send(self, topic: str, bodies: list[bytes]) -> None:
        out = []
        for body in bodies:
            self.sent += 1
            every = self.options.malformed_every
            if every and self.sent % every == 0:
                out.append(MALFORMED_BODIES[(self.sent // every) % len(MALFORMED_BODIES)])
            out.append(body)
        await self.sink.publish(topic, out)

    async def register(self) -> None:
        reg = {"URL": f"{self.base_url}/", "Name": self.options.name, "Reserved": ""}
        await self.sink.publish("serviceRegister", [json.dumps(reg).encode()])

    async def heartbeat(self) -> None:
        beat = {"url": f"{self.base_url}/", "time": int(time.time()), "reserved": ""}
        await self.sink.publish("heartBeat", [json.dumps(beat).encode()])

    async def publish_new(self, count: int) -> None:
        records = [self.new_task() for _ in range(count)]
        await self.send("taskRegister", [_encode(r) for r in records])

    async def advance(self, rng: random.Random) -> None:
        """Move one task a step: claimed → 编辑中 → 已完成 (any task when no events are read)."""
        candidates = [t for t in self.tasks.values() if t["Status"] == "编辑中"]
        candidates += [self.tasks[i] for i in self.claimed if self.tasks[i]["Status"] == UNCLAIMED]
        if not self.options.events_nsqd_tcp and not candidates:
            candidates = [t for t in self.tasks.values() if t["Status"] == UNCLAIMED][:1]
        if not candidates:
            return
        task = rng.choice(candidates)
        task["Status"] = "已完成" if task["Status"] == "编辑中" else "编辑中"
        await self.send("updateStatus", [_encode(task)])

    def adopt(self, records: list[dict[str, Any]]) -> None:
        """Own tasks that were registered elsewhere (the demo's seed tasks), to move them too."""
        for record in records:
            self.tasks[record["ID"]] = dict(record)

    def metadata_page(self, offset: int, limit: int) -> list[dict[str, Any]]:
        records = list(self.tasks.values())[offset : offset + limit]
        return [{**r, "Reserved": ""} for r in records]


def _encode(record: dict[str, Any]) -> bytes:
    return json.dumps(record, ensure_ascii=False).encode()


def service_app(service: SimulatedService) -> FastAPI:
    """The service's own HTTP side: metadata pulls and a stand-in editor page."""
    app = FastAPI(title=f"{service.options.name} (simulated)", docs_url=None, redoc_url=None)
    path = f"/TaskDash/{service.options.metadata_path.strip('/')}"

    @app.get(path)
    async def metadata(offset: int = 0, limit: int = 500) -> JSONResponse:
        return JSONResponse(service.metadata_page(offset, limit))

    @app.post(path)
    async def metadata_post(request: Request) -> JSONResponse:
        body = await request.json()
        return JSONResponse(service.metadata_page(int(body["offset"]), int(body["limit"])))

    @app.get("/TaskDash/edit/{task_id}")
    async def editor(task_id: str) -> HTMLResponse:
        name = html.escape(service.options.name)
        return HTMLResponse(
            f"<!doctype html><title>{name}</title><h1>{name}</h1>"
            f"<p>Editing task {html.escape(task_id)} (simulated editor).</p>"
        )

    return app


class EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves signals alone: the program running it decides when to stop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Any:
        yield


def _follow_events(service: SimulatedService) -> Any:
    """Read TaskDash's task events (own ephemeral channel) to learn which tasks were claimed."""
    import nsq

    def on_event(message: Any) -> bool:
        event = json.loads(message.body)
        if event.get("action") == "claim" and event.get("task_id") in service.tasks:
            service.claimed.add(event["task_id"])
        return True

    return nsq.Reader(
        topic=service.options.events_topic,
        channel=f"sim-{service.options.name}-{random.getrandbits(24):06x}#ephemeral",
        message_handler=on_event,
        nsqd_tcp_addresses=[service.options.events_nsqd_tcp],
        max_in_flight=50,
    )


async def run_simulator(
    options: SimulatorOptions,
    sink: Sink,
    *,
    log: bool = True,
    adopt: list[dict[str, Any]] | None = None,
    ready: asyncio.Event | None = None,
    embedded: bool = False,
) -> None:
    """Run until cancelled; `ready` is set once registered and answering metadata pulls.

    `embedded`: inside another program (the demo), which owns the signals and the log.
    """
    service = SimulatedService(options=options, sink=sink)
    service.adopt(adopt or [])
    server_class = EmbeddedServer if embedded else uvicorn.Server
    server = server_class(
        uvicorn.Config(
            service_app(service),
            host=options.host,
            port=options.port,
            log_config=None,
            access_log=False,
        )
    )
    serving = asyncio.create_task(server.serve())
    rng = random.Random(options.seed or None)
    reader: Any = None
    try:
        await service.register()
        await service.heartbeat()
        if options.initial_tasks:
            await service.publish_new(options.initial_tasks)
        if options.events_nsqd_tcp:
            reader = _follow_events(service)
        while not server.started and not serving.done():  # noqa: ASYNC110
            await asyncio.sleep(0.02)  # uvicorn offers only a flag to tell that it is bound
        if log:
            logger.info("%s simulated at %s", options.name, service.base_url)
        if ready is not None:
            ready.set()
        await asyncio.gather(
            _every(options.heartbeat_interval_s, lambda: _beat_while_allowed(service)),
            _every(
                1 / options.rate_per_s if options.rate_per_s > 0 else 3600.0,
                lambda: service.publish_new(1) if options.rate_per_s > 0 else _nothing(),
            ),
            _every(options.status_interval_s, lambda: service.advance(rng)),
        )
    finally:
        server.should_exit = True
        await asyncio.gather(serving, return_exceptions=True)
        if reader is not None:
            from taskdash.messaging.nsq_logging import closing_quietly

            async with closing_quietly([reader.name]):
                reader.close()
        await sink.aclose()


async def _nothing() -> None:
    return None


async def _beat_while_allowed(service: SimulatedService) -> None:
    limit = service.options.heartbeat_for_s
    if limit is None or time.time() - service.started < limit:
        await service.heartbeat()


async def _every(interval_s: float, step: Any) -> None:
    while True:
        await asyncio.sleep(interval_s)
        try:
            await step()
        except Exception as exc:
            logger.warning("simulator: %s", exc)
