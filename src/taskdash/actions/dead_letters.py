"""Dead letters for admins: the messages that could not be applied, newest first."""

from __future__ import annotations

from dataclasses import dataclass

from taskdash.domain.models import DeadLetter
from taskdash.domain.ports import Store


@dataclass(frozen=True, slots=True)
class DeadLetterListing:
    letters: list[DeadLetter]
    total: int


async def recent_dead_letters(
    *, store: Store, limit: int, before_id: str | None
) -> DeadLetterListing:
    letters = await store.dead_letters.recent(limit=limit, before_id=before_id)
    return DeadLetterListing(letters=letters, total=await store.dead_letters.count())
