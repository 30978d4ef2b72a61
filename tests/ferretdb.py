"""FerretDB (the MongoDB wire protocol on SQLite) for the MongoDB store's tests.

Built by scripts/build-tools.sh into .tools/bin/ferretdb; one server per test session, and a
fresh database (a uuid name) per test so that no state leaks between tests.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from pymongo import MongoClient
from pymongo.errors import PyMongoError

from tests.servers import ServerProcess, tool
from tests.support import free_port, wait_until

START_TIMEOUT_S = 20.0


@dataclass
class FerretDb:
    """One FerretDB on a free loopback port, storing its databases under `data_path`."""

    data_path: Path
    port: int = field(default_factory=free_port)
    proc: ServerProcess | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def url(self, database: str) -> str:
        return f"mongodb://{self.address}/{database}"

    def client(self) -> MongoClient[dict[str, object]]:
        return MongoClient(f"mongodb://{self.address}/", serverSelectionTimeoutMS=2_000)

    def answers(self) -> bool:
        try:
            with MongoClient(f"mongodb://{self.address}/", serverSelectionTimeoutMS=300) as client:
                client.admin.command("ping")
            return True
        except PyMongoError:
            return False

    def start(self) -> FerretDb:
        self.data_path.mkdir(parents=True, exist_ok=True)
        self.proc = ServerProcess(
            [
                str(tool("ferretdb")),
                f"--listen-addr={self.address}",
                f"--sqlite-url=file:{self.data_path}/",
                "--log-level=warn",
            ],
            self.data_path / "ferretdb.log",
        )
        self.proc.start()
        try:
            wait_until(self.answers, timeout_s=START_TIMEOUT_S, step_s=0.05)
        except AssertionError:
            self.stop()
            raise AssertionError(f"ferretdb did not answer ping:\n{self.proc.log()}") from None
        return self

    def stop(self) -> None:
        if self.proc:
            self.proc.stop()


@pytest.fixture(scope="session")
def ferretdb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FerretDb]:
    server = FerretDb(tmp_path_factory.mktemp("ferretdb")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def mongo_url(ferretdb: FerretDb) -> Iterator[str]:
    """The URL of a database of its own for this test, dropped afterwards."""
    database = f"t{uuid.uuid4().hex}"
    yield ferretdb.url(database)
    with ferretdb.client() as client:
        client.drop_database(database)
