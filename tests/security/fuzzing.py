"""Shared by the fuzz tests: a live server with a user and a session of every role, and tasks."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

from taskdash.actions.accounts import token_hash
from taskdash.domain.models import Session
from taskdash.web.deps import SESSION_COOKIE
from tests.support import LiveServer, run_on_store, task_body, task_id_of

ROLES = ("annotator", "checker", "manager", "admin")
GROUP = "g1"


@dataclass
class RoleSessions:
    """A session cookie per role, made in the store (a fuzzed login must not throttle ours)."""

    server: LiveServer
    tokens: dict[str, str]
    task_id: str

    def cookies(self, role: str) -> dict[str, str]:
        return {SESSION_COOKIE: self.tokens[role]}

    def renew(self) -> None:
        """New sessions for every role (after a fuzzed logout ended one)."""
        self.tokens = {role: secrets.token_urlsafe(32) for role in ROLES}
        now = time.time()

        async def add(store: Any) -> None:
            for role, token in self.tokens.items():
                await store.accounts.add_session(
                    Session(
                        token_hash=token_hash(token),
                        user=role,
                        created_at=now,
                        expires_at=now + 3600,
                    )
                )

        run_on_store(self.server.settings, add)


def seed(server: LiveServer) -> RoleSessions:
    """Users `annotator`, `checker`, `manager`, `admin` (group g1), a few tasks, a dead letter."""
    for role in ROLES:
        server.add_user(role, role, group=GROUP)
    server.publish(
        "taskRegister",
        [task_body(f"t{n}", created=1596174700 + n) for n in range(4)]
        + [task_body("g"), task_body("s", status="编辑中")],
    )
    server.publish("taskRegister", [b"{not json"])
    sessions = RoleSessions(server=server, tokens={}, task_id=task_id_of(task_body("g")))
    sessions.renew()
    return sessions
