"""MongoDB users (`_id` = name), sessions (`_id` = token hash) and login-failure counters."""

from __future__ import annotations

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from taskdash.domain.errors import BadRequest, StoreWriteError
from taskdash.domain.models import Role, Session, User
from taskdash.domain.ports import AttemptCount
from taskdash.domain.user_names import user_name_key
from taskdash.store.mongo.client import Collection, Database, Document, reading, writing

# A counter whose window lapsed is restarted by a conditional write; another request doing the
# same at that moment makes this one go round again.
_COUNT_ROUNDS = 5


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
        "name_key": user_name_key(user.name),
    }


async def ensure_user_name_keys(db: Database) -> None:
    """Give users stored before names were unique by key their `name_key` (before its index).

    Names differing only in case could be made then: the oldest keeps the key, the others get
    one that also holds their exact name, so they stay unique and log in by exact name.
    """
    users: Collection = db.users
    missing = users.find({"name_key": {"$exists": False}}, sort=[("created_at", 1), ("_id", 1)])
    async for doc in missing:
        key = user_name_key(doc["_id"])
        if await users.find_one({"name_key": key}, projection={"_id": 1}) is not None:
            key = f"{key}\0{doc['_id']}"
        await users.update_one(
            {"_id": doc["_id"], "name_key": {"$exists": False}}, {"$set": {"name_key": key}}
        )


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
                taken = await self.get_user(user.name)
                raise BadRequest(
                    f"user {taken.name if taken else user.name} already exists"
                ) from None

    async def get_user(self, name: str) -> User | None:
        with reading():
            docs = await self._users.find(
                {"$or": [{"_id": name}, {"name_key": user_name_key(name)}]}
            ).to_list(2)
        docs.sort(key=lambda doc: doc["_id"] != name)  # the exact name first
        return _to_user(docs[0]) if docs else None

    async def list_users(self) -> list[User]:
        with reading():
            return [_to_user(doc) for doc in await self._users.find().sort("_id", 1).to_list()]

    async def update_user(
        self,
        *,
        name: str,
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
        user = await self.get_user(name)
        if user is None:
            raise BadRequest(f"no user {name}")
        if not sets:
            return user
        with writing():
            doc = await self._users.find_one_and_update(
                {"_id": user.name}, {"$set": sets}, return_document=ReturnDocument.AFTER
            )
        if doc is None:
            raise BadRequest(f"no user {name}")
        return _to_user(doc)

    async def add_session(self, session: Session) -> None:
        with writing():
            await self._sessions.insert_one(session_to_document(session))

    async def get_session(self, *, token_hash: str, now: float) -> Session | None:
        with reading():
            doc = await self._sessions.find_one({"_id": token_hash, "expires_at": {"$gt": now}})
        return _to_session(doc) if doc else None

    async def session_user(self, *, token_hash: str, now: float) -> User | None:
        # Two lookups by _id: MongoDB has no join cheaper than that for one document.
        session = await self.get_session(token_hash=token_hash, now=now)
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

    async def count_login_attempt(self, *, key: str, now: float, window_s: float) -> AttemptCount:
        # Three single-document atomic steps, retried while others change the counter between
        # them: count in the open window, restart a lapsed one, or create the counter. (Not one
        # conditional upsert: a findAndModify upsert whose _id exists answers a duplicate key
        # error whose code differs between servers.)
        cutoff = now - window_s
        with writing():
            for _ in range(_COUNT_ROUNDS):
                doc = await self._failures.find_one_and_update(
                    {"_id": key, "window_start": {"$gt": cutoff}},
                    {"$inc": {"count": 1}},
                    return_document=ReturnDocument.AFTER,
                )
                if doc is not None:
                    return AttemptCount(count=int(doc["count"]), window_start=doc["window_start"])
                restarted = await self._failures.find_one_and_update(
                    {"_id": key, "window_start": {"$lte": cutoff}},
                    {"$set": {"count": 1, "window_start": now}},
                    return_document=ReturnDocument.AFTER,
                )
                if restarted is not None:
                    return AttemptCount(count=1, window_start=now)
                try:
                    await self._failures.insert_one({"_id": key, "count": 1, "window_start": now})
                except DuplicateKeyError:
                    continue  # another attempt created it first: count in its window
                return AttemptCount(count=1, window_start=now)
        raise StoreWriteError(f"login attempt counter kept changing for {_COUNT_ROUNDS} rounds")

    async def uncount_login_attempt(self, *, key: str, now: float, window_s: float) -> None:
        with writing():
            await self._failures.update_one(
                {"_id": key, "window_start": {"$gt": now - window_s}, "count": {"$gt": 0}},
                {"$inc": {"count": -1}},
            )

    async def login_failures(self, *, key: str, now: float, window_s: float) -> int:
        with reading():
            doc = await self._failures.find_one(
                {"_id": key, "window_start": {"$gt": now - window_s}}
            )
        return int(doc["count"]) if doc else 0

    async def purge_login_failures(self, *, before: float) -> int:
        with writing():
            result = await self._failures.delete_many({"window_start": {"$lte": before}})
        return result.deleted_count
