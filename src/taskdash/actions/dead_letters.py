"""Dead letters for admins: the messages that could not be applied, newest first."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from taskdash.domain.models import DeadLetter
from taskdash.domain.ports import DeadLetterReads


class DeadLetterStore(Protocol):
    """What listing dead letters uses of the store (a whole Store is one)."""

    @property
    def dead_letters(self) -> DeadLetterReads: ...


@dataclass(frozen=True, slots=True)
class DeadLetterListing:
    letters: list[DeadLetter]
    total: int


async def recent_dead_letters(
    *, store: DeadLetterStore, limit: int, before_id: str | None
) -> DeadLetterListing:
    letters = await store.dead_letters.recent(limit=limit, before_id=before_id)
    return DeadLetterListing(letters=letters, total=await store.dead_letters.count())
