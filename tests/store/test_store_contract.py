"""The store contract: what every backend must do, run against each backend."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest
from pymongo.errors import AutoReconnect

from taskdash.domain.errors import (
    BadRequest,
    ClaimLimitReached,
    NothingToClaim,
    StoreWriteError,
    TaskNotClaimable,
    TaskNotFound,
)
from taskdash.domain.events import TaskMessage
from taskdash.domain.models import (
    CLAIMED,
    UNCLAIMED,
    DeadLetter,
    Role,
    Session,
    TaskQuery,
    User,
)
from taskdash.domain.ports import ClaimRules, Store, TaskMessageEnvelope
from taskdash.store import open_store
from taskdash.store.sqlite.schema import MIGRATIONS, SCHEMA_VERSION
from taskdash.store.sqlite.tasks import build_list_sql


@pytest.fixture(params=["sqlite", "mongo"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    if request.param == "mongo":
        url = request.getfixturevalue("mongo_url")  # a fresh database on the MongoDB test server
    else:
        url = f"sqlite:///{tmp_path / 'contract.db'}"
    opened = await open_store(url)
    try:
        yield opened
    finally:
        await opened.aclose()


def message(
    number: int,
    *,
    status: str = "",
    created: int | None = None,
    task_type: str = "satEdit",
    url: str = "http://127.0.0.1:18081/x",
) -> TaskMessage:
    return TaskMessage(
        id=f"task-{number:05d}",
        project_id="p1",
        instance_id="i1",
        task_id=f"{number:05d}",
        status=status,
        task_type=task_type,
        url=url,
        edit_info="",
        create_time=1_600_000_000 + number if created is None else created,
    )


async def ingest(store: Store, *messages: TaskMessage, kind: str = "register") -> None:
    envelopes = [
        TaskMessageEnvelope(kind=kind, message=m, ts_ns=time.time_ns() + i)  # type: ignore[arg-type]
        for i, m in enumerate(messages)
    ]
    await store.tasks.apply_messages(envelopes=envelopes, now=time.time())


def rules_for(
    user: str,
    *,
    group: str = "",
    max_claims: int = 0,
    offline: tuple[str, ...] = (),
    sees_all: bool = False,
) -> ClaimRules:
    return ClaimRules(
        user=user,
        user_group=group,
        max_claims=max_claims,
        finished_statuses=("已完成",),
        offline_origins=offline,
        sees_all=sees_all,
    )


async def test_concurrent_claims_of_one_task_have_one_winner(store: Store) -> None:
    await ingest(store, message(1))
    outcomes = await asyncio.gather(
        *(
            store.tasks.claim(task_id="task-00001", rules=rules_for(f"u{i}"), now=time.time())
            for i in range(50)
        ),
        return_exceptions=True,
    )
    winners = [o for o in outcomes if not isinstance(o, BaseException)]
    assert len(winners) == 1
    assert all(isinstance(o, TaskNotClaimable) for o in outcomes if o not in winners)
    stored = await store.tasks.get("task-00001")
    assert stored is not None and stored.user == winners[0].user and stored.status == CLAIMED


async def test_concurrent_claim_next_never_gives_a_task_twice(store: Store) -> None:
    await ingest(store, *(message(i) for i in range(20)))
    outcomes = await asyncio.gather(
        *(
            store.tasks.claim_next(
                rules=rules_for(f"u{i}"), task_type=None, project_id=None, now=time.time()
            )
            for i in range(30)
        ),
        return_exceptions=True,
    )
    claimed = [o.id for o in outcomes if not isinstance(o, BaseException)]
    assert len(claimed) == len(set(claimed)) == 20
    assert sum(isinstance(o, NothingToClaim) for o in outcomes) == 10


@pytest.mark.parametrize("how", ["claim", "claim_next"])
async def test_the_claim_limit_holds_under_concurrent_claims_by_one_user(
    store: Store, how: str
) -> None:
    await ingest(store, *(message(i) for i in range(30)))
    rules = rules_for("a", max_claims=5)

    async def claim(number: int) -> object:
        if how == "claim":
            return await store.tasks.claim(
                task_id=f"task-{number:05d}", rules=rules, now=time.time()
            )
        return await store.tasks.claim_next(
            rules=rules, task_type=None, project_id=None, now=time.time()
        )

    outcomes = await asyncio.gather(*(claim(i) for i in range(30)), return_exceptions=True)
    refused = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(outcomes) - len(refused) == 5
    assert all(isinstance(o, ClaimLimitReached) for o in refused), refused
    assert await store.tasks.count_unfinished(users=["a"], finished=("已完成",)) == {"a": 5}
    claimed = await store.tasks.find(TaskQuery(user="a", limit=100))
    assert len(claimed) == 5 and {t.status for t in claimed} == {CLAIMED}


async def test_claim_next_takes_the_oldest_of_the_requested_type(store: Store) -> None:
    await ingest(
        store,
        message(1, created=300),
        message(2, created=100, task_type="vidEdit"),
        message(3, created=200),
    )
    task = await store.tasks.claim_next(
        rules=rules_for("a"), task_type="satEdit", project_id=None, now=time.time()
    )
    assert task.id == "task-00003"


async def test_claim_refusals(store: Store) -> None:
    await ingest(store, message(1), message(2, status="编辑中"), message(3), message(4))
    with pytest.raises(TaskNotFound):
        await store.tasks.claim(task_id="nope", rules=rules_for("a"), now=time.time())
    # A task no longer unclaimed was never in a's lists: it answers as a missing one, while a
    # claimant who sees every task (a manager) is told why.
    with pytest.raises(TaskNotFound):
        await store.tasks.claim(task_id="task-00002", rules=rules_for("a"), now=time.time())
    with pytest.raises(TaskNotClaimable):
        await store.tasks.claim(
            task_id="task-00002", rules=rules_for("a", sees_all=True), now=time.time()
        )
    with pytest.raises(TaskNotClaimable):
        await store.tasks.claim(
            task_id="task-00001",
            now=time.time(),
            rules=rules_for("a", offline=("http://127.0.0.1:18081",)),
        )
    await store.tasks.claim(
        task_id="task-00001", rules=rules_for("a", max_claims=1), now=time.time()
    )
    with pytest.raises(ClaimLimitReached):
        await store.tasks.claim(
            task_id="task-00003", rules=rules_for("a", max_claims=1), now=time.time()
        )


async def test_release_and_expiry_return_tasks_to_unclaimed(store: Store) -> None:
    await ingest(store, message(1), message(2))
    start = time.time()
    await store.tasks.claim(task_id="task-00001", rules=rules_for("a"), now=start - 100)
    await store.tasks.claim(task_id="task-00002", rules=rules_for("b"), now=start)
    expired = await store.tasks.expire_claims(claimed_before=start - 50, now=start, limit=10)
    assert [t.id for t in expired] == ["task-00001"]
    released = await store.tasks.release(
        task_id="task-00002", holder="b", actor="b", action="release", now=start
    )
    assert (released.user, released.status) == ("", UNCLAIMED)
    history = await store.tasks.history(task_id="task-00001", limit=10)
    assert [e.action for e in history] == ["expire", "claim", "create"]


async def test_an_update_published_before_a_claim_cannot_undo_it(store: Store) -> None:
    before_claim_ns = time.time_ns()
    await ingest(store, message(1))
    await store.tasks.claim(task_id="task-00001", rules=rules_for("a"), now=time.time() + 1)
    await store.tasks.apply_messages(
        envelopes=[
            TaskMessageEnvelope(
                kind="update", message=message(1, status="待领取"), ts_ns=before_claim_ns
            )
        ],
        now=time.time(),
    )
    task = await store.tasks.get("task-00001")
    assert task is not None and (task.user, task.status) == ("a", CLAIMED)


async def test_a_message_leaving_out_optional_keys_blanks_nothing(store: Store) -> None:
    full = replace(message(1, url="http://127.0.0.1:18081/edit/1"), edit_info="box")
    bare = replace(message(1, status="编辑中"), url=None, edit_info=None, create_time=None)
    t0 = time.time_ns()
    # The newer bare update arrives first; the older full register must still set the fields.
    for env in (
        TaskMessageEnvelope(kind="update", message=bare, ts_ns=t0 + 10),
        TaskMessageEnvelope(kind="register", message=full, ts_ns=t0),
    ):
        await store.tasks.apply_messages(envelopes=[env], now=time.time())
    task = await store.tasks.get("task-00001")
    assert task is not None
    assert (task.url, task.edit_info, task.time, task.status) == (
        "http://127.0.0.1:18081/edit/1",
        "box",
        full.create_time,
        "编辑中",
    )
    assert (task.url_ts, task.edit_info_ts, task.time_ts, task.fields_ts) == (t0, t0, t0, t0 + 10)
    emptied = replace(bare, url="", edit_info="", create_time=0)
    await store.tasks.apply_messages(
        envelopes=[TaskMessageEnvelope(kind="update", message=emptied, ts_ns=t0 + 20)],
        now=time.time(),
    )
    task = await store.tasks.get("task-00001")
    assert task is not None
    assert (task.url, task.edit_info, task.time, task.origin) == ("", "", 0, "")


async def test_a_metadata_record_leaving_out_keys_keeps_the_stored_ones(store: Store) -> None:
    full = replace(message(1), reserved="r1")
    bare = replace(message(1, status="编辑中"), url=None, create_time=None, reserved=None)
    await store.metadata.save(records=[full], service="http://127.0.0.1:18081", now=1.0)
    await store.metadata.save(records=[bare], service="http://127.0.0.1:18081", now=2.0)
    await store.metadata.save(records=[replace(bare, id="task-00002")], service="s", now=3.0)
    records = [
        r
        async for page in store.contents.task_metadata.pages(size=10, in_key_order=True)
        for r in page
    ]
    assert [(r.id, r.url, r.time, r.reserved, r.status) for r in records] == [
        ("task-00001", full.url, full.create_time, "r1", "编辑中"),
        ("task-00002", "", 0, "", "编辑中"),
    ]


async def test_list_pages_by_cursor_without_repeats(store: Store) -> None:
    await ingest(store, *(message(i, created=1000 + i // 3) for i in range(25)))
    seen: list[str] = []
    query = TaskQuery(status=UNCLAIMED, user="", limit=7)
    while True:
        page = await store.tasks.find(query)
        seen += [t.id for t in page]
        if len(page) < query.limit:
            break
        query = TaskQuery(status=UNCLAIMED, user="", limit=7, after=(page[-1].time, page[-1].id))
    assert seen == sorted(seen, key=lambda i: (1000 + int(i[-5:]) // 3, i))
    assert len(seen) == len(set(seen)) == 25


async def test_failed_write_in_a_group_commit_leaves_the_others(store: Store) -> None:
    user = User(name="dup", role=Role.ANNOTATOR, password_hash="x", created_at=time.time())
    await store.accounts.add_user(user)
    outcomes = await asyncio.gather(
        store.accounts.add_user(user),
        *(ingest(store, message(i)) for i in range(10)),
        return_exceptions=True,
    )
    assert isinstance(outcomes[0], BadRequest)
    assert all(o is None for o in outcomes[1:])
    assert len(await store.tasks.find(TaskQuery(limit=100))) == 10


class InsertFailsOnce:
    """A collection whose next `insert_many` fails as a dropped connection would: before the
    server got it, or after it applied it (the answer lost)."""

    def __init__(self, collection: Any, *, applied: bool) -> None:
        self._collection = collection
        self._applied = applied
        self.failed = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._collection, name)

    async def insert_many(self, *args: Any, **kwargs: Any) -> Any:
        if not self.failed:
            self.failed = True
            if self._applied:
                await self._collection.insert_many(*args, **kwargs)
            raise AutoReconnect("connection closed while the task history was written")
        return await self._collection.insert_many(*args, **kwargs)


@asynccontextmanager
async def history_write_fails_once(
    store: Store, tmp_path: Path, *, applied: bool
) -> AsyncIterator[None]:
    """The next write of task history fails after the task itself was written (MongoDB) or
    within the task's transaction (SQLite: a trigger aborts it)."""
    if store.url.startswith("mongodb"):
        history = store.tasks._history  # type: ignore[attr-defined]
        history._events = events = InsertFailsOnce(history._events, applied=applied)
        try:
            yield
        finally:
            history._events = events._collection
        assert events.failed
        return
    with sqlite3.connect(tmp_path / "contract.db") as conn:
        conn.executescript(
            "CREATE TABLE fault (armed INTEGER); INSERT INTO fault VALUES (1);"
            " CREATE TRIGGER history_fault BEFORE INSERT ON task_events"
            " WHEN (SELECT armed FROM fault) BEGIN"
            " UPDATE fault SET armed = 0; SELECT RAISE(ABORT, 'history write failed'); END;"
        )
    try:
        yield
    finally:
        with sqlite3.connect(tmp_path / "contract.db") as conn:
            conn.executescript("DROP TRIGGER history_fault; DROP TABLE fault;")


