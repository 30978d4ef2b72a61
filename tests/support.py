"""Test support: a real uvicorn server on a free loopback port, and plain factory functions."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from taskdash.actions import accounts
from taskdash.app import create_app
from taskdash.domain.models import Role
from taskdash.settings import Settings
from taskdash.store import open_store

INGEST_TOKEN = "test-ingest-token"
PASSWORD = "correct horse battery"
SERVICE_URL = "http://127.0.0.1:18081"
TOPICS = ("serviceRegister", "taskRegister", "updateStatus", "heartBeat")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(
    predicate: Callable[[], bool], *, timeout_s: float = 10.0, step_s: float = 0.02
) -> None:
    """Poll `predicate` until it holds; fail with a clear message after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout_s} s")
        time.sleep(step_s)


class ThreadedApp:
    """An ASGI app served by uvicorn in a thread of the test process, on its own event loop."""

    def __init__(self, app: Any, *, port: int | None = None, **config: Any) -> None:
        self.port = port or free_port()
        self._server = uvicorn.Server(
            uvicorn.Config(
                app,
                host="127.0.0.1",
                port=self.port,
                log_config=None,
                access_log=False,
                proxy_headers=False,  # as `taskdash serve` runs it
                **config,
            )
        )
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ThreadedApp:
        self._thread.start()
        wait_until(lambda: self._server.started)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=15)


async def empty_metadata(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A task service's metadata endpoint with nothing to report (an ASGI app)."""
    if scope["type"] != "http":
        return
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": b"[]"})


@dataclass
class LiveServer:
    """TaskDash (create_app with `settings`) served by a ThreadedApp on the settings' port."""

    settings: Settings
    _app: ThreadedApp | None = None
    _passwords: dict[str, str] = field(default_factory=dict)
    _clients: list[httpx.Client] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.settings.port}"

    def start(self) -> LiveServer:
        self._app = ThreadedApp(
            create_app(self.settings),
            port=self.settings.port,
            lifespan="on",
            timeout_graceful_shutdown=2,
        ).__enter__()
        return self

    def stop(self) -> None:
        for client in self._clients:
            client.close()
        if self._app is not None:
            self._app.__exit__()

    def client(self, **kwargs: Any) -> httpx.Client:
        """An HTTP client for this server, closed when the server stops."""
        client = httpx.Client(base_url=self.url, timeout=30, **kwargs)
        self._clients.append(client)
        return client

    def login(self, name: str, password: str | None = None) -> httpx.Client:
        """A client holding `name`'s session cookie."""
        client = self.client()
        answer = client.post(
            "/rpost/task",
            json={
                "operation": "userLogin",
                "username": name,
                "password": password or self._passwords.get(name, PASSWORD),
            },
        )
        assert answer.json() == "success", answer.text
        return client

    def add_user(
        self, name: str, role: str = "annotator", *, group: str = "", password: str = PASSWORD
    ) -> None:
        run_on_store(
            self.settings,
            lambda store: accounts.create_user(
                store=store, name=name, role=Role.parse(role), password=password, group=group
            ),
        )
        self._passwords[name] = password

    def publish(self, topic: str, bodies: Iterable[dict[str, Any] | bytes | str]) -> None:
        """POST bodies to /mpub (as a task service would to nsqd) and require OK."""
        lines = [encode_body(body) for body in bodies]
        answer = self.client().post(
            f"/mpub?topic={topic}",
            content=b"\n".join(lines),
            headers={"Authorization": f"Bearer {INGEST_TOKEN}"},
        )
        assert answer.status_code == 200 and answer.text == "OK", answer.text

    def pub(self, topic: str, body: dict[str, Any] | bytes | str) -> httpx.Response:
        return self.client().post(
            f"/pub?topic={topic}",
            content=encode_body(body),
            headers={"Authorization": f"Bearer {INGEST_TOKEN}"},
        )


@contextmanager
def live_server_on(
    store: str, request: Any, tmp_path: Path, **overrides: Any
) -> Iterator[LiveServer]:
    """A live server on `store` ("sqlite", or "mongo": a fresh FerretDB database of the session
    server, from pytest's `request`), with other settings overridden; stopped at the end."""
    if store == "mongo":
        overrides["store_url"] = request.getfixturevalue("mongo_url")
    live = LiveServer(make_settings(tmp_path, **overrides)).start()
    try:
        yield live
    finally:
        live.stop()


def encode_body(body: dict[str, Any] | bytes | str) -> bytes:
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    return json.dumps(body, ensure_ascii=False).encode()


def run_on_store(settings: Settings, action: Callable[[Any], Any]) -> Any:
    """Run `action(store)` on a second connection to the server's store, in a fresh loop."""

    async def run() -> Any:
        store = await open_store(settings.store_url)
        try:
            return await action(store)
        finally:
            await store.aclose()

    return asyncio.run(run())


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "port": free_port(),
        "store_url": f"sqlite:///{tmp_path / 'taskdash.db'}",
        "ingest_token": INGEST_TOKEN,
        "log_level": "WARNING",
    }
    values.update(overrides)
    return Settings(**values)


def task_body(
    task_id: str,
    *,
    status: str = "",
    task_type: str = "satEdit",
    project: str = "p1",
    instance: str = "i1",
    created: int = 1596174701,
    url: str = SERVICE_URL,
    given_id: str = "",
    **extra: Any,
) -> dict[str, Any]:
    """A taskRegister/updateStatus body as a Go service marshals it."""
    body = {
        "ID": given_id,
        "ProjectID": project,
        "InstanceID": instance,
        "TaskID": task_id,
        "Status": status,
        "TaskType": task_type,
        "URL": url,
        "EditInfo": "",
        "CreateTime": created,
    }
    body.update(extra)
    return body


def task_id_of(body: dict[str, Any]) -> str:
    from taskdash.domain.models import derive_task_id

    return body["ID"] or derive_task_id(
        body["ProjectID"], body["InstanceID"], body["TaskID"], body["TaskType"]
    )
