"""`/metrics` behind a bearer token when TASKDASH_METRICS_TOKEN is set (issue 10, item 16)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.processes import clean_env, serve_process
from tests.support import LiveServer, make_settings

TOKEN = "metrics-9f1c2e7b5d"


def test_metrics_are_open_by_default_and_closed_by_a_token(tmp_path: Path) -> None:
    for index, token in enumerate(("", TOKEN)):
        live = LiveServer(make_settings(tmp_path / str(index), metrics_token=token)).start()
        try:
            status = live.client().get("/metrics").status_code
        finally:
            live.stop()
        assert status == (401 if token else 200)


WRONG = ("", "Bearer", f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}", TOKEN, f"Basic {TOKEN}")


@pytest.mark.parametrize("authorization", [None, *WRONG])
def test_metrics_need_the_token_when_one_is_set(tmp_path: Path, authorization: str | None) -> None:
    live = LiveServer(make_settings(tmp_path, metrics_token=TOKEN)).start()
    try:
        client = live.client()
        headers = {} if authorization is None else {"Authorization": authorization}
        refused = client.get("/metrics", headers=headers)
        assert refused.status_code == 401
        assert refused.json()["errid"] == 1004
        assert refused.headers["www-authenticate"].startswith("Bearer")
        assert TOKEN not in refused.text
        allowed = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert allowed.status_code == 200 and "# TYPE" in allowed.text
    finally:
        live.stop()


def test_the_token_is_never_logged(tmp_path: Path) -> None:
    env = clean_env(TASKDASH_METRICS_TOKEN=TOKEN, TASKDASH_LOG_LEVEL="DEBUG")
    store_url = f"sqlite:///{tmp_path / 'taskdash.db'}"
    with serve_process(tmp_path, store_url=store_url, env=env, cwd=tmp_path) as server:
        for given in ("wrong", TOKEN):
            httpx.get(f"{server.url}/metrics", headers={"Authorization": f"Bearer {given}"})
        assert httpx.get(f"{server.url}/metrics").status_code == 401
        server.stop()
        log = server.log()
    assert "listening on" in log  # the server logged (at DEBUG), and never the token
    assert TOKEN not in log