@pytest.mark.parametrize("applied", [False, True], ids=["lost", "answer-lost"])
async def test_a_failure_between_task_and_history_neither_loses_nor_doubles_a_line(
    store: Store, tmp_path: Path, applied: bool
) -> None:
    register = TaskMessageEnvelope("register", message(1), ts_ns=time.time_ns())
    async with history_write_fails_once(store, tmp_path, applied=applied):
        with pytest.raises(StoreWriteError):
            await store.tasks.apply_messages(envelopes=[register], now=time.time())
    # Not FINished, so NSQ delivers the message again; and once more, for a duplicate.
    await store.tasks.apply_messages(envelopes=[register], now=time.time())
    await store.tasks.apply_messages(envelopes=[register], now=time.time())
    assert [e.action for e in await store.tasks.history(task_id="task-00001", limit=10)] == [
        "create"
    ]

    # A claim whose history write fails: whatever the task says happened, its history says
    # once (the claim stands on MongoDB, whose task write came first; SQLite undid both).
    async with history_write_fails_once(store, tmp_path, applied=applied):
        with pytest.raises(StoreWriteError):
            await store.tasks.claim(task_id="task-00001", rules=rules_for("a"), now=time.time())
    task = await store.tasks.get("task-00001")
    assert task is not None
    claims = ["claim"] if task.user == "a" else []
    history = await store.tasks.history(task_id="task-00001", limit=10)
    assert [e.action for e in history] == [*claims, "create"]
    # Later changes add their lines after it, once each.
    if task.user:
        await store.tasks.release(
            task_id="task-00001", holder="a", actor="a", action="release", now=time.time()
        )
    await store.tasks.claim(task_id="task-00001", rules=rules_for("b"), now=time.time())
    history = await store.tasks.history(task_id="task-00001", limit=10)
    released = ["release"] if task.user else []
    assert [e.action for e in history] == ["claim", *released, *claims, "create"]


