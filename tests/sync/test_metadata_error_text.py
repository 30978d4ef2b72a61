"""A failed metadata pull's error as kept and shown: bounded, no credentials from URLs."""

from __future__ import annotations

from taskdash.sync.metadata import MAX_ERROR_CHARS, shown_error


def test_urls_lose_their_credentials_query_and_fragment() -> None:
    said = shown_error(
        "ConnectError: http://admin:hunter2@db.internal:8080/x?token=s3cret#k failed;"
        " proxy https://u:pw@[::1]:3128/ refused; mongodb://root:pa55@h/db"
    )
    assert said == (
        "ConnectError: http://db.internal:8080/x?… failed;"
        " proxy https://[::1]:3128/ refused; mongodb://h/db"
    )
    for secret in ("hunter2", "s3cret", "pw@", "pa55", "admin"):
        assert secret not in said
    assert shown_error("http://a:b@h:notaport/x") == "http://…"


def test_plain_errors_stay_and_long_ones_are_cut() -> None:
    assert shown_error("timed out after 5 s") == "timed out after 5 s"
    long = shown_error("HTTP 500 from http://127.0.0.1:1/" + "x" * 1000)
    assert len(long) == MAX_ERROR_CHARS and long.endswith("…")
