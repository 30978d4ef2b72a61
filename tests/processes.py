"""Child processes for tests (servers with a log file) and `taskdash serve` as a real subprocess:
started, probed on /healthz, always killed and reaped."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support import free_port, wait_until

START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0
TASKDASH_SCRIPT = Path(sys.executable).with_name("taskdash")


def clean_env(**settings: str) -> dict[str, str]:
    """This process's environment without any TASKDASH_* variable, plus `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TASKDASH_")}
    env.update(settings)
    return env


@dataclass
class ServerProcess:
    """A child process with its output in a log file; stopped (and reaped) by `stop` or `kill`."""

    args: list[str]
    log_path: Path
    env: Mapping[str, str] | None = None
    cwd: Path | None = None
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.args,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=dict(self.env) if self.env is not None else None,
                cwd=self.cwd,
            )

    def log(self) -> str:
        if not self.log_path.exists():
            return ""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def kill(self) -> None:
        """SIGKILL (`kill -9`) and reap."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=STOP_TIMEOUT_S)

    def stop(self) -> int | None:
        """SIGTERM, wait for the graceful shutdown (SIGKILL if it hangs); the exit code."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.process.wait()


@dataclass
class ServeProcess(ServerProcess):
    """One running `taskdash serve` on `port`."""

    port: int = 0

    @property
    def proc(self) -> subprocess.Popen[bytes]:
        assert self.process is not None, "not started"
        return self.process

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def healthy(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(
                f"taskdash serve exited with {self.proc.returncode}:\n{self.log()}"
            )
        try:
            return httpx.get(f"{self.url}/healthz", timeout=1.0).status_code == 200
        except httpx.TransportError:
            return False


@contextmanager
def serve_process(
    log_dir: Path,
    *,
    store_url: str | None = None,
    env: Mapping[str, str] | None = None,
    port: int | None = None,
    cwd: Path | None = None,
    name: str = "serve",
    start_timeout_s: float = START_TIMEOUT_S,
) -> Iterator[ServeProcess]:
    """Start `taskdash serve`, wait until /healthz answers, and kill it when the block ends.

    The server's log is printed when the block fails, so a failing test shows why.
    """
    port = port or free_port()
    args = [sys.executable, "-m", "taskdash.cli", "serve", "--host", "127.0.0.1"]
    args += ["--port", str(port)]
    if store_url:
        args += ["--store", store_url]
    log_path = log_dir / f"{name}-{port}.log"
    server = ServeProcess(
        args, log_path, env=env if env is not None else clean_env(), cwd=cwd, port=port
    )
    server.start()
    try:
        wait_until(server.healthy, timeout_s=start_timeout_s, step_s=0.05)
        yield server
    except BaseException:
        print(f"--- log of {name} (port {port}, exit {server.proc.poll()}) ---\n{server.log()}")
        raise
    finally:
        server.kill()
