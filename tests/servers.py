"""Real nsqd / nsqlookupd processes for tests, built by scripts/build-tools.sh into .tools/bin."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.processes import ServerProcess
from tests.support import free_port, wait_until

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ROOT / ".tools" / "bin"


def tool(name: str) -> Path:
    """The path of a built test server; a missing one fails the test (never skips it)."""
    path = TOOLS / name
    if not path.exists():
        pytest.fail(f"{path} is missing: run scripts/build-tools.sh (make test does)")
    return path


def _ping(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@dataclass
class Nsqd:
    """One nsqd on free loopback ports with its own data path."""

    data_path: Path
    node_id: int
    lookupd_tcp: str | None = None
    extra_args: tuple[str, ...] = ()
    tcp_port: int = field(default_factory=free_port)
    http_port: int = field(default_factory=free_port)
    proc: ServerProcess | None = None

    @property
    def tcp_address(self) -> str:
        return f"127.0.0.1:{self.tcp_port}"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def start(self) -> Nsqd:
        self.data_path.mkdir(parents=True, exist_ok=True)
        args = [
            str(tool("nsqd")),
            f"--tcp-address={self.tcp_address}",
            f"--http-address=127.0.0.1:{self.http_port}",
            f"--data-path={self.data_path}",
            "--broadcast-address=127.0.0.1",
            f"--node-id={self.node_id}",
            "--sync-every=1",
        ]
        if self.lookupd_tcp:
            args.append(f"--lookupd-tcp-address={self.lookupd_tcp}")
        args += self.extra_args
        self.proc = ServerProcess(args, self.data_path / "nsqd.log")
        self.proc.start()
        wait_until(lambda: _ping(f"{self.http_url}/ping"), timeout_s=15)
        return self

    def create_channel(self, topic: str, channel: str) -> None:
        for path in (
            f"/topic/create?topic={topic}",
            f"/channel/create?topic={topic}&channel={channel}",
        ):
            answer = httpx.post(self.http_url + path, timeout=5)
            assert answer.status_code == 200, answer.text

    def pub(self, topic: str, body: bytes) -> None:
        answer = httpx.post(f"{self.http_url}/pub?topic={topic}", content=body, timeout=10)
        assert answer.text == "OK", answer.text

    def mpub(self, topic: str, bodies: list[bytes]) -> None:
        answer = httpx.post(
            f"{self.http_url}/mpub?topic={topic}", content=b"\n".join(bodies), timeout=30
        )
        assert answer.text == "OK", answer.text

    def stats(self) -> dict[str, Any]:
        answer = httpx.get(f"{self.http_url}/stats?format=json", timeout=5)
        return dict(json.loads(answer.text))

    def channel_depth(self, topic: str, channel: str) -> tuple[int, int]:
        """(messages waiting, messages in flight) of one channel."""
        for t in self.stats().get("topics", []):
            if t["topic_name"] == topic:
                for c in t["channels"]:
                    if c["channel_name"] == channel:
                        return int(c["depth"]), int(c["in_flight_count"])
        return 0, 0

    def running(self) -> bool:
        return (
            self.proc is not None
            and self.proc.process is not None
            and (self.proc.process.poll() is None)
        )

    def delete_topics(self) -> None:
        """Delete every topic (with its channels and messages): a clean nsqd for the next test."""
        for topic in self.stats().get("topics", []):
            name = topic["topic_name"]
            answer = httpx.post(f"{self.http_url}/topic/delete?topic={name}", timeout=5)
            assert answer.status_code == 200, answer.text

    def stop(self) -> None:
        if self.proc:
            self.proc.stop()


@dataclass
class Nsqlookupd:
    data_path: Path
    tcp_port: int = field(default_factory=free_port)
    http_port: int = field(default_factory=free_port)
    proc: ServerProcess | None = None

    @property
    def tcp_address(self) -> str:
        return f"127.0.0.1:{self.tcp_port}"

    @property
    def http_address(self) -> str:
        return f"127.0.0.1:{self.http_port}"

    def start(self) -> Nsqlookupd:
        self.data_path.mkdir(parents=True, exist_ok=True)
        self.proc = ServerProcess(
            [
                str(tool("nsqlookupd")),
                f"--tcp-address={self.tcp_address}",
                f"--http-address={self.http_address}",
                "--broadcast-address=127.0.0.1",
            ],
            self.data_path / "nsqlookupd.log",
        )
        self.proc.start()
        wait_until(lambda: _ping(f"http://{self.http_address}/ping"), timeout_s=15)
        return self

    def stop(self) -> None:
        if self.proc:
            self.proc.stop()
