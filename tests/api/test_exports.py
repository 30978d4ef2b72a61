"""CSV exports of the task list and of history: round trip, encoding, quoting, roles, paging."""

from __future__ import annotations

import csv
import io
import time
import tracemalloc
from typing import Any

import httpx
import pytest

from taskdash.actions import exports
from tests.api.list_data import AWKWARD, every_page, fill
from tests.api.test_rest_api import assert_error
from tests.support import LiveServer, task_body

BOM = "\ufeff"


def download(client: httpx.Client, path: str, **params: Any) -> httpx.Response:
    answer = client.get(path, params=params)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    disposition = answer.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="') and disposition.endswith('.csv"')
    return answer


def parse(answer: httpx.Response) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a CSV answer, which must start with a UTF-8 BOM."""
    assert answer.content.startswith(BOM.encode())
    header, *rows = csv.reader(io.StringIO(answer.content.decode()[1:], newline=""))
    return header, rows


def unguarded(value: str) -> str:
    """A cell as it was before the formula guard."""
    return value[1:] if value[:1] == "'" and value[1:].startswith(exports.FORMULA_STARTS) else value


def as_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def as_rows(tasks: list[dict[str, Any]], header: list[str]) -> list[list[str]]:
    return [[as_cell(task[key]) for key in header] for task in tasks]


@pytest.mark.parametrize(
    "params",
    [{}, {"sort": "status", "order": "newest"}, {"type": "satEdit", "sort": "UpdatedAt"}],
)
def test_the_csv_parsed_back_is_the_list(server: LiveServer, params: dict[str, str]) -> None:
    fill(server)
    for name in ("mgr", "ann", "chk"):
        client = server.login(name)
        header, rows = parse(download(client, "/api/v1/tasks/export.csv", **params))
        assert header[:12] == [
            "ID", "ProjectID", "InstanceID", "TaskID", "TaskType", "URL", "Status",
            "CreateTime", "User", "Checker", "Group", "Reserved",
        ]  # fmt: skip
        assert header[12:] == ["EditInfo", "ClaimedAt", "UpdatedAt", "ServiceOnline"]
        listed = every_page(client, limit=7, **params)
        assert [[unguarded(v) for v in row] for row in rows] == as_rows(listed, header), name


def test_the_csv_keeps_chinese_quotes_commas_and_line_breaks_and_guards_formulas(
    server: LiveServer,
) -> None:
    fill(server)
    answer = download(server.login("mgr"), "/api/v1/tasks/export.csv", sort="status")
    text = answer.content.decode("utf-8")
    for status in ("待领取", "编辑中", "已完成", "待检查"):
        assert f",{status}," in text
    assert '"a,b ""quoted"""' in text  # RFC 4180: quoted, quotes doubled
    assert '"line one\nline two\r\nthree"' in text
    assert text.endswith("\r\n") and text.count("\r\n") > 30
    header, rows = parse(answer)
    edit_info = {row[header.index("EditInfo")] for row in rows}
    assert {
        "'=1+1",
        "'+x",
        "'-y",
        "'@z",
        "'\tt",
        "普通",
        "line one\nline two\r\nthree",
    } <= edit_info
    assert not edit_info & {value for value in AWKWARD if value[0] in "=+-@\t"}


def test_exports_follow_the_lists_role_rules(server: LiveServer) -> None:
    ids = fill(server)
    ann = server.login("ann")
    assert_error(ann.get("/api/v1/tasks/export.csv", params={"user": "bob"}), 403, 1005)
    assert_error(server.client().get("/api/v1/tasks/export.csv"), 401, 1004)
    rows = parse(download(ann, "/api/v1/tasks/export.csv"))[1]
    exported = {row[0] for row in rows}
    assert exported == {t["ID"] for t in every_page(ann, limit=1000)}
    assert ids[2] not in exported and ids[1] in exported  # bob's is hidden, her own shown
    mine = parse(download(ann, "/api/v1/tasks/export.csv", user="ann"))[1]
    assert {row[0] for row in mine} == {ids[1], ids[5]}


def test_history_export_is_the_lines_in_the_range_each_role_may_see(server: LiveServer) -> None:
    ids = fill(server)
    mgr, ann, chk = server.login("mgr"), server.login("ann"), server.login("chk")
    header, rows = parse(download(mgr, "/api/v1/history/export.csv"))
    assert header == list(exports.HISTORY_COLUMNS)
    at = [float(row[1]) for row in rows]
    assert at == sorted(at) and len(rows) >= 30 + 6
    for row in rows:  # every line of a task matches its detail's history
        assert row[header.index("at_utc")].endswith("+00:00")
    detail = mgr.get(f"/api/v1/tasks/{ids[1]}").json()["history"]
    assert sorted(float(r[1]) for r in rows if r[3] == ids[1]) == sorted(e["at"] for e in detail)

    own = parse(download(ann, "/api/v1/history/export.csv"))[1]
    assert {row[3] for row in own} == {ids[1], ids[5]}
    checked = parse(download(chk, "/api/v1/history/export.csv"))[1]
    assert {row[3] for row in checked} == {ids[2]}

    middle = at[len(at) // 2]
    later = parse(download(mgr, "/api/v1/history/export.csv", since=middle))[1]
    earlier = parse(download(mgr, "/api/v1/history/export.csv", until=middle))[1]
    assert earlier + later == rows
    soon = time.time() + 60
    assert parse(download(mgr, "/api/v1/history/export.csv", since=soon, until=soon + 1))[1] == []
    assert_error(mgr.get("/api/v1/history/export.csv", params={"since": 5, "until": 1}), 400, 1000)


def test_a_big_export_streams_page_by_page(
    server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """3,000 tasks of 2 KB each read 100 at a time: every row once, in order, across pages
    (CreateTimes tied across page boundaries), and the server never holds the whole file."""
    monkeypatch.setattr(exports, "EXPORT_PAGE_SIZE", 100)
    server.add_user("boss", "manager")
    filler = "x" * 2000
    for start in range(0, 3000, 300):
        server.publish(
            "taskRegister",
            [
                task_body(f"big{i:05d}", created=1_700_000_000 + i // 7, EditInfo=filler)
                for i in range(start, start + 300)
            ],
        )
    client = server.login("boss")
    expected = [t["ID"] for t in every_page(client, limit=1000, order="newest")]
    assert len(expected) == 3000

    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        size = 0
        chunks: list[bytes] = []
        with client.stream("GET", "/api/v1/tasks/export.csv", params={"order": "newest"}) as r:
            for chunk in r.iter_bytes():
                size += len(chunk)
                chunks.append(chunk[:40])  # keeps only the start of each chunk
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert size > 6_000_000
    assert peak < size / 3, f"peak {peak} B while sending {size} B"
    rows = parse(download(client, "/api/v1/tasks/export.csv", order="newest"))[1]
    assert [row[0] for row in rows] == expected
