"""Acceptance property (SPEC §3): any arrival order of the same task messages, duplicates
included, ends in the state of applying them once each in publish order.

Messages may leave out (or send null for) the optional keys URL, EditInfo, CreateTime and, for
metadata records, Reserved: a key left out never blanks the stored value."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from taskdash.domain.events import decode_object, parse_metadata_record, parse_task_message
from taskdash.domain.models import UNCLAIMED, Task, TaskQuery, derive_task_id
from taskdash.domain.ports import TaskMessageEnvelope
from taskdash.store import open_store

IDENTITIES = (
    ("p1", "i1", "0001", "satEdit"),
    ("p1", "i1", "0002", "vidEdit"),
    ("projectID", "instanceID", "0210232_1220_1222_020", "satEdit"),
)
STATUSES = ("", UNCLAIMED, "编辑中", "待审核", "已完成")
URLS = ("", "http://127.0.0.1:18081/edit/1", "http://127.0.0.1:18082/edit/2")
EDIT_INFOS = ("", "box 1", "框 2")
RESERVEDS = ("", "r1", "保留")
KINDS = ("register", "update", "metadata")
# How an optional key appears in a body: with a value, left out, or null (Go: left as it is).
PRESENCE = ("value", "value", "missing", "null")
# Body key -> (Task field, the stored value when no message carried the key).
OPTIONAL_KEYS = {"URL": ("url", ""), "EditInfo": ("edit_info", ""), "CreateTime": ("time", 0)}
BASE_TS_NS = 1_600_000_000 * 10**9
PROPERTY_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@dataclasses.dataclass(frozen=True)
class Published:
    """One message as a task service published it."""

    kind: str
    body: bytes
    ts_ns: int
    identity: int
    status: str


@st.composite
def publications(draw: st.DrawFn) -> list[Published]:
    """Task messages with distinct publish timestamps, in publish order."""
    count = draw(st.integers(min_value=1, max_value=14))
    offsets = draw(
        st.lists(
            st.integers(min_value=0, max_value=10**6), min_size=count, max_size=count, unique=True
        )
    )
    messages = []
    for offset in sorted(offsets):
        identity = draw(st.integers(min_value=0, max_value=len(IDENTITIES) - 1))
        project, instance, task_id, task_type = IDENTITIES[identity]
        status = draw(st.sampled_from(STATUSES))
        given_id = draw(st.booleans())
        kind = draw(st.sampled_from(KINDS))
        body: dict[str, Any] = {
            "ID": derive_task_id(project, instance, task_id, task_type) if given_id else "",
            "ProjectID": project,
            "InstanceID": instance,
            "TaskID": task_id,
            "Status": status,
            "TaskType": task_type,
        }
        values: dict[str, st.SearchStrategy[Any]] = {
            "URL": st.sampled_from(URLS),
            "EditInfo": st.sampled_from(EDIT_INFOS),
            "CreateTime": st.integers(min_value=1_590_000_000, max_value=1_590_000_003),
        }
        if kind == "metadata":
            values["Reserved"] = st.sampled_from(RESERVEDS)
        for key, strategy in values.items():
            presence = draw(st.sampled_from(PRESENCE))
            if presence != "missing":
                body[key] = draw(strategy) if presence == "value" else None
        messages.append(
            Published(
                kind=kind,
                body=json.dumps(body, ensure_ascii=False).encode(),
                ts_ns=BASE_TS_NS + offset,
                identity=identity,
                status=status,
            )
        )
    return messages


@st.composite
def with_duplicates(draw: st.DrawFn) -> tuple[list[Published], list[Published]]:
    """(messages in publish order, the same messages with some repeated)."""
    messages = draw(publications())
    repeats = draw(st.lists(st.sampled_from(messages), max_size=len(messages)))
    return messages, messages + repeats


def envelope(message: Published) -> TaskMessageEnvelope:
    if message.kind == "metadata":
        parsed = parse_metadata_record(decode_object(message.body))
    else:
        parsed = parse_task_message(message.body)
    return TaskMessageEnvelope(
        kind=message.kind,  # type: ignore[arg-type]
        message=parsed,
        ts_ns=message.ts_ns,
    )


def comparable(task: Task) -> dict[str, Any]:
    values = dataclasses.asdict(task)
    del values["rev"], values["updated_at"]
    return values


async def final_tasks(
    db_path: Path, batches: Sequence[Sequence[Published]]
) -> dict[str, dict[str, Any]]:
    """Apply each batch with one apply_messages call on a fresh store; return every task."""
    store = await open_store(f"sqlite:///{db_path}")
    try:
        for index, batch in enumerate(batches):
            await store.tasks.apply_messages(
                envelopes=[envelope(m) for m in batch], now=1_700_000_000.0 + index
            )
        tasks = await store.tasks.find(TaskQuery(limit=1000))
    finally:
        await store.aclose()
    return {task.id: comparable(task) for task in tasks}


def apply_in_batches(db_path: Path, batches: Sequence[Sequence[Published]]) -> dict[str, Any]:
    return asyncio.run(final_tasks(db_path, batches))


def one_per_call(messages: Sequence[Published]) -> list[list[Published]]:
    return [[message] for message in messages]


def chunked(messages: Sequence[Published], sizes: Sequence[int]) -> list[list[Published]]:
    batches, start = [], 0
    for size in sizes:
        if start >= len(messages):
            break
        batches.append(list(messages[start : start + size]))
        start += size
    if start < len(messages):
        batches.append(list(messages[start:]))
    return batches


def expected_statuses(messages: Sequence[Published]) -> dict[str, str]:
    """SPEC §3 in publish order: the last update's status, else the first register's."""
    statuses: dict[str, str] = {}
    updated: set[str] = set()
    for message in sorted(messages, key=lambda m: m.ts_ns):
        task_id = derive_task_id(*IDENTITIES[message.identity])
        status = message.status or UNCLAIMED
        if message.kind != "register":  # no task has a user, so metadata is an update
            statuses[task_id] = status
            updated.add(task_id)
        elif task_id not in statuses:
            statuses[task_id] = status
    return statuses


def check_publish_order_result(
    reference: dict[str, dict[str, Any]], messages: Sequence[Published]
) -> None:
    """The publish-order state itself follows SPEC §3 (so the comparison is not vacuous)."""
    assert {task_id: task["status"] for task_id, task in reference.items()} == (
        expected_statuses(messages)
    )
    for task_id, task in reference.items():
        bodies = [
            (m.ts_ns, json.loads(m.body))
            for m in sorted(messages, key=lambda m: m.ts_ns)
            if derive_task_id(*IDENTITIES[m.identity]) == task_id
        ]
        assert task["fields_ts"] == bodies[-1][0]
        for key, (name, default) in {**OPTIONAL_KEYS, "Reserved": ("reserved", "")}.items():
            carried = [(ts, body[key]) for ts, body in bodies if body.get(key) is not None]
            # The newest message carrying the key set it; one that left it out blanked nothing.
            set_at, value = carried[-1] if carried else (0, default)
            assert task[name] == value
            assert task[f"{name}_ts"] == set_at
        assert (task["user"], task["checker"], task["group"]) == ("", "", "")


@PROPERTY_SETTINGS
@given(data=with_duplicates(), order=st.data())
def test_any_arrival_order_equals_publish_order(
    data: tuple[list[Published], list[Published]], order: st.DataObject
) -> None:
    messages, delivered = data
    arrival = order.draw(st.permutations(delivered), label="arrival order")
    with tempfile.TemporaryDirectory() as tmp:
        reference = apply_in_batches(Path(tmp, "publish.db"), one_per_call(messages))
        check_publish_order_result(reference, messages)
        assert apply_in_batches(Path(tmp, "arrival.db"), one_per_call(arrival)) == reference


@PROPERTY_SETTINGS
@given(data=with_duplicates(), order=st.data())
def test_any_arrival_order_in_batches_equals_publish_order(
    data: tuple[list[Published], list[Published]], order: st.DataObject
) -> None:
    messages, delivered = data
    arrival = order.draw(st.permutations(delivered), label="arrival order")
    sizes = order.draw(
        st.lists(st.integers(min_value=1, max_value=6), min_size=1, max_size=len(arrival)),
        label="batch sizes",
    )
    with tempfile.TemporaryDirectory() as tmp:
        reference = apply_in_batches(Path(tmp, "publish.db"), one_per_call(messages))
        batches = chunked(arrival, sizes)
        assert sum(len(batch) for batch in batches) == len(arrival)
        assert apply_in_batches(Path(tmp, "arrival.db"), batches) == reference


@PROPERTY_SETTINGS
@given(data=with_duplicates())
def test_duplicates_in_publish_order_change_nothing(
    data: tuple[list[Published], list[Published]],
) -> None:
    messages, delivered = data
    in_publish_order = sorted(delivered, key=lambda m: m.ts_ns)
    with tempfile.TemporaryDirectory() as tmp:
        reference = apply_in_batches(Path(tmp, "publish.db"), [messages])
        assert apply_in_batches(Path(tmp, "dupes.db"), one_per_call(in_publish_order)) == (
            reference
        )
