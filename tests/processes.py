"""`taskdash serve` as a real subprocess: started, probed on /healthz, always killed and reaped."""

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
class ServeProcess:
    """One running `taskdash serve`; its stdout and stderr go to files under the test's tmp dir."""

    proc: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def healthy(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(
                f"taskdash serve exited with {self.proc.returncode}:\n{self.log()}"
            )
        try:
            return httpx.get(f"{self.url}/healthz", timeout=1.0).status_code == 200
        except httpx.TransportError:
            return False

    def kill(self) -> None:
        """SIGKILL (`kill -9`) and reap."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=STOP_TIMEOUT_S)

    def stop(self) -> int:
        """SIGTERM, wait for the graceful shutdown (SIGKILL if it hangs); the exit code."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.proc.wait()


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
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else clean_env(),
            cwd=cwd,
        )
    server = ServeProcess(proc=proc, port=port, log_path=log_path)
    try:
        wait_until(server.healthy, timeout_s=start_timeout_s, step_s=0.05)
        yield server
    except BaseException:
        print(f"--- log of {name} (port {port}, exit {proc.poll()}) ---\n{server.log()}")
        raise
    finally:
        server.kill()
