"""MongoDB users (`_id` = name), sessions (`_id` = token hash) and login-failure counters."""

from __future__ import annotations

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from taskdash.domain.errors import BadRequest
from taskdash.domain.models import Role, Session, User
from taskdash.store.mongo.client import Collection, Database, Document, reading, writing


def _to_user(doc: Document) -> User:
    return User(
        name=doc["_id"],
        role=Role(doc["role"]),
        password_hash=doc["password_hash"],
        group=doc.get("group", ""),
        disabled=bool(doc.get("disabled", False)),
        lang=doc.get("lang", "zh"),
        created_at=float(doc.get("created_at", 0.0)),
    )


def user_to_document(user: User) -> Document:
    return {
        "_id": user.name,
        "role": int(user.role),
        "password_hash": user.password_hash,
        "group": user.group,
        "disabled": user.disabled,
        "lang": user.lang,
        "created_at": user.created_at,
    }


def session_to_document(session: Session) -> Document:
    return {
        "_id": session.token_hash,
        "user": session.user,
        "created_at": session.created_at,
        "expires_at": session.expires_at,
    }


def _to_session(doc: Document) -> Session:
    return Session(
        token_hash=doc["_id"],
        user=doc["user"],
        created_at=doc["created_at"],
        expires_at=doc["expires_at"],
    )


class MongoAccountRepo:
    def __init__(self, db: Database) -> None:
        self._users: Collection = db.users
        self._sessions: Collection = db.sessions
        self._failures: Collection = db.login_failures

    async def add_user(self, user: User) -> None:
        doc = user_to_document(user)
        with writing():
            try:
                await self._users.insert_one(doc)
            except DuplicateKeyError:
                raise BadRequest(f"user {user.name} already exists") from None

    async def get_user(self, name: str) -> User | None:
        with reading():
            doc = await self._users.find_one({"_id": name})
        return _to_user(doc) if doc else None

    async def list_users(self) -> list[User]:
        with reading():
            return [_to_user(doc) for doc in await self._users.find().sort("_id", 1).to_list()]

    async def update_user(
        self,
        name: str,
        *,
        password_hash: str | None = None,
        role: int | None = None,
        group: str | None = None,
        disabled: bool | None = None,
        lang: str | None = None,
    ) -> User:
        changes = {
            "password_hash": password_hash,
            "role": None if role is None else int(role),
            "group": group,
            "disabled": disabled,
            "lang": lang,
        }
        sets = {field: value for field, value in changes.items() if value is not None}
        with writing():
            if sets:
                doc = await self._users.find_one_and_update(
                    {"_id": name}, {"$set": sets}, return_document=ReturnDocument.AFTER
                )
            else:
                doc = await self._users.find_one({"_id": name})
        if doc is None:
            raise BadRequest(f"no user {name}")
        return _to_user(doc)

    async def add_session(self, session: Session) -> None:
        with writing():
            await self._sessions.insert_one(session_to_document(session))

    async def get_session(self, token_hash: str, *, now: float) -> Session | None:
        with reading():
            doc = await self._sessions.find_one({"_id": token_hash, "expires_at": {"$gt": now}})
        return _to_session(doc) if doc else None

    async def session_user(self, token_hash: str, *, now: float) -> User | None:
        # Two lookups by _id: MongoDB has no join cheaper than that for one document.
        session = await self.get_session(token_hash, now=now)
        return await self.get_user(session.user) if session else None

    async def delete_session(self, token_hash: str) -> None:
        with writing():
            await self._sessions.delete_one({"_id": token_hash})

    async def delete_user_sessions(self, user: str) -> None:
        with writing():
            await self._sessions.delete_many({"user": user})

    async def purge_sessions(self, *, now: float) -> int:
        with writing():
            result = await self._sessions.delete_many({"expires_at": {"$lte": now}})
        return result.deleted_count

    async def note_login_failure(self, key: str, *, now: float, window_s: float) -> int:
        with writing():
            counted = await self._failures.find_one_and_update(
                {"_id": key, "window_start": {"$gt": now - window_s}},
                {"$inc": {"count": 1}},
                return_document=ReturnDocument.AFTER,
            )
            if counted is not None:
                return int(counted["count"])
            # No failure in the current window: this one starts a new window.
            restart = {"$set": {"count": 1, "window_start": now}}
            try:
                await self._failures.update_one({"_id": key}, restart, upsert=True)
            except DuplicateKeyError:  # another instance inserted it first
                await self._failures.update_one({"_id": key}, restart)
        return 1

    async def login_failures(self, key: str, *, now: float, window_s: float) -> int:
        with reading():
            doc = await self._failures.find_one(
                {"_id": key, "window_start": {"$gt": now - window_s}}
            )
        return int(doc["count"]) if doc else 0

    async def clear_login_failures(self, key: str) -> None:
        with writing():
            await self._failures.delete_one({"_id": key})
