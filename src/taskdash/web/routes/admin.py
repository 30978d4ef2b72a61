"""Admin pages' API: dead letters and user accounts (/api/v1, admin only)."""

from __future__ import annotations

import codecs
from typing import Annotated

from fastapi import APIRouter, Query

from taskdash.actions import accounts
from taskdash.actions import dead_letters as dead_letters_service
from taskdash.domain.models import MAX_DEAD_LETTER_BODY_BYTES, Role
from taskdash.web.deps import AdminUser, ManagerUser, StoreDep
from taskdash.web.schemas import (
    DeadLetterOut,
    DeadLetterPage,
    UserIn,
    UserOut,
    UserPatch,
    error_responses,
)

# A dead letter's id, the cursor after it: an int64 in every store (at most 19 digits).
MAX_CURSOR_DIGITS = 19

router = APIRouter(prefix="/api/v1", tags=["admin"], responses=error_responses(401, 403, 503))

# Bodies on one page of dead letters: the whole kept start of each at the default page size,
# less of each on longer pages (at most 500 letters: 8 KiB each).
PAGE_BODY_BYTES = 4 * 1024 * 1024


def body_text(start: bytes, *, whole: bool) -> str:
    """A body as text (bad bytes replaced); the start of one does not end in half a character."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    return decoder.decode(start, final=whole)


@router.get("/dead-letters")
async def dead_letters(
    user: AdminUser,
    store: StoreDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[
        str | None,
        # Decimal digits in every store ('٣' passes str.isdigit(), not this pattern).
        Query(pattern=r"^[0-9]+$", max_length=MAX_CURSOR_DIGITS, description="`next_cursor`"),
    ] = None,
) -> DeadLetterPage:
    """Messages that could not be applied, newest first, with the reason."""
    listing = await dead_letters_service.recent_dead_letters(
        store=store, limit=limit, before_id=cursor
    )
    letters = listing.letters
    shown = min(MAX_DEAD_LETTER_BODY_BYTES, PAGE_BODY_BYTES // limit)
    return DeadLetterPage(
        items=[
            DeadLetterOut(
                id=d.id,
                topic=d.topic,
                body=body_text(d.body[:shown], whole=d.size <= shown),
                reason=d.reason,
                attempts=d.attempts,
                at=d.at,
                size=d.size,
                sha256=d.sha256,
                truncated=d.size > min(len(d.body), shown),
            )
            for d in letters
        ],
        total=listing.total,
        next_cursor=letters[-1].id if len(letters) == limit else None,
    )


@router.get("/users")
async def list_users(user: ManagerUser, store: StoreDep) -> list[UserOut]:
    return [UserOut.of(u) for u in await accounts.list_users(store=store)]


@router.post("/users", status_code=201)
async def add_user(body: UserIn, user: AdminUser, store: StoreDep) -> UserOut:
    created = await accounts.create_user(
        store=store,
        name=body.name,
        role=Role.parse(body.role),
        password=body.password,
        group=body.group,
    )
    return UserOut.of(created)


@router.patch("/users/{name}")
async def update_user(name: str, body: UserPatch, user: AdminUser, store: StoreDep) -> UserOut:
    if body.password is not None:
        await accounts.change_password(store=store, name=name, password=body.password)
    if body.disabled:
        await accounts.disable_user(store=store, name=name)
    updated = await accounts.change_access(
        store=store,
        name=name,
        role=Role.parse(body.role) if body.role else None,
        group=body.group,
        disabled=body.disabled,
    )
    return UserOut.of(updated)
