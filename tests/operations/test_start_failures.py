"""What `taskdash serve` says when it cannot start: one line, a non-zero exit, no traceback.

Also: "listening on …" is logged only once the port accepts connections.
"""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.operations.disks import tmpfs
from tests.processes import TASKDASH_SCRIPT, clean_env, serve_process
from tests.support import free_port

START_TIMEOUT_S = 30


def serve(*, port: int, **settings: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(TASKDASH_SCRIPT), "serve", "--port", str(port)],
        capture_output=True,
        text=True,
        env=clean_env(**settings),
        timeout=START_TIMEOUT_S,
        check=False,
    )


def assert_one_line_failure(done: subprocess.CompletedProcess[str], says: str) -> None:
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "Traceback" not in output, output
    errors = done.stderr.splitlines()
    assert [line for line in errors if line.startswith("taskdash: ")] == [errors[-1]], output
    assert says in errors[-1], errors[-1]
    # What else is said is start-up chatter at INFO, no ERROR record
    assert not [line for line in errors[:-1] if " ERROR " in line], output
    assert "listening on" not in output, output


@pytest.fixture
def read_only_dir(tmp_path: Path) -> Iterator[Path]:
    """A directory no one can write into (a read-only tmpfs: root ignores file modes)."""
    with tmpfs(tmp_path / "readonly", size_kb=1024, read_only=True) as path:
        yield path


def test_unreachable_mongodb_is_one_line(tmp_path: Path) -> None:
    closed = free_port()
    done = serve(port=free_port(), TASKDASH_STORE_URL=f"mongodb://127.0.0.1:{closed}/taskdash")
    assert_one_line_failure(done, f"cannot open the store mongodb://127.0.0.1:{closed}/taskdash")


@pytest.mark.parametrize("where", ["", "data"])
def test_unwritable_data_directory_is_one_line(read_only_dir: Path, where: str) -> None:
    db = read_only_dir / where / "taskdash.db"
    done = serve(port=free_port(), TASKDASH_STORE_URL=f"sqlite:///{db}")
    assert_one_line_failure(done, f"cannot open the store sqlite:///{db}")


def test_port_in_use_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = serve(port=port, TASKDASH_STORE_URL=f"sqlite:///{tmp_path / 'taskdash.db'}")
    assert_one_line_failure(done, f"cannot listen on 127.0.0.1:{port}")
    assert not (tmp_path / "taskdash.db").exists(), "the store was opened before the port"


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    closed = free_port()
    done = serve(
        port=free_port(),
        TASKDASH_STORE_URL=f"mongodb://127.0.0.1:{closed}/taskdash",
        TASKDASH_LOG_LEVEL="DEBUG",
    )
    assert done.returncode == 1
    assert "Traceback" in done.stderr


def test_listening_is_logged_after_the_store_opened_and_the_port_accepts(tmp_path: Path) -> None:
    with serve_process(tmp_path, store_url=f"sqlite:///{tmp_path / 'taskdash.db'}") as server:
        log = server.log()
    assert "listening on" in log, log
    assert log.index("store open:") < log.index("listening on"), log
    assert log.index("Application startup complete") < log.index("listening on"), log
