"""Schemathesis over the whole /openapi.json of a live server, as every role, on both stores.

Each generated request is sent once per role; every answer must be no 5xx, and its status,
content type and body must be the ones the OpenAPI document declares (errors included).
Generation is derandomized, so a run is the same every time.
"""

from __future__ import annotations

from typing import Any

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.security.fuzzing import ROLES, RoleSessions, seed
from tests.support import INGEST_TOKEN, TOPICS, LiveServer

MAX_EXAMPLES = {GenerationMode.POSITIVE: 12, GenerationMode.NEGATIVE: 8}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# An endless stream: requests would wait for its end. tests/api/test_live_events.py covers it.
NOT_FUZZED = {("GET", "/api/v1/events")}


def passes(operation: Any, *, task_id: str) -> list[tuple[GenerationMode, dict[str, Any]]]:
    """Generated data, invalid data, and valid data with what random strings rarely hit."""
    found: list[tuple[GenerationMode, dict[str, Any]]] = [
        (GenerationMode.POSITIVE, {}),
        (GenerationMode.NEGATIVE, {}),
    ]
    if "{task_id}" in operation.path:
        found.append((GenerationMode.POSITIVE, {"path_parameters": {"task_id": task_id}}))
    if operation.path in ("/pub", "/mpub"):
        found += [(GenerationMode.POSITIVE, {"query": {"topic": topic}}) for topic in TOPICS]
    return found


def fuzz_operation(
    operation: Any,
    mode: GenerationMode,
    fixed: dict[str, Any],
    *,
    sessions: RoleSessions,
    http: requests.Session,
) -> None:
    """Send `operation`'s generated cases as every role; check each answer."""
    server = sessions.server

    @settings(
        max_examples=MAX_EXAMPLES[mode],
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode, **fixed))
    def run(case: Any) -> None:
        for role in ROLES:
            headers = {"Authorization": f"Bearer {INGEST_TOKEN}"}
            response = case.call(
                base_url=server.url,
                session=http,
                headers=headers,
                cookies=sessions.cookies(role),
                timeout=30,
            )
            case.validate_response(response, checks=CHECKS, headers=headers)
        if operation.path == "/api/v1/logout":
            sessions.renew()

    try:
        run()
    except Unsatisfiable:
        # Negative data for an operation without parameters or body: there is nothing to break.
        if mode is not GenerationMode.NEGATIVE:
            raise


def test_every_operation_as_every_role(server: LiveServer) -> None:
    sessions = seed(server)
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    fuzzed = 0
    with requests.Session() as http:
        for result in schema.get_all_operations():
            operation = result.ok()
            if (operation.method.upper(), operation.path) in NOT_FUZZED:
                continue
            for mode, fixed in passes(operation, task_id=sessions.task_id):
                fuzz_operation(operation, mode, fixed, sessions=sessions, http=http)
            fuzzed += 1
    assert fuzzed >= 20, f"only {fuzzed} operations in /openapi.json"
