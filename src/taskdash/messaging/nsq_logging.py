"""Quiet pynsq while we close our own connections.

pynsq reports every connection closing as trouble: a WARNING "connection closed", an ERROR
"failed to unpack size" for the read it had pending, and one per FIN it still tried to send.
When TaskDash itself closes a Reader or Writer (shutdown), those records say nothing, and an
ERROR on every clean stop teaches operators to ignore errors. Inside `closing_quietly(keys)`
they are dropped for the named clients (a Reader's `topic:channel` name, a Writer's connection
ids); anything else pynsq logs, and these same records for a connection that drops by itself,
still get through.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections import Counter
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

from taskdash.log_limits import RepeatedRecords

# The failed read of a closed connection is reported on the loop's next turns.
SETTLE_S = 0.05
# How pynsq words the errors of a connection closed under it: the pending read, and a FIN or
# RDY it tried to send afterwards.
_CLOSED = ("failed to unpack size", "Stream is closed")


class _OwnCloses(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self.closing: Counter[str] = Counter()

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        if not any(isinstance(arg, str) and self.closing[arg] > 0 for arg in args[:2]):
            return True
        message = str(record.msg)
        if message.endswith("connection closed"):
            return False
        return not ("ERROR" in message and any(sign in repr(args[-1]) for sign in _CLOSED))


class _TopicNotYetListed(logging.Filter):
    """nsqlookupd answers 404 for a topic no nsqd holds yet: normal before the first message."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        return not (str(record.msg).endswith("query error: %s") and "HTTP 404" in str(args[-1:]))


_own_closes = _OwnCloses()


@functools.cache
def install_nsq_log_filters() -> None:
    """Put our filters on pynsq's loggers, once: before the first pynsq client is made."""
    # A burst of failed FIN/REQ (627 in one case) or closed connections: once, then a count.
    repeats = RepeatedRecords()
    for name in ("nsq.client", "nsq.reader", "nsq.writer", "nsq.conn"):
        logging.getLogger(name).addFilter(_own_closes)
        logging.getLogger(name).addFilter(repeats)
    logging.getLogger("nsq.reader").addFilter(_TopicNotYetListed())


@asynccontextmanager
async def closing_quietly(keys: Iterable[str]) -> AsyncIterator[None]:
    """Close pynsq clients in the block; their own close records are not logged."""
    install_nsq_log_filters()
    names = Counter(keys)
    _own_closes.closing.update(names)
    try:
        yield
        await asyncio.sleep(SETTLE_S)
    finally:
        _own_closes.closing.subtract(names)
