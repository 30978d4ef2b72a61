"""pynsq's records of connections we close ourselves are dropped, and only those; the rest are
logged once per kind and then counted (a burst of failed FINs is one line and a summary)."""

from __future__ import annotations

import asyncio
import logging

from taskdash.log_limits import forget_all
from taskdash.messaging.nsq_logging import closing_quietly


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def log_closing_records(conn: str, name: str) -> None:
    client = logging.getLogger("nsq.client")
    client.error("[%s:%s] ERROR: %r", conn, name, ValueError("failed to unpack size"))
    client.error(
        "[%s:%s] ERROR: %r", conn, name, ValueError("failed to send FIN (Stream is closed)")
    )
    client.error("[%s:%s] ERROR: %r", conn, name, ValueError("E_BAD_TOPIC"))
    logging.getLogger("nsq.reader").warning("[%s:%s] connection closed", conn, name)
    logging.getLogger("nsq.writer").warning("[%s] connection closed", conn)


def test_only_our_own_closes_are_quiet() -> None:
    collect = Collect()
    nsq_logger = logging.getLogger("nsq")
    nsq_logger.addHandler(collect)
    forget_all()
    try:

        async def run() -> None:
            async with closing_quietly(["t:c", "127.0.0.1:4150"]):
                log_closing_records("127.0.0.1:4150", "t:c")  # ours: all but the real error
            forget_all()
            log_closing_records("127.0.0.1:4151", "other:c")  # not ours: one line per kind

        asyncio.run(run())
    finally:
        nsq_logger.removeHandler(collect)
        forget_all()
    assert collect.messages == [
        "[127.0.0.1:4150:t:c] ERROR: ValueError('E_BAD_TOPIC')",
        "[127.0.0.1:4151:other:c] ERROR: ValueError('failed to unpack size')",
        "[127.0.0.1:4151:other:c] connection closed",
        "[127.0.0.1:4151] connection closed",
    ]