async def test_dead_letters_are_kept_once_per_published_message(store: Store) -> None:
    letter = DeadLetter(
        topic="taskRegister", body=b"{", reason="invalid JSON", attempts=1, at=time.time(), key="k1"
    )
    await store.dead_letters.add([letter, letter])
    await store.dead_letters.add([letter])
    assert await store.dead_letters.count() == 1
    [kept] = await store.dead_letters.recent(limit=10, before_id=None)
    assert (kept.body, kept.reason) == (b"{", "invalid JSON")


async def test_a_batch_keeps_every_text_and_number_exactly(store: Store) -> None:
    """Odd texts (a NUL, CJK, emoji, quotes, long), large integers and a float with 17
    significant digits come back exactly as they went in, and the events keep their order."""
    odd = ["nul\x00inside", "中文", 'quote" back\\slash', "😀 \u2028", "", "x" * 5000]
    messages = [replace(message(n), edit_info=text) for n, text in enumerate(odd)]
    messages += [replace(message(n), create_time=2**62 + n) for n in range(10, 20)]
    now = 1795887767.8336575  # 17 significant digits: a 15-digit rendering would round it
    envelopes = [
        TaskMessageEnvelope("register", m, ts_ns=2**60 + i) for i, m in enumerate(messages)
    ]
    assert await store.tasks.apply_messages(envelopes=envelopes, now=now) == len(messages)
    for m in messages:
        task = await store.tasks.get(m.id)
        assert task is not None
        assert (task.edit_info, task.time, task.updated_at) == (m.edit_info, m.create_time, now)
    plain = [replace(message(n), edit_info=f"e{n}") for n in range(30, 40)]
    await store.tasks.apply_messages(
        envelopes=[TaskMessageEnvelope("register", m, ts_ns=1) for m in plain], now=now
    )
    events = await store.tasks.events_after(seq=0, limit=100)
    registered = [e.task_id for e in events if e.action == "create"]
    assert registered == [m.id for m in messages + plain]  # one event each, in order


