"""Bad or misspelled settings stop `taskdash serve` with exit 2 and one line naming them."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from taskdash.settings import Settings
from tests.processes import TASKDASH_SCRIPT, clean_env
from tests.support import free_port

# A server that wrongly accepts the setting keeps running: give up on it after this.
REFUSE_WITHIN_S = 20


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("TASKDASH_SESSION_TTL_S", "inf", "TASKDASH_SESSION_TTL_S"),
        ("TASKDASH_HEARTBEAT_TIMEOUT_S", "inf", "TASKDASH_HEARTBEAT_TIMEOUT_S"),
        ("TASKDASH_CLAIM_TTL_S", "nan", "TASKDASH_CLAIM_TTL_S"),
        ("TASKDASH_METADATA_TIMEOUT_S", "-inf", "TASKDASH_METADATA_TIMEOUT_S"),
        ("TASKDASH_NSQ_CHANNEL", "", "TASKDASH_NSQ_CHANNEL"),
        ("TASKDASH_NSQ_CHANNEL", "task dash", "TASKDASH_NSQ_CHANNEL"),
        ("TASKDASH_TOPIC_TASK_REGISTER", "t" * 65, "TASKDASH_TOPIC_TASK_REGISTER"),
        ("TASKDASH_EVENTS_TOPIC", "task/events", "TASKDASH_EVENTS_TOPIC"),
        ("TASKDASH_STORE_URL", "sqlite:///", "TASKDASH_STORE_URL"),
        ("TASKDASH_CLAIM_TTL", "5", "TASKDASH_CLAIM_TTL_S"),
        ("TASKDASH_NSQD_TCP_ADRESSES", "127.0.0.1:4150", "TASKDASH_NSQD_TCP_ADDRESSES"),
    ],
)
def test_bad_setting_is_refused_in_one_line(
    tmp_path: Path, variable: str, value: str, named: str
) -> None:
    env = clean_env(TASKDASH_STORE_URL=f"sqlite:///{tmp_path / 'taskdash.db'}")
    env[variable] = value
    try:
        done = subprocess.run(
            [str(TASKDASH_SCRIPT), "serve", "--port", str(free_port())],
            capture_output=True,
            text=True,
            env=env,
            timeout=REFUSE_WITHIN_S,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"{variable}={value!r} was accepted: the server kept running") from exc
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("taskdash: ") and named in lines[0], lines[0]
    assert variable in lines[0] or variable.lower() in lines[0]


def test_nsq_names_accept_what_nsqd_accepts() -> None:
    settings = Settings(
        nsq_channel="taskdash-live.1#ephemeral", events_topic="", topic_heartbeat="h" * 64
    )
    assert settings.nsq_channel == "taskdash-live.1#ephemeral"
    assert settings.topic_heartbeat == "h" * 64
