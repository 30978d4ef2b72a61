"""The MongoDB test server: FerretDB v2 on a PostgreSQL 15 cluster with the DocumentDB extension.

Built by scripts/build-mongo-server.sh (`make mongo-server`; `make test` does it). One cluster
and one FerretDB per test session on free loopback ports, a fresh database (a uuid name) per
test so that no state leaks between tests; both are stopped and their data removed at the end.
A server that is not built fails the run, it never skips it.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from pymongo import MongoClient
from pymongo.errors import PyMongoError

from tests.processes import ServerProcess
from tests.servers import TOOLS
from tests.support import free_port, wait_until

START_TIMEOUT_S = 30.0
PG_BIN = Path("/usr/lib/postgresql/15/bin")
PG_EXTENSIONS = Path("/usr/share/postgresql/15/extension")
# PostgreSQL refuses to run as root: a root test run starts it as this user (initdb, pg_ctl).
PG_USER = "postgres"
# DocumentDB's settings, as its packaging/10-preload.sh writes them; durability is off because
# a test cluster is thrown away (a benchmark asks for the defaults with `durable=True`).
PG_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "max_connections": "200",
    "shared_preload_libraries": "'pg_cron,pg_documentdb_core,pg_documentdb'",
    "cron.database_name": "'postgres'",
    "documentdb.enableCompact": "true",
    "documentdb.enableLetAndCollationForQueryMatch": "true",
    "documentdb.enableNowSystemVariable": "true",
    "documentdb.enableSortbyIdPushDownToPrimaryKey": "true",
    "documentdb.enableSchemaValidation": "true",
    "documentdb.enableBypassDocumentValidation": "true",
    "documentdb.enableUserCrud": "true",
    "documentdb.maxUserLimit": "100",
}
NOT_DURABLE = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
BUILD_HINT = "run scripts/build-mongo-server.sh (make mongo-server; make test does it)"


def _as_pg_user(args: list[str]) -> list[str]:
    return ["runuser", "-u", PG_USER, "--", *args] if os.geteuid() == 0 else args


def _run(args: list[str], what: str) -> None:
    done = subprocess.run(_as_pg_user(args), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise AssertionError(f"{what} failed ({done.returncode}):\n{done.stdout}{done.stderr}")


@dataclass
class Postgres:
    """One PostgreSQL cluster in `path` (a directory the PostgreSQL user owns), on `port`."""

    path: Path
    port: int

    @property
    def data_dir(self) -> Path:
        return self.path / "data"

    @property
    def log_path(self) -> Path:
        return self.path / "postgres.log"

    @property
    def url(self) -> str:
        return f"postgres://{self.user()}@127.0.0.1:{self.port}/postgres"

    @staticmethod
    def user() -> str:
        return PG_USER if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name

    @classmethod
    def create(cls, *, durable: bool) -> Postgres:
        """A new cluster with DocumentDB installed in its `postgres` database, running."""
        for needed in (PG_BIN / "initdb", PG_EXTENSIONS / "documentdb.control"):
            if not needed.exists():
                pytest.fail(f"{needed} is missing: {BUILD_HINT}")
        path = Path(tempfile.mkdtemp(prefix="taskdash-postgres-"))
        if os.geteuid() == 0:
            owner = pwd.getpwnam(PG_USER)
            os.chown(path, owner.pw_uid, owner.pw_gid)
        server = cls(path, free_port())
        try:
            initdb = [str(PG_BIN / "initdb"), "-D", str(server.data_dir), "--auth=trust"]
            _run([*initdb, "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"], "initdb")
            settings = PG_SETTINGS | {"port": str(server.port)}
            settings["unix_socket_directories"] = f"'{path}'"
            if not durable:
                settings |= NOT_DURABLE
            with (server.data_dir / "postgresql.conf").open("a") as conf:
                conf.writelines(f"{name} = {value}\n" for name, value in settings.items())
            server.start()
            psql = [str(PG_BIN / "psql"), "-h", str(path), "-p", str(server.port), "-d", "postgres"]
            create = "CREATE EXTENSION documentdb CASCADE"
            _run([*psql, "-v", "ON_ERROR_STOP=1", "-qc", create], "CREATE EXTENSION documentdb")
        except BaseException:
            server.remove()
            raise
        return server

    def start(self) -> None:
        pg_ctl = [str(PG_BIN / "pg_ctl"), "-D", str(self.data_dir), "-l", str(self.log_path)]
        wait = ["-w", "-t", str(int(START_TIMEOUT_S))]
        _run([*pg_ctl, *wait, "start"], f"starting PostgreSQL (log {self.log_path})")

    def running(self) -> bool:
        return (self.data_dir / "postmaster.pid").exists()

    def stop(self) -> None:
        if self.running():
            _run(
                [str(PG_BIN / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop"],
                "stopping PostgreSQL",
            )

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.path, ignore_errors=True)


@dataclass
class FerretDb:
    """FerretDB on a free loopback port over its own PostgreSQL cluster.

    `data_path` keeps FerretDB's state and log and names the cluster (whose files live where
    the PostgreSQL user may write), so `FerretDb(data_path, port=...)` restarts a stopped
    server with its data. `stop` stops both processes and keeps the data; `close` removes it.
    """

    data_path: Path
    port: int = field(default_factory=free_port)
    durable: bool = False
    proc: ServerProcess | None = None
    postgres: Postgres | None = None

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

    def _cluster(self) -> Postgres:
        """The cluster this data path names, started; a new one the first time."""
        pointer = self.data_path / "postgres.json"
        if pointer.exists():
            saved = json.loads(pointer.read_text())
            postgres = Postgres(Path(saved["path"]), int(saved["port"]))
            if not postgres.running():
                postgres.start()
            return postgres
        postgres = Postgres.create(durable=self.durable)
        pointer.write_text(json.dumps({"path": str(postgres.path), "port": postgres.port}))
        return postgres

    def start(self) -> FerretDb:
        binary = TOOLS / "ferretdb"
        if not binary.exists():
            pytest.fail(f"{binary} is missing: {BUILD_HINT}")
        self.data_path.mkdir(parents=True, exist_ok=True)
        self.postgres = self._cluster()
        self.proc = ServerProcess(
            [
                str(binary),
                f"--listen-addr={self.address}",
                f"--postgresql-url={self.postgres.url}",
                f"--state-dir={self.data_path / 'state'}",
                "--log-level=warn",
            ],
            self.data_path / "ferretdb.log",
        )
        self.proc.start()
        try:
            wait_until(self.answers, timeout_s=START_TIMEOUT_S, step_s=0.05)
        except AssertionError:
            self.close()
            raise AssertionError(f"ferretdb did not answer ping:\n{self.proc.log()}") from None
        return self

    def stop(self) -> None:
        """Stop FerretDB and its cluster; the data stays for a restart."""
        if self.proc:
            self.proc.stop()
        if self.postgres:
            self.postgres.stop()

    def close(self) -> None:
        """Stop both and remove the cluster's files."""
        self.stop()
        if self.postgres:
            self.postgres.remove()
        (self.data_path / "postgres.json").unlink(missing_ok=True)


@pytest.fixture(scope="session")
def ferretdb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FerretDb]:
    server = FerretDb(tmp_path_factory.mktemp("ferretdb"))
    try:
        yield server.start()
    finally:
        server.close()


@pytest.fixture
def mongo_url(ferretdb: FerretDb) -> Iterator[str]:
    """The URL of a database of its own for this test, dropped afterwards."""
    database = f"t{uuid.uuid4().hex}"
    yield ferretdb.url(database)
    with ferretdb.client() as client:
        client.drop_database(database)