async def test_session_user_is_the_user_of_a_live_session_only(store: Store) -> None:
    now = time.time()
    await store.accounts.add_user(User(name="smq", role=Role.ANNOTATOR, password_hash="h"))
    await store.accounts.add_session(Session("live", "smq", now, now + 60))
    await store.accounts.add_session(Session("old", "smq", now - 120, now - 60))
    await store.accounts.add_session(Session("orphan", "nobody", now, now + 60))
    user = await store.accounts.session_user(token_hash="live", now=now)
    assert user is not None and (user.name, user.role) == ("smq", Role.ANNOTATOR)
    for token in ("old", "orphan", "unknown"):
        assert await store.accounts.session_user(token_hash=token, now=now) is None
    await store.accounts.delete_session("live")
    assert await store.accounts.session_user(token_hash="live", now=now) is None


# SQLite specifics -------------------------------------------------------------------------


def _list_queries() -> list[TaskQuery]:
    filters = {
        "status": UNCLAIMED,
        "user": "a",
        "checker": "c",
        "group": "g",
        "type": "satEdit",
        "project_id": "p1",
    }
    queries = [TaskQuery()]
    for size in (1, 2):
        for names in combinations(filters, size):
            values = {name: filters[name] for name in names}
            queries.append(TaskQuery(**values))  # type: ignore[arg-type]
            queries.append(TaskQuery(**values, newest_first=True, after=(5, "x")))  # type: ignore[arg-type]
    queries.append(
        TaskQuery(
            status=UNCLAIMED,
            user="",
            groups=("", "g"),
            exclude_origins=("http://127.0.0.1:1",),
            type="satEdit",
        )
    )
    queries.append(TaskQuery(claimed_before=5.0))
    queries.append(TaskQuery(claimed_before=5.0, user="a", newest_first=True, after=(5, "x")))
    return queries


@pytest.mark.parametrize("query", _list_queries(), ids=lambda q: repr(q)[9:80])
def test_every_list_query_is_served_by_an_index(tmp_path: Path, query: TaskQuery) -> None:
    asyncio.run(_open_and_close(tmp_path / "plan.db"))
    sql, params = build_list_sql(query)
    with sqlite3.connect(tmp_path / "plan.db") as conn:
        plan = [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params)]
    assert not any(step in ("SCAN tasks", "SCAN TABLE tasks") for step in plan), plan
    assert all("USING" in step for step in plan if step.startswith("SCAN")), plan
    assert not any("TEMP B-TREE" in step for step in plan), plan


async def _open_and_close(path: Path) -> None:
    store = await open_store(f"sqlite:///{path}")
    await store.aclose()


def test_migration_keeps_each_stored_field_as_of_the_newest_message(tmp_path: Path) -> None:
    path = tmp_path / "v2.db"
    with sqlite3.connect(path) as conn:
        for migration in MIGRATIONS[:2]:
            conn.executescript(migration)
        conn.execute(
            "INSERT INTO tasks (_id, project_id, instance_id, task_id, type, url, status,"
            " updated_at, status_ts, status_src, fields_ts, rev)"
            " VALUES ('t1', 'p', 'i', 't', 'k', 'http://h/x', '待领取', 1, 5, 0, 7, 1)"
        )
        conn.execute("PRAGMA user_version=2")
    conn.close()

    async def read() -> Any:
        store = await open_store(f"sqlite:///{path}")
        try:
            return await store.tasks.get("t1")
        finally:
            await store.aclose()

    task = asyncio.run(read())
    assert (task.url, task.fields_ts) == ("http://h/x", 7)
    assert (task.url_ts, task.edit_info_ts, task.time_ts, task.reserved_ts) == (7, 7, 7, 7)


def test_schema_version_is_recorded_and_a_newer_one_refused(tmp_path: Path) -> None:
    path = tmp_path / "v.db"
    asyncio.run(_open_and_close(path))
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        conn.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    with pytest.raises(RuntimeError, match="newer"):
        asyncio.run(_open_and_close(path))
